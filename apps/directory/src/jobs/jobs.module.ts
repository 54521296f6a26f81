import { Global, Module } from '@nestjs/common';
import { TenantsModule } from '../tenants/tenants.module.js';
import { JobFiles } from './job-files.js';
import { JobRepository } from './job.repository.js';
import { JobRunner } from './job-runner.js';
import { JobsHandler } from './jobs.handler.js';
import { JobsService } from './jobs.service.js';
import { JobKinds } from './kinds.js';

/**
 * Bulk CSV jobs. `JobKinds` is global: the users and groups features register
 * their importers and exporters with it.
 */
@Global()
@Module({
  imports: [TenantsModule],
  controllers: [JobsHandler],
  providers: [JobKinds, JobRepository, JobFiles, JobRunner, JobsService],
  exports: [JobKinds],
})
export class JobsModule {}
