import { Module } from '@nestjs/common';
import { LoginModule } from '../login/login.module.js';
import { ApiAppHandler } from './api-app.handler.js';
import { ApiAppRepository } from './api-app.repository.js';
import { ApiAppService } from './api-app.service.js';

/** Registered API applications: their refresh tokens, the token endpoint, and their access tokens. */
@Module({ imports: [LoginModule], controllers: [ApiAppHandler], providers: [ApiAppRepository, ApiAppService] })
export class ApiAppsModule {}
