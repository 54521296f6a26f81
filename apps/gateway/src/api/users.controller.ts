import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Patch, Post, Query, Res, type PipeTransform } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Type } from '@sinclair/typebox';
import {
  Page,
  TemporaryPasswordIssueReply,
  UserCreateBody,
  UserLifecycleBody,
  UserListQuery,
  UserStatus,
  UserUpdateBody,
  UserView,
  USER_SORTS,
  type CallContext,
  type UserView as UserViewT,
} from '@musubi/contracts';
import { BusClient } from '@musubi/platform/bus';
import { Requires } from '../auth/auth.decorator.js';
import { Call } from '../http/request-context.js';
import { SchemaPipe } from '../http/schema.pipe.js';
import { ApiDoc } from '../openapi/api-doc.decorator.js';
import { etagOf, expectedVersion } from './etag.js';
import { QuerySchemaPipe } from './groups.controller.js';
import { UuidParam, pageQueryDoc } from './params.js';

const listQueryDoc = {
  ...pageQueryDoc,
  sort: { schema: Type.Union(USER_SORTS.map((s) => Type.Literal(s))), description: `${USER_SORTS.join(', ')} (default loginId)` },
  order: { schema: Type.Union([Type.Literal('asc'), Type.Literal('desc')]), description: 'asc (default) or desc' },
  status: { schema: UserStatus, description: 'Users in this status only' },
  domain: { schema: Type.String({ maxLength: 253 }), description: "Users whose login ID is in this domain (e.g. acme.co.jp)" },
  groupId: { schema: Type.String({ format: 'uuid' }), description: 'Users in this group, directly or through nested groups' },
  q: {
    schema: Type.String({ maxLength: 100 }),
    description: 'Search: every word must start a word of the login ID, names, kana (hiragana finds katakana), display name, emails, external or application-linking ID; `@acme` the domain',
  },
};

/** A lifecycle body is optional: none, or `{ "reason": "…" }`. */
class LifecycleBodyPipe implements PipeTransform<unknown, UserLifecycleBody> {
  private readonly inner = new SchemaPipe(UserLifecycleBody);

  transform(value: unknown): UserLifecycleBody {
    return value === undefined || value === null || value === '' ? {} : this.inner.transform(value);
  }
}

const lifecycleExample = { reason: '退職のため (HR-2026-0412)' };

/**
 * /api/v1/tenants/{tenantId}/users: users, their profile and lifecycle.
 * Single users carry an ETag ("v<version>"); every change takes an optional
 * If-Match with it and answers 412 when the user changed meanwhile.
 */
@Controller('api/v1/tenants/:tenantId/users')
export class UsersController {
  constructor(private readonly bus: BusClient) {}

  @Post()
  @HttpCode(201)
  @Requires('users:write')
  @ApiDoc({
    summary: "Create a user (login ID in one of the tenant's verified domains or its platform sub-domain); roles need roles:write",
    tag: 'Users',
    status: 201,
    body: UserCreateBody,
    example: {
      loginId: 'taro.yamada@acme.musubi.localhost',
      familyName: '山田',
      givenName: '太郎',
      familyNameKana: 'ヤマダ',
      givenNameKana: 'タロウ',
      email: 'taro.yamada@acme.example',
      department: '営業部',
      title: '課長',
      locale: 'ja-JP',
      phones: [{ name: '直通', value: 'tel:+81-3-1234-5678', type: 'work' }],
      ims: [{ value: 'taro.yamada', type: 'slack' }],
      personalMobile: 'tel:+81-90-1234-5678',
      appLinkingId: 'E10042',
    },
    response: UserView,
    errors: [403, 409],
  })
  async create(
    @Param('tenantId', new UuidParam()) tenantId: string,
    @Body(new SchemaPipe(UserCreateBody)) body: UserCreateBody,
    @Call() ctx: CallContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<UserViewT> {
    const user = await this.bus.request('musubi.directory.user.create.v1', { ...body, tenantId }, { ...ctx, tenantId });
    reply.header('location', `/api/v1/tenants/${tenantId}/users/${user.id}`).header('etag', etagOf(user));
    return user;
  }

  @Get()
  @Requires('users:read')
  @ApiDoc({
    summary: "List a tenant's users: sorted either way, filtered by status, group (effective), domain, searched; cursor pages",
    tag: 'Users',
    status: 200,
    response: Page(UserView),
    query: listQueryDoc,
  })
  list(@Param('tenantId', new UuidParam()) tenantId: string, @Query(new QuerySchemaPipe(UserListQuery)) query: UserListQuery, @Call() ctx: CallContext) {
    return this.bus.request('musubi.directory.user.list.v1', { ...query, tenantId }, { ...ctx, tenantId });
  }

  @Get(':userId')
  @Requires('users:read')
  @ApiDoc({ summary: 'Read a user (its ETag is its version)', tag: 'Users', status: 200, response: UserView })
  async get(
    @Param('tenantId', new UuidParam()) tenantId: string,
    @Param('userId', new UuidParam()) userId: string,
    @Call() ctx: CallContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<UserViewT> {
    const user = await this.bus.request('musubi.directory.user.get.v1', { tenantId, userId }, { ...ctx, tenantId });
    reply.header('etag', etagOf(user));
    return user;
  }

  @Patch(':userId')
  @Requires('users:write')
  @ApiDoc({
    summary: "Change a user's attributes (absent: unchanged, null: cleared, a list replaces the list); roles need roles:write; If-Match with the ETag read",
    tag: 'Users',
    status: 200,
    body: UserUpdateBody,
    example: { department: '大阪支社 営業部', title: null, phones: [{ name: '代表', value: '+81662345678', type: 'work' }] },
    response: UserView,
    errors: [403, 409, 412],
  })
  async update(
    @Param('tenantId', new UuidParam()) tenantId: string,
    @Param('userId', new UuidParam()) userId: string,
    @Body(new SchemaPipe(UserUpdateBody)) changes: UserUpdateBody,
    @Headers('if-match') ifMatch: string | undefined,
    @Call() ctx: CallContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<UserViewT> {
    const version = expectedVersion(ifMatch);
    const user = await this.bus.request('musubi.directory.user.update.v1', { tenantId, userId, changes, ...(version ? { expectedVersion: version } : {}) }, { ...ctx, tenantId });
    reply.header('etag', etagOf(user));
    return user;
  }

  @Post(':userId/disable')
  @HttpCode(200)
  @Requires('users:write')
  @ApiDoc({
    summary: 'Disable an active user: they cannot sign in until enabled; optional reason for the audit trail; If-Match with the ETag read',
    tag: 'Users',
    status: 200,
    body: UserLifecycleBody,
    example: { reason: '休職中' },
    response: UserView,
    errors: [403, 409, 412],
  })
  disable(
    @Param('tenantId', new UuidParam()) tenantId: string,
    @Param('userId', new UuidParam()) userId: string,
    @Body(new LifecycleBodyPipe()) body: UserLifecycleBody,
    @Headers('if-match') ifMatch: string | undefined,
    @Call() ctx: CallContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<UserViewT> {
    return this.lifecycle('musubi.directory.user.disable.v1', tenantId, userId, body, ifMatch, ctx, reply);
  }

  @Post(':userId/enable')
  @HttpCode(200)
  @Requires('users:write')
  @ApiDoc({
    summary: 'Enable a disabled user; optional reason; If-Match with the ETag read',
    tag: 'Users',
    status: 200,
    body: UserLifecycleBody,
    example: { reason: '復職' },
    response: UserView,
    errors: [403, 409, 412],
  })
  enable(
    @Param('tenantId', new UuidParam()) tenantId: string,
    @Param('userId', new UuidParam()) userId: string,
    @Body(new LifecycleBodyPipe()) body: UserLifecycleBody,
    @Headers('if-match') ifMatch: string | undefined,
    @Call() ctx: CallContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<UserViewT> {
    return this.lifecycle('musubi.directory.user.enable.v1', tenantId, userId, body, ifMatch, ctx, reply);
  }

  @Delete(':userId')
  @HttpCode(200)
  @Requires('users:write')
  @ApiDoc({
    summary:
      "Delete a user: pending deletion (cannot sign in, keeps its login ID), restorable until the tenant's retention has passed, then purged; optional reason; If-Match with the ETag read",
    tag: 'Users',
    status: 200,
    body: UserLifecycleBody,
    example: lifecycleExample,
    response: UserView,
    errors: [403, 409, 412],
  })
  delete(
    @Param('tenantId', new UuidParam()) tenantId: string,
    @Param('userId', new UuidParam()) userId: string,
    @Body(new LifecycleBodyPipe()) body: UserLifecycleBody,
    @Headers('if-match') ifMatch: string | undefined,
    @Call() ctx: CallContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<UserViewT> {
    return this.lifecycle('musubi.directory.user.delete.v1', tenantId, userId, body, ifMatch, ctx, reply);
  }

  @Post(':userId/restore')
  @HttpCode(200)
  @Requires('users:write')
  @ApiDoc({
    summary: 'Restore a user pending deletion to the status it had; optional reason; If-Match with the ETag read',
    tag: 'Users',
    status: 200,
    body: UserLifecycleBody,
    example: { reason: '誤って削除したため' },
    response: UserView,
    errors: [403, 409, 412],
  })
  restore(
    @Param('tenantId', new UuidParam()) tenantId: string,
    @Param('userId', new UuidParam()) userId: string,
    @Body(new LifecycleBodyPipe()) body: UserLifecycleBody,
    @Headers('if-match') ifMatch: string | undefined,
    @Call() ctx: CallContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<UserViewT> {
    return this.lifecycle('musubi.directory.user.restore.v1', tenantId, userId, body, ifMatch, ctx, reply);
  }

  /** Issues a one-time password, shown once in this response; the user must change it at first sign-in. */
  @Post(':userId/temporary-password')
  @HttpCode(201)
  @Requires('users:credentials')
  @ApiDoc({ summary: 'Issue a one-time password for a user', tag: 'Users', status: 201, response: TemporaryPasswordIssueReply })
  async temporaryPassword(
    @Param('tenantId', new UuidParam()) tenantId: string,
    @Param('userId', new UuidParam()) userId: string,
    @Call() ctx: CallContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    reply.header('cache-control', 'no-store');
    return this.bus.request('musubi.authn.temporary-password.issue.v1', { tenantId, userId }, { ...ctx, tenantId });
  }

  private async lifecycle(
    subject: 'musubi.directory.user.disable.v1' | 'musubi.directory.user.enable.v1' | 'musubi.directory.user.delete.v1' | 'musubi.directory.user.restore.v1',
    tenantId: string,
    userId: string,
    body: UserLifecycleBody,
    ifMatch: string | undefined,
    ctx: CallContext,
    reply: FastifyReply,
  ): Promise<UserViewT> {
    const version = expectedVersion(ifMatch);
    const user = await this.bus.request(subject, { tenantId, userId, ...body, ...(version ? { expectedVersion: version } : {}) }, { ...ctx, tenantId });
    reply.header('etag', etagOf(user));
    return user;
  }
}
