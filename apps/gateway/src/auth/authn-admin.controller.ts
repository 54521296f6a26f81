import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Patch, Post, Put, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Type } from '@sinclair/typebox';
import {
  ApiTokenCreateBody,
  ApiTokenCreated,
  ApiTokenList,
  AuthPolicyUpdateBody,
  AuthPolicyView,
  LockoutView,
  MailKindSchema,
  MailLang,
  MailTemplateBody,
  MailTemplateList,
  MailTemplateView,
  SessionRevokeAllReply,
  type ApiTokenCreateBody as ApiTokenCreateBodyT,
  type AuthPolicyUpdateBody as AuthPolicyUpdateBodyT,
  type CallContext,
} from '@musubi/contracts';
import { BusClient } from '@musubi/platform/bus';
import { etagOf, expectedVersion } from '../api/etag.js';
import { UuidParam } from '../api/params.js';
import { Call } from '../http/request-context.js';
import { SchemaPipe } from '../http/schema.pipe.js';
import { ApiDoc } from '../openapi/api-doc.decorator.js';
import { Requires, SignedIn } from './auth.decorator.js';

const MailTemplatePutBody = Type.Object({ kind: MailKindSchema, lang: MailLang, ...MailTemplateBody.properties }, { additionalProperties: false });
type MailTemplatePutBodyT = typeof MailTemplatePutBody.static;
const MailTemplateResetBody = Type.Object({ kind: MailKindSchema, lang: MailLang }, { additionalProperties: false });
type MailTemplateResetBodyT = typeof MailTemplateResetBody.static;

/**
 * The admin API of authentication: a tenant's policy (password rules,
 * lockout, sessions, admin networks, branding), unlocking accounts, ending a
 * user's sessions, API tokens and mail templates.
 */
@Controller('api/v1/tenants/:tenantId')
export class AuthnAdminController {
  constructor(private readonly bus: BusClient) {}

  @Get('auth-policy')
  @Requires('tenant:read')
  @ApiDoc({ summary: "Read the tenant's authentication policy", tag: 'Authentication', status: 200, response: AuthPolicyView })
  async policy(@Param('tenantId', new UuidParam()) tenantId: string, @Call() ctx: CallContext, @Res({ passthrough: true }) reply: FastifyReply) {
    const p = await this.bus.request('musubi.authn.policy.get.v1', { tenantId }, { ...ctx, tenantId });
    reply.header('etag', etagOf(p));
    return p;
  }

  @Patch('auth-policy')
  @Requires('tenant:write')
  @ApiDoc({
    summary: "Change the tenant's authentication policy; If-Match with the ETag read",
    tag: 'Authentication',
    status: 200,
    body: AuthPolicyUpdateBody,
    example: { lockoutThreshold: 5, lockoutMinutes: 30, passwordExpiryDays: null, adminAllowedCidrs: ['203.0.113.0/24', '2001:db8::/32'] },
    response: AuthPolicyView,
    errors: [412],
  })
  async updatePolicy(
    @Param('tenantId', new UuidParam()) tenantId: string,
    @Body(new SchemaPipe(AuthPolicyUpdateBody)) changes: AuthPolicyUpdateBodyT,
    @Headers('if-match') ifMatch: string | undefined,
    @Call() ctx: CallContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const version = expectedVersion(ifMatch);
    const p = await this.bus.request('musubi.authn.policy.update.v1', { tenantId, changes, ...(version !== undefined ? { expectedVersion: version } : {}) }, { ...ctx, tenantId });
    reply.header('etag', etagOf(p));
    return p;
  }

  @Get('users/:userId/lockout')
  @Requires('users:read')
  @ApiDoc({ summary: "Whether a user's account is locked by failed sign-ins", tag: 'Authentication', status: 200, response: LockoutView })
  lockout(@Param('tenantId', new UuidParam()) tenantId: string, @Param('userId', new UuidParam()) userId: string, @Call() ctx: CallContext) {
    return this.bus.request('musubi.authn.lockout.get.v1', { tenantId, userId }, { ...ctx, tenantId });
  }

  @Delete('users/:userId/lockout')
  @Requires('users:credentials')
  @ApiDoc({ summary: 'Unlock an account locked by failed sign-ins (administrators and helpdesk)', tag: 'Authentication', status: 200, response: LockoutView })
  unlock(@Param('tenantId', new UuidParam()) tenantId: string, @Param('userId', new UuidParam()) userId: string, @Call() ctx: CallContext) {
    return this.bus.request('musubi.authn.lockout.clear.v1', { tenantId, userId }, { ...ctx, tenantId });
  }

  @Delete('users/:userId/sessions')
  @Requires('users:credentials')
  @ApiDoc({ summary: 'End every session of a user', tag: 'Authentication', status: 200, response: SessionRevokeAllReply })
  revokeSessions(@Param('tenantId', new UuidParam()) tenantId: string, @Param('userId', new UuidParam()) userId: string, @Call() ctx: CallContext) {
    return this.bus.request('musubi.authn.session.revoke-all.v1', { tenantId, userId }, { ...ctx, tenantId });
  }

  @Get('api-tokens')
  @SignedIn()
  @ApiDoc({ summary: 'List API tokens: your own; every one of the tenant with users:credentials', tag: 'API tokens', status: 200, response: ApiTokenList })
  tokens(@Param('tenantId', new UuidParam()) tenantId: string, @Call() ctx: CallContext) {
    return this.bus.request('musubi.authn.api-token.list.v1', { tenantId }, { ...ctx, tenantId });
  }

  /** The token is in this response only; only a digest of it is kept. */
  @Post('api-tokens')
  @HttpCode(201)
  @SignedIn()
  @ApiDoc({
    summary: 'Make an API token for yourself (scopes within your roles); shown once',
    tag: 'API tokens',
    status: 201,
    body: ApiTokenCreateBody,
    example: { name: 'HR sync', scopes: ['users:read', 'users:write'], expiresInDays: 90 },
    response: ApiTokenCreated,
  })
  async createToken(
    @Param('tenantId', new UuidParam()) tenantId: string,
    @Body(new SchemaPipe(ApiTokenCreateBody)) body: ApiTokenCreateBodyT,
    @Call() ctx: CallContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    reply.header('cache-control', 'no-store');
    return this.bus.request('musubi.authn.api-token.create.v1', { tenantId, ...body }, { ...ctx, tenantId });
  }

  @Delete('api-tokens/:tokenId')
  @HttpCode(204)
  @SignedIn()
  @ApiDoc({ summary: 'Revoke an API token (your own; any with users:credentials)', tag: 'API tokens', status: 204, response: null })
  async revokeToken(@Param('tenantId', new UuidParam()) tenantId: string, @Param('tokenId', new UuidParam()) tokenId: string, @Call() ctx: CallContext): Promise<void> {
    await this.bus.request('musubi.authn.api-token.revoke.v1', { tenantId, tokenId }, { ...ctx, tenantId });
  }

  @Get('mail-templates')
  @Requires('tenant:read')
  @ApiDoc({ summary: 'The mail templates of the tenant, Japanese and English, built-in or edited', tag: 'Authentication', status: 200, response: MailTemplateList })
  templates(@Param('tenantId', new UuidParam()) tenantId: string, @Call() ctx: CallContext) {
    return this.bus.request('musubi.authn.mail-template.list.v1', { tenantId }, { ...ctx, tenantId });
  }

  @Put('mail-templates')
  @Requires('tenant:write')
  @ApiDoc({
    summary: 'Replace one mail template ({{placeholders}} as listed)',
    tag: 'Authentication',
    status: 200,
    body: MailTemplatePutBody,
    example: { kind: 'reset_requested', lang: 'ja', subject: '【{{tenantName}}】パスワード再設定', body: '{{displayName}} 様\n\n{{resetLink}}\n' },
    response: MailTemplateView,
  })
  putTemplate(@Param('tenantId', new UuidParam()) tenantId: string, @Body(new SchemaPipe(MailTemplatePutBody)) body: MailTemplatePutBodyT, @Call() ctx: CallContext) {
    return this.bus.request('musubi.authn.mail-template.put.v1', { tenantId, ...body }, { ...ctx, tenantId });
  }

  @Post('mail-templates/reset')
  @HttpCode(200)
  @Requires('tenant:write')
  @ApiDoc({ summary: 'Go back to the built-in text of one mail template', tag: 'Authentication', status: 200, body: MailTemplateResetBody, example: { kind: 'reset_requested', lang: 'ja' }, response: MailTemplateView })
  resetTemplate(@Param('tenantId', new UuidParam()) tenantId: string, @Body(new SchemaPipe(MailTemplateResetBody)) body: MailTemplateResetBodyT, @Call() ctx: CallContext) {
    return this.bus.request('musubi.authn.mail-template.reset.v1', { tenantId, ...body }, { ...ctx, tenantId });
  }
}
