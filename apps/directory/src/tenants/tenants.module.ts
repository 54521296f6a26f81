import { Module } from '@nestjs/common';
import { TenantRepository } from './tenant.repository.js';
import { TenantsHandler } from './tenants.handler.js';
import { TenantsService } from './tenants.service.js';

@Module({
  controllers: [TenantsHandler],
  providers: [TenantsService, TenantRepository],
  exports: [TenantsService, TenantRepository],
})
export class TenantsModule {}
