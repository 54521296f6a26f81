import { Module } from '@nestjs/common';
import { ApiAppsModule } from './apps/api-apps.module.js';
import { LoginModule } from './login/login.module.js';

@Module({ imports: [LoginModule, ApiAppsModule] })
export class AppModule {}
