import { Module } from '@nestjs/common';
import { TenantsModule } from '../tenants/tenants.module.js';
import { GroupMembershipRepository } from './group-membership.repository.js';
import { GroupRepository } from './group.repository.js';
import { GroupsHandler } from './groups.handler.js';
import { GroupsService } from './groups.service.js';

/** Groups, their members (users and groups) and effective membership. Exports the repositories for bulk jobs (CSV). */
@Module({
  imports: [TenantsModule],
  controllers: [GroupsHandler],
  providers: [GroupsService, GroupRepository, GroupMembershipRepository],
  exports: [GroupRepository, GroupMembershipRepository],
})
export class GroupsModule {}
