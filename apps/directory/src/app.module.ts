import { Module } from '@nestjs/common';
import { DomainsModule } from './domains/domains.module.js';
import { GroupsModule } from './groups/groups.module.js';
import { JobsModule } from './jobs/jobs.module.js';
import { TenantsModule } from './tenants/tenants.module.js';
import { UsersModule } from './users/users.module.js';

@Module({ imports: [DomainsModule, JobsModule, TenantsModule, UsersModule, GroupsModule] })
export class AppModule {}
