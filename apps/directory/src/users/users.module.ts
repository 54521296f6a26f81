import { Module } from '@nestjs/common';
import { TenantsModule } from '../tenants/tenants.module.js';
import { UserPurgeJob } from './user-purge.job.js';
import { UserRepository } from './user.repository.js';
import { UsersHandler } from './users.handler.js';
import { UsersService } from './users.service.js';

/** Users, their lifecycle and the purge of deleted ones. Exports the service and repository for bulk jobs (CSV import). */
@Module({
  imports: [TenantsModule],
  controllers: [UsersHandler],
  providers: [UsersService, UserRepository, UserPurgeJob],
  exports: [UsersService, UserRepository],
})
export class UsersModule {}
