import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Patch, Post, Query, Res, type PipeTransform } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import {
  GroupCreateBody,
  GroupEffectiveUserView,
  GroupListQuery,
  GroupMemberKind,
  GroupMemberListQuery,
  GroupMembersAddBody,
  GroupMembersAddReply,
  GroupMemberView,
  GroupSort,
  GroupType,
  GroupUpdateBody,
  GroupView,
  Page,
  type CallContext,
  type GroupMemberRef,
  type GroupView as GroupViewT,
} from '@musubi/contracts';
import { BusClient } from '@musubi/platform/bus';
import { validationError } from '@musubi/platform/errors';
import { validate } from '@musubi/platform/validation';
import { Requires } from '../auth/auth.decorator.js';
import { Call } from '../http/request-context.js';
import { SchemaPipe } from '../http/schema.pipe.js';
import { ApiDoc } from '../openapi/api-doc.decorator.js';
import { etagOf, expectedVersion } from './etag.js';
import { PageQuery, UuidParam, pageQueryDoc, type PageParams } from './params.js';

/**
 * A query string checked against a contract schema: `limit` is read as a
 * number first, everything else stays text; unknown parameters, repeated
 * ones and bad values are 400 with `/query/<name>` named.
 */
export class QuerySchemaPipe<S extends TSchema> implements PipeTransform<Record<string, unknown>, Static<S>> {
  constructor(private readonly schema: S) {}

  transform(q: Record<string, unknown>): Static<S> {
    const input: Record<string, unknown> = { ...(q ?? {}) };
    const limit = input['limit'];
    if (limit !== undefined) input['limit'] = typeof limit === 'string' && /^\d{1,3}$/.test(limit) ? Number(limit) : limit;
    const checked = validate(this.schema, input);
    if (!checked.ok) throw validationError(checked.details.map((d) => ({ ...d, pointer: `/query${d.pointer}` })), 'The query string is invalid.');
    return checked.value;
  }
}

const listQueryDoc = {
  ...pageQueryDoc,
  sort: { schema: GroupSort, description: 'name (default), -name, createdAt or -createdAt' },
  q: { schema: Type.String({ maxLength: 200 }), description: 'Groups whose name contains this, whatever its case' },
  prefix: { schema: Type.String({ maxLength: 200 }), description: 'Groups whose name starts with this, whatever its case' },
  type: { schema: GroupType, description: 'Groups of this type only' },
};

/** /api/v1/tenants/{tenantId}/groups: groups, members, effective membership. */
@Controller('api/v1/tenants/:tenantId/groups')
export class GroupsController {
  constructor(protected readonly bus: BusClient) {}

  @Post()
  @HttpCode(201)
  @Requires('groups:write')
  @ApiDoc({
    summary: 'Create a group',
    tag: 'Groups',
    status: 201,
    body: GroupCreateBody,
    example: { name: '営業部', email: 'sales@acme.example', description: '東京本社の営業', type: 'organization' },
    response: GroupView,
    errors: [409],
  })
  async create(
    @Param('tenantId', new UuidParam()) tenantId: string,
    @Body(new SchemaPipe(GroupCreateBody)) body: GroupCreateBody,
    @Call() ctx: CallContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<GroupViewT> {
    const group = await this.bus.request('musubi.directory.group.create.v1', { ...body, tenantId }, { ...ctx, tenantId });
    reply.header('location', `/api/v1/tenants/${tenantId}/groups/${group.id}`).header('etag', etagOf(group));
    return group;
  }

  @Get()
  @Requires('groups:read')
  @ApiDoc({ summary: "List a tenant's groups, by name or creation, filtered by name or type", tag: 'Groups', status: 200, response: Page(GroupView), query: listQueryDoc })
  list(@Param('tenantId', new UuidParam()) tenantId: string, @Query(new QuerySchemaPipe(GroupListQuery)) query: GroupListQuery, @Call() ctx: CallContext) {
    return this.bus.request('musubi.directory.group.list.v1', { ...query, tenantId }, { ...ctx, tenantId });
  }

  @Get(':groupId')
  @Requires('groups:read')
  @ApiDoc({ summary: 'Read a group', tag: 'Groups', status: 200, response: GroupView })
  async get(
    @Param('tenantId', new UuidParam()) tenantId: string,
    @Param('groupId', new UuidParam()) groupId: string,
    @Call() ctx: CallContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<GroupViewT> {
    const group = await this.bus.request('musubi.directory.group.get.v1', { tenantId, groupId }, { ...ctx, tenantId });
    reply.header('etag', etagOf(group));
    return group;
  }

  @Patch(':groupId')
  @Requires('groups:write')
  @ApiDoc({
    summary: "Change a group's name, email, description or type; If-Match with the ETag read",
    tag: 'Groups',
    status: 200,
    body: GroupUpdateBody,
    example: { description: '大阪支社を含む営業', email: null },
    response: GroupView,
    errors: [409, 412],
  })
  async update(
    @Param('tenantId', new UuidParam()) tenantId: string,
    @Param('groupId', new UuidParam()) groupId: string,
    @Body(new SchemaPipe(GroupUpdateBody)) changes: GroupUpdateBody,
    @Headers('if-match') ifMatch: string | undefined,
    @Call() ctx: CallContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<GroupViewT> {
    const version = expectedVersion(ifMatch);
    const group = await this.bus.request(
      'musubi.directory.group.update.v1',
      { tenantId, groupId, changes, ...(version ? { expectedVersion: version } : {}) },
      { ...ctx, tenantId },
    );
    reply.header('etag', etagOf(group));
    return group;
  }

  @Delete(':groupId')
  @HttpCode(204)
  @Requires('groups:write')
  @ApiDoc({ summary: 'Delete a group, with its memberships in both directions; If-Match with the ETag read', tag: 'Groups', status: 204, response: null, errors: [409, 412] })
  async delete(
    @Param('tenantId', new UuidParam()) tenantId: string,
    @Param('groupId', new UuidParam()) groupId: string,
    @Headers('if-match') ifMatch: string | undefined,
    @Call() ctx: CallContext,
  ): Promise<void> {
    const version = expectedVersion(ifMatch);
    await this.bus.request('musubi.directory.group.delete.v1', { tenantId, groupId, ...(version ? { expectedVersion: version } : {}) }, { ...ctx, tenantId });
  }

  @Post(':groupId/members')
  @HttpCode(200)
  @Requires('groups:write')
  @ApiDoc({
    summary: 'Add users and groups to a group, all or none (each one that cannot be added is named; a group that would contain itself is group_cycle)',
    tag: 'Groups',
    status: 200,
    body: GroupMembersAddBody,
    example: {
      members: [
        { kind: 'user', id: '0190f5d2-7c1e-7a3b-9c4d-5e6f7a8b9c0d' },
        { kind: 'group', id: '0190f5d2-7c1e-7a3b-9c4d-5e6f7a8b9c0e' },
      ],
    },
    response: GroupMembersAddReply,
    errors: [409],
  })
  addMembers(
    @Param('tenantId', new UuidParam()) tenantId: string,
    @Param('groupId', new UuidParam()) groupId: string,
    @Body(new SchemaPipe(GroupMembersAddBody)) body: GroupMembersAddBody,
    @Call() ctx: CallContext,
  ) {
    return this.bus.request('musubi.directory.group.members-add.v1', { tenantId, groupId, members: body.members }, { ...ctx, tenantId });
  }

  @Get(':groupId/members')
  @Requires('groups:read')
  @ApiDoc({
    summary: "List a group's direct members, groups first",
    tag: 'Groups',
    status: 200,
    response: Page(GroupMemberView),
    query: { ...pageQueryDoc, kind: { schema: GroupMemberKind, description: 'Users or groups only' } },
  })
  listMembers(
    @Param('tenantId', new UuidParam()) tenantId: string,
    @Param('groupId', new UuidParam()) groupId: string,
    @Query(new QuerySchemaPipe(GroupMemberListQuery)) query: GroupMemberListQuery,
    @Call() ctx: CallContext,
  ) {
    return this.bus.request('musubi.directory.group.members-list.v1', { ...query, tenantId, groupId }, { ...ctx, tenantId });
  }

  @Delete(':groupId/members/users/:userId')
  @HttpCode(204)
  @Requires('groups:write')
  @ApiDoc({ summary: 'Remove a user from a group (a direct member)', tag: 'Groups', status: 204, response: null, errors: [409] })
  async removeUser(
    @Param('tenantId', new UuidParam()) tenantId: string,
    @Param('groupId', new UuidParam()) groupId: string,
    @Param('userId', new UuidParam()) userId: string,
    @Call() ctx: CallContext,
  ): Promise<void> {
    await this.remove(tenantId, groupId, { kind: 'user', id: userId }, ctx);
  }

  @Delete(':groupId/members/groups/:memberGroupId')
  @HttpCode(204)
  @Requires('groups:write')
  @ApiDoc({ summary: 'Remove a nested group from a group (a direct member)', tag: 'Groups', status: 204, response: null, errors: [409] })
  async removeGroup(
    @Param('tenantId', new UuidParam()) tenantId: string,
    @Param('groupId', new UuidParam()) groupId: string,
    @Param('memberGroupId', new UuidParam()) memberGroupId: string,
    @Call() ctx: CallContext,
  ): Promise<void> {
    await this.remove(tenantId, groupId, { kind: 'group', id: memberGroupId }, ctx);
  }

  @Get(':groupId/effective-users')
  @Requires('groups:read')
  @ApiDoc({
    summary: 'List the users in a group directly or through nested groups, each once with its shortest depth, by user id',
    tag: 'Groups',
    status: 200,
    response: Page(GroupEffectiveUserView),
    query: pageQueryDoc,
  })
  effectiveUsers(
    @Param('tenantId', new UuidParam()) tenantId: string,
    @Param('groupId', new UuidParam()) groupId: string,
    @Query(new PageQuery()) page: PageParams,
    @Call() ctx: CallContext,
  ) {
    return this.bus.request('musubi.directory.group.effective-users-list.v1', { ...page, tenantId, groupId }, { ...ctx, tenantId });
  }

  private async remove(tenantId: string, groupId: string, member: GroupMemberRef, ctx: CallContext): Promise<void> {
    await this.bus.request('musubi.directory.group.member-remove.v1', { tenantId, groupId, member }, { ...ctx, tenantId });
  }
}
