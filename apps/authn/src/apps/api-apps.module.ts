import { Module } from '@nestjs/common';
import { TenantCheck } from '../policy/tenant-check.js';
import { ApiAppHandler } from './api-app.handler.js';
import { ApiAppRepository } from './api-app.repository.js';
import { ApiAppService } from './api-app.service.js';

/** Registered API applications: their refresh tokens, the token endpoint, and their access tokens. */
@Module({ controllers: [ApiAppHandler], providers: [ApiAppRepository, ApiAppService, TenantCheck] })
export class ApiAppsModule {}
