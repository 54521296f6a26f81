import { Body, Controller, Delete, Get, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import {
  ApiAppCreateBody,
  ApiAppCreated,
  ApiAppDeleteReply,
  ApiAppList,
  AppRefreshTokenIssueBody,
  AppRefreshTokenIssued,
  AppRefreshTokenList,
  type ApiAppCreateBody as ApiAppCreateBodyT,
  type AppRefreshTokenIssueBody as AppRefreshTokenIssueBodyT,
  type CallContext,
} from '@musubi/contracts';
import { BusClient } from '@musubi/platform/bus';
import { DomainError } from '@musubi/platform/errors';
import { Requires } from '../auth/auth.decorator.js';
import { Call, callContextOf } from '../http/request-context.js';
import { SchemaPipe } from '../http/schema.pipe.js';
import { asGateway } from '../oidc/issuer.js';
import { basicCredentials, isForm, sendJson, sendOAuthError, singleParams } from '../oidc/oauth-http.js';
import { ApiDoc } from '../openapi/api-doc.decorator.js';
import { UuidParam } from './params.js';

/** What the token endpoint answers (RFC 6749 §5.1). */
const TokenResponse = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal('Bearer'),
  expires_in: Type.Integer(),
  refresh_token: Type.String({ description: 'The rotated refresh token: the one presented no longer works, and presenting it again revokes this one too' }),
  scope: Type.String(),
});

/**
 * /api/v1/tenants/{tenantId}/api-apps: registered API applications (OAuth
 * clients for integrations and sync utilities), their refresh tokens, and the
 * token endpoint where they trade a refresh token for a short-lived access
 * token and a rotated refresh token.
 */
@Controller('api/v1/tenants/:tenantId')
export class ApiAppsController {
  constructor(private readonly bus: BusClient) {}

  @Get('api-apps')
  @Requires('apps:read')
  @ApiDoc({ summary: "List the tenant's registered API applications", tag: 'API applications', status: 200, response: ApiAppList })
  list(@Param('tenantId', new UuidParam()) tenantId: string, @Call() ctx: CallContext) {
    return this.bus.request('musubi.authn.api-app.list.v1', { tenantId }, { ...ctx, tenantId });
  }

  /** The client secret is in this response only. */
  @Post('api-apps')
  @HttpCode(201)
  @Requires('apps:write')
  @ApiDoc({
    summary: 'Register an API application (acts for you, within its scopes); its client secret is shown once',
    tag: 'API applications',
    status: 201,
    body: ApiAppCreateBody,
    example: { name: 'HR sync', scopes: ['users:read', 'users:write'] },
    response: ApiAppCreated,
  })
  create(@Param('tenantId', new UuidParam()) tenantId: string, @Body(new SchemaPipe(ApiAppCreateBody)) body: ApiAppCreateBodyT, @Call() ctx: CallContext, @Res({ passthrough: true }) reply: FastifyReply) {
    reply.header('cache-control', 'no-store');
    return this.bus.request('musubi.authn.api-app.create.v1', { tenantId, ...body }, { ...ctx, tenantId });
  }

  @Delete('api-apps/:appId')
  @Requires('apps:write')
  @ApiDoc({ summary: 'Delete an API application: its refresh and access tokens stop working at once', tag: 'API applications', status: 200, response: ApiAppDeleteReply })
  remove(@Param('tenantId', new UuidParam()) tenantId: string, @Param('appId', new UuidParam()) appId: string, @Call() ctx: CallContext) {
    return this.bus.request('musubi.authn.api-app.delete.v1', { tenantId, appId }, { ...ctx, tenantId });
  }

  @Get('api-apps/:appId/refresh-tokens')
  @Requires('apps:read')
  @ApiDoc({ summary: "List an API application's refresh tokens (metadata only)", tag: 'API applications', status: 200, response: AppRefreshTokenList })
  tokens(@Param('tenantId', new UuidParam()) tenantId: string, @Param('appId', new UuidParam()) appId: string, @Call() ctx: CallContext) {
    return this.bus.request('musubi.authn.refresh-token.list.v1', { tenantId, appId }, { ...ctx, tenantId });
  }

  /** The refresh token is in this response only; at most 25 live per application (409 `limit_exceeded` beyond). */
  @Post('api-apps/:appId/refresh-tokens')
  @HttpCode(201)
  @Requires('apps:write')
  @ApiDoc({
    summary: 'Issue a refresh token to an API application (at most 25 live each); shown once',
    tag: 'API applications',
    status: 201,
    body: AppRefreshTokenIssueBody,
    example: { name: 'production sync server', expiresInDays: 365 },
    response: AppRefreshTokenIssued,
  })
  issue(
    @Param('tenantId', new UuidParam()) tenantId: string,
    @Param('appId', new UuidParam()) appId: string,
    @Body(new SchemaPipe(AppRefreshTokenIssueBody)) body: AppRefreshTokenIssueBodyT,
    @Call() ctx: CallContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    reply.header('cache-control', 'no-store');
    return this.bus.request('musubi.authn.refresh-token.issue.v1', { tenantId, appId, ...body }, { ...ctx, tenantId });
  }

  @Delete('api-apps/:appId/refresh-tokens/:tokenId')
  @HttpCode(204)
  @Requires('apps:write')
  @ApiDoc({ summary: 'Revoke a refresh token; the access tokens it gave stop working at once', tag: 'API applications', status: 204, response: null })
  async revoke(
    @Param('tenantId', new UuidParam()) tenantId: string,
    @Param('appId', new UuidParam()) appId: string,
    @Param('tokenId', new UuidParam()) tokenId: string,
    @Call() ctx: CallContext,
  ): Promise<void> {
    await this.bus.request('musubi.authn.refresh-token.revoke.v1', { tenantId, appId, tokenId }, { ...ctx, tenantId });
  }

  /**
   * The OAuth 2.0 token endpoint of API applications (RFC 6749 §6):
   * `grant_type=refresh_token` with client authentication (HTTP Basic, or
   * client_id and client_secret in the form), optionally a narrower `scope`.
   * Errors as RFC 6749 §5.2; every answer `Cache-Control: no-store`.
   */
  @Post('oauth/token')
  @ApiDoc({
    summary: 'Trade a refresh token for an access token and a rotated refresh token (form-encoded, client authentication by HTTP Basic or form)',
    tag: 'API applications',
    status: 200,
    upload: 'application/x-www-form-urlencoded',
    response: TokenResponse,
    errors: [401],
  })
  async token(@Param('tenantId') tenantId: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const basic = basicCredentials(req);
    if (!isForm(req)) return sendOAuthError(reply, 'invalid_request', 'The body must be application/x-www-form-urlencoded.');
    const params = singleParams(req.body);
    if (!params) return sendOAuthError(reply, 'invalid_request', 'A parameter is repeated, too long, or not text.');
    if (basic === null) return sendOAuthError(reply, 'invalid_client', 'The Authorization header is malformed.', true);
    let id: string;
    try {
      id = new UuidParam().transform(tenantId);
    } catch {
      // An unknown tenant has no clients: the same answer as a wrong client.
      return sendOAuthError(reply, 'invalid_client', 'Client authentication failed.', basic !== undefined);
    }
    let result;
    try {
      result = await this.bus.request('musubi.authn.app-token.grant.v1', { tenantId: id, params, basic: basic ?? null }, asGateway(callContextOf(req, id)));
    } catch (err) {
      if (err instanceof DomainError && err.code === 'service_unavailable') return sendOAuthError(reply, 'temporarily_unavailable', 'Try again shortly.');
      throw err;
    }
    if (result.kind === 'oauth_error') return sendOAuthError(reply, result.error, result.errorDescription, basic !== undefined);
    sendJson(reply, 200, { access_token: result.accessToken, token_type: result.tokenType, expires_in: result.expiresIn, refresh_token: result.refreshToken, scope: result.scope });
  }
}
