import { Body, Controller, HttpCode, Param, Post, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { TemporaryPasswordIssueReply, UserCreateBody, UserView, type CallContext, type UserView as UserViewT } from '@musubi/contracts';
import { BusClient } from '@musubi/platform/bus';
import { OperatorOnly, Requires } from '../auth/auth.decorator.js';
import { Call } from '../http/request-context.js';
import { SchemaPipe } from '../http/schema.pipe.js';
import { ApiDoc } from '../openapi/api-doc.decorator.js';
import { etagOf } from './etag.js';
import { UuidParam } from './params.js';

@Controller('api/v1/tenants/:tenantId/users')
export class UsersController {
  constructor(private readonly bus: BusClient) {}

  @Post()
  @HttpCode(201)
  @Requires('users:write')
  @ApiDoc({
    summary: 'Create a user',
    tag: 'Users',
    status: 201,
    body: UserCreateBody,
    example: { loginId: 'taro.yamada@acme.musubi.localhost', familyName: '山田', givenName: '太郎' },
    response: UserView,
    errors: [409],
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

  /** Issues a one-time password, shown once in this response; the user must change it at first sign-in. */
  @Post(':userId/temporary-password')
  @HttpCode(201)
  @OperatorOnly()
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
}
