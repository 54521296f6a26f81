import { Global, Module } from '@nestjs/common';
import { GroupsModule } from '../groups/groups.module.js';
import { TenantsModule } from '../tenants/tenants.module.js';
import { UsersModule } from '../users/users.module.js';
import { JobFiles } from './job-files.js';
import { JobRepository } from './job.repository.js';
import { JobRunner } from './job-runner.js';
import { JobsHandler } from './jobs.handler.js';
import { JobsService } from './jobs.service.js';
import { JobKinds } from './kinds.js';
import { GroupsCsv } from './kinds/groups-csv.js';
import { CsvKindsRegistration } from './kinds/register.js';
import { UsersCsv } from './kinds/users-csv.js';

/**
 * Bulk CSV jobs: the job runner, and the importers and exporters of users,
 * groups and group members (jobs/kinds), registered in `JobKinds`.
 */
@Global()
@Module({
  imports: [TenantsModule, UsersModule, GroupsModule],
  controllers: [JobsHandler],
  providers: [JobKinds, JobRepository, JobFiles, JobRunner, JobsService, UsersCsv, GroupsCsv, CsvKindsRegistration],
  exports: [JobKinds],
})
export class JobsModule {}
