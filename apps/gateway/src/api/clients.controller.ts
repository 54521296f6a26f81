import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Patch, Post, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Type } from '@sinclair/typebox';
import {
  OidcClientCreateBody,
  OidcClientListQuery,
  OidcClientUpdateBody,
  OidcClientView,
  OidcClientWithSecret,
  Page,
  SigningAlg,
  SigningKeyList,
  SigningKeyView,
  type CallContext,
  type OidcClientView as OidcClientViewT,
  type OidcClientWithSecret as OidcClientWithSecretT,
} from '@musubi/contracts';
import { BusClient } from '@musubi/platform/bus';
import { Requires } from '../auth/auth.decorator.js';
import { Call } from '../http/request-context.js';
import { SchemaPipe } from '../http/schema.pipe.js';
import { ApiDoc } from '../openapi/api-doc.decorator.js';
import { etagOf, expectedVersion } from './etag.js';
import { QuerySchemaPipe } from './groups.controller.js';
import { UuidParam, pageQueryDoc } from './params.js';

const SigningKeyRotateBody = Type.Object({ alg: SigningAlg }, { additionalProperties: false });

/** /api/v1/tenants/{tenantId}/oidc: the applications (OIDC clients) of a tenant and its signing keys. */
@Controller('api/v1/tenants/:tenantId/oidc')
export class ClientsController {
  constructor(private readonly bus: BusClient) {}

  @Post('clients')
  @HttpCode(201)
  @Requires('apps:write')
  @ApiDoc({
    summary: 'Register an application (OIDC client); a confidential client gets its secret in this answer only',
    tag: 'Applications',
    status: 201,
    body: OidcClientCreateBody,
    example: {
      name: '経費精算',
      redirectUris: ['https://expense.example.com/callback'],
      postLogoutRedirectUris: ['https://expense.example.com/'],
      scopes: ['openid', 'profile', 'email', 'offline_access'],
    },
    response: OidcClientWithSecret,
  })
  async create(
    @Param('tenantId', new UuidParam()) tenantId: string,
    @Body(new SchemaPipe(OidcClientCreateBody)) body: OidcClientCreateBody,
    @Call() ctx: CallContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<OidcClientWithSecretT> {
    const made = await this.bus.request('musubi.federation.client.create.v1', { ...body, tenantId }, { ...ctx, tenantId });
    reply.header('location', `/api/v1/tenants/${tenantId}/oidc/clients/${made.client.id}`).header('etag', etagOf(made.client)).header('cache-control', 'no-store');
    return made;
  }

  @Get('clients')
  @Requires('apps:read')
  @ApiDoc({ summary: "List a tenant's applications, oldest first", tag: 'Applications', status: 200, response: Page(OidcClientView), query: pageQueryDoc })
  list(@Param('tenantId', new UuidParam()) tenantId: string, @Query(new QuerySchemaPipe(OidcClientListQuery)) query: OidcClientListQuery, @Call() ctx: CallContext) {
    return this.bus.request('musubi.federation.client.list.v1', { ...query, tenantId }, { ...ctx, tenantId });
  }

  @Get('clients/:clientId')
  @Requires('apps:read')
  @ApiDoc({ summary: 'Read an application (never its secret)', tag: 'Applications', status: 200, response: OidcClientView })
  async get(
    @Param('tenantId', new UuidParam()) tenantId: string,
    @Param('clientId', new UuidParam()) clientId: string,
    @Call() ctx: CallContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<OidcClientViewT> {
    const client = await this.bus.request('musubi.federation.client.get.v1', { tenantId, clientId }, { ...ctx, tenantId });
    reply.header('etag', etagOf(client));
    return client;
  }

  @Patch('clients/:clientId')
  @Requires('apps:write')
  @ApiDoc({
    summary: 'Change an application; If-Match with the ETag read (other gateway replicas see the change within 5 s)',
    tag: 'Applications',
    status: 200,
    body: OidcClientUpdateBody,
    example: { redirectUris: ['https://expense.example.com/callback', 'https://expense.example.com/callback2'], groupsClaim: true },
    response: OidcClientView,
    errors: [409, 412],
  })
  async update(
    @Param('tenantId', new UuidParam()) tenantId: string,
    @Param('clientId', new UuidParam()) clientId: string,
    @Body(new SchemaPipe(OidcClientUpdateBody)) changes: OidcClientUpdateBody,
    @Headers('if-match') ifMatch: string | undefined,
    @Call() ctx: CallContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<OidcClientViewT> {
    const version = expectedVersion(ifMatch);
    const client = await this.bus.request('musubi.federation.client.update.v1', { tenantId, clientId, changes, ...(version ? { expectedVersion: version } : {}) }, { ...ctx, tenantId });
    reply.header('etag', etagOf(client));
    return client;
  }

  @Delete('clients/:clientId')
  @HttpCode(204)
  @Requires('apps:write')
  @ApiDoc({ summary: 'Delete an application; everything issued to it is revoked', tag: 'Applications', status: 204, response: null, errors: [412] })
  async delete(
    @Param('tenantId', new UuidParam()) tenantId: string,
    @Param('clientId', new UuidParam()) clientId: string,
    @Headers('if-match') ifMatch: string | undefined,
    @Call() ctx: CallContext,
  ): Promise<void> {
    const version = expectedVersion(ifMatch);
    await this.bus.request('musubi.federation.client.delete.v1', { tenantId, clientId, ...(version ? { expectedVersion: version } : {}) }, { ...ctx, tenantId });
  }

  @Post('clients/:clientId/secret')
  @HttpCode(200)
  @Requires('apps:write')
  @ApiDoc({ summary: "Replace a confidential application's secret (shown in this answer only); the old one stops working", tag: 'Applications', status: 200, response: OidcClientWithSecret, errors: [409] })
  async rotateSecret(
    @Param('tenantId', new UuidParam()) tenantId: string,
    @Param('clientId', new UuidParam()) clientId: string,
    @Call() ctx: CallContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<OidcClientWithSecretT> {
    const made = await this.bus.request('musubi.federation.client.secret-rotate.v1', { tenantId, clientId }, { ...ctx, tenantId });
    reply.header('etag', etagOf(made.client)).header('cache-control', 'no-store');
    return made;
  }

  @Get('signing-keys')
  @Requires('apps:read')
  @ApiDoc({ summary: "The tenant's token signing keys and their schedule (public parts only)", tag: 'Applications', status: 200, response: SigningKeyList })
  signingKeys(@Param('tenantId', new UuidParam()) tenantId: string, @Call() ctx: CallContext) {
    return this.bus.request('musubi.federation.signing-key.list.v1', { tenantId }, { ...ctx, tenantId });
  }

  @Post('signing-keys/rotate')
  @HttpCode(201)
  @Requires('apps:write')
  @ApiDoc({
    summary: 'Publish a next signing key now; it signs after the publication delay, and the current key stays published until its tokens expire',
    tag: 'Applications',
    status: 201,
    body: SigningKeyRotateBody,
    example: { alg: 'ES256' },
    response: SigningKeyView,
  })
  rotateKey(@Param('tenantId', new UuidParam()) tenantId: string, @Body(new SchemaPipe(SigningKeyRotateBody)) body: { alg: 'ES256' | 'RS256' }, @Call() ctx: CallContext) {
    return this.bus.request('musubi.federation.signing-key.rotate.v1', { tenantId, alg: body.alg }, { ...ctx, tenantId });
  }
}
