import { Module } from '@nestjs/common';
import { ApiAppsModule } from './apps/api-apps.module.js';
import { LoginModule } from './login/login.module.js';
import { AccountMailsModule } from './mail/account-mails.module.js';

@Module({ imports: [LoginModule, ApiAppsModule, AccountMailsModule] })
export class AppModule {}
