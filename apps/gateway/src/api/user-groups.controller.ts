import { Controller, Get, Param, Query } from '@nestjs/common';
import { Page, UserGroupMembershipView, type CallContext } from '@musubi/contracts';
import { BusClient } from '@musubi/platform/bus';
import { Requires } from '../auth/auth.decorator.js';
import { Call } from '../http/request-context.js';
import { ApiDoc } from '../openapi/api-doc.decorator.js';
import { PageQuery, UuidParam, pageQueryDoc, type PageParams } from './params.js';

/** /api/v1/tenants/{tenantId}/users/{userId}/groups: the groups a user is in, directly or through nesting. */
@Controller('api/v1/tenants/:tenantId/users/:userId/groups')
export class UserGroupsController {
  constructor(private readonly bus: BusClient) {}

  @Get()
  @Requires('groups:read')
  @ApiDoc({
    summary: "List a user's groups, direct (depth 0) and through nested groups, by name",
    tag: 'Groups',
    status: 200,
    response: Page(UserGroupMembershipView),
    query: pageQueryDoc,
  })
  list(
    @Param('tenantId', new UuidParam()) tenantId: string,
    @Param('userId', new UuidParam()) userId: string,
    @Query(new PageQuery()) page: PageParams,
    @Call() ctx: CallContext,
  ) {
    return this.bus.request('musubi.directory.group.user-groups-list.v1', { ...page, tenantId, userId }, { ...ctx, tenantId });
  }
}
