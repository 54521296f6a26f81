import { Controller } from '@nestjs/common';
import type { CallContext, ReplyOf, RequestOf } from '@musubi/contracts';
import { Handles } from '@musubi/platform/bus';
import { GroupsService } from './groups.service.js';

@Controller()
export class GroupsHandler {
  constructor(private readonly groups: GroupsService) {}

  @Handles('musubi.directory.group.create.v1')
  create(req: RequestOf<'musubi.directory.group.create.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.directory.group.create.v1'>> {
    return this.groups.create(req, ctx);
  }

  @Handles('musubi.directory.group.get.v1')
  get(req: RequestOf<'musubi.directory.group.get.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.directory.group.get.v1'>> {
    return this.groups.get(req, ctx);
  }

  @Handles('musubi.directory.group.list.v1')
  list(req: RequestOf<'musubi.directory.group.list.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.directory.group.list.v1'>> {
    return this.groups.list(req, ctx);
  }

  @Handles('musubi.directory.group.update.v1')
  update(req: RequestOf<'musubi.directory.group.update.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.directory.group.update.v1'>> {
    return this.groups.update(req, ctx);
  }

  @Handles('musubi.directory.group.delete.v1')
  delete(req: RequestOf<'musubi.directory.group.delete.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.directory.group.delete.v1'>> {
    return this.groups.delete(req, ctx);
  }

  @Handles('musubi.directory.group.members-add.v1')
  addMembers(req: RequestOf<'musubi.directory.group.members-add.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.directory.group.members-add.v1'>> {
    return this.groups.addMembers(req, ctx);
  }

  @Handles('musubi.directory.group.member-remove.v1')
  removeMember(req: RequestOf<'musubi.directory.group.member-remove.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.directory.group.member-remove.v1'>> {
    return this.groups.removeMember(req, ctx);
  }

  @Handles('musubi.directory.group.members-list.v1')
  listMembers(req: RequestOf<'musubi.directory.group.members-list.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.directory.group.members-list.v1'>> {
    return this.groups.listMembers(req, ctx);
  }

  @Handles('musubi.directory.group.effective-users-list.v1')
  listEffectiveUsers(
    req: RequestOf<'musubi.directory.group.effective-users-list.v1'>,
    ctx: CallContext,
  ): Promise<ReplyOf<'musubi.directory.group.effective-users-list.v1'>> {
    return this.groups.listEffectiveUsers(req, ctx);
  }

  @Handles('musubi.directory.group.user-groups-list.v1')
  listUserGroups(
    req: RequestOf<'musubi.directory.group.user-groups-list.v1'>,
    ctx: CallContext,
  ): Promise<ReplyOf<'musubi.directory.group.user-groups-list.v1'>> {
    return this.groups.listUserGroups(req, ctx);
  }
}
