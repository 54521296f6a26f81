import { Controller, Get, Inject, Param, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { OIDC_STANDARD_SCOPES, type TenantView } from '@musubi/contracts';
import { BusClient } from '@musubi/platform/bus';
import { CONFIG } from '@musubi/platform/runtime';
import type { GatewayConfig } from '../config/env.schema.js';
import { callContextOf } from '../http/request-context.js';
import { TenantResolver } from '../pages/tenant-resolver.js';
import { asGateway, endpoint, issuerFor } from './issuer.js';
import { isForm, sendJson, sendOAuthError, singleParams } from './oauth-http.js';

const ASSERTION_ALGS = ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'];
const AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'];

/**
 * The machine-facing OAuth/OIDC endpoints of each tenant's issuer: discovery,
 * JWKS and userinfo (token, introspection, revocation and PAR are
 * OAuthClientEndpoints, on Fastify directly). Requests are checked for form
 * and shape here; every decision is federation's. Answers are OAuth JSON, never problem details.
 */
@Controller()
export class OidcProtocolController {
  private readonly publicUrl: string;

  constructor(
    private readonly bus: BusClient,
    private readonly tenants: TenantResolver,
    @Inject(CONFIG) config: GatewayConfig,
  ) {
    this.publicUrl = config.PUBLIC_URL;
  }

  private async tenant(slug: string): Promise<{ tenant: TenantView; issuer: string }> {
    const tenant = await this.tenants.bySlug(slug);
    return { tenant, issuer: issuerFor(this.publicUrl, slug) };
  }

  @Get('t/:slug/.well-known/openid-configuration')
  async discovery(@Param('slug') slug: string, @Res() reply: FastifyReply): Promise<void> {
    const { issuer } = await this.tenant(slug);
    const doc = {
      issuer,
      authorization_endpoint: endpoint(issuer, 'authorization'),
      token_endpoint: endpoint(issuer, 'token'),
      userinfo_endpoint: endpoint(issuer, 'userinfo'),
      jwks_uri: endpoint(issuer, 'jwks'),
      end_session_endpoint: endpoint(issuer, 'endSession'),
      introspection_endpoint: endpoint(issuer, 'introspection'),
      revocation_endpoint: endpoint(issuer, 'revocation'),
      pushed_authorization_request_endpoint: endpoint(issuer, 'par'),
      scopes_supported: [...OIDC_STANDARD_SCOPES],
      response_types_supported: ['code'],
      response_modes_supported: ['query'],
      grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['ES256', 'RS256'],
      token_endpoint_auth_methods_supported: [...AUTH_METHODS, 'none'],
      token_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGS,
      introspection_endpoint_auth_methods_supported: AUTH_METHODS,
      introspection_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGS,
      revocation_endpoint_auth_methods_supported: [...AUTH_METHODS, 'none'],
      revocation_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGS,
      code_challenge_methods_supported: ['S256'],
      prompt_values_supported: ['none', 'login', 'consent', 'select_account'],
      claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'acr', 'amr', 'azp', 'sid', 'name', 'family_name', 'given_name', 'preferred_username', 'locale', 'updated_at', 'email', 'email_verified', 'phone_number', 'phone_number_verified', 'groups'],
      claims_parameter_supported: false,
      request_parameter_supported: false,
      request_uri_parameter_supported: false,
      require_request_uri_registration: true,
      authorization_response_iss_parameter_supported: true,
      backchannel_logout_supported: true,
      backchannel_logout_session_supported: true,
      frontchannel_logout_supported: false,
    };
    reply.code(200).header('content-type', 'application/json; charset=utf-8').header('cache-control', 'public, max-age=300').header('access-control-allow-origin', '*').send(JSON.stringify(doc));
  }

  @Get('t/:slug/oauth2/jwks')
  async jwks(@Param('slug') slug: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const { tenant } = await this.tenant(slug);
    const set = await this.bus.request('musubi.federation.jwks.get.v1', { tenantId: tenant.id }, asGateway(callContextOf(req, tenant.id)));
    // A next key is published a day (OIDC_KEY_PUBLISH_AHEAD_SECONDS) before it signs: five minutes of caching is safe.
    reply.code(200).header('content-type', 'application/jwk-set+json').header('cache-control', 'public, max-age=300').header('access-control-allow-origin', '*').send(JSON.stringify(set));
  }

  @Get('t/:slug/oauth2/userinfo')
  userinfoGet(@Param('slug') slug: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    return this.userinfo(slug, req, reply);
  }

  @Post('t/:slug/oauth2/userinfo')
  userinfoPost(@Param('slug') slug: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    return this.userinfo(slug, req, reply);
  }

  private async userinfo(slug: string, req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const { tenant, issuer } = await this.tenant(slug);
    const challenge = (error: string, description: string) => `Bearer realm="${issuer}", error="${error}", error_description="${description}"`;
    const header = req.headers.authorization;
    const fromHeader = typeof header === 'string' ? /^Bearer ([A-Za-z0-9._~+/=-]{1,8192})$/i.exec(header)?.[1] : undefined;
    const body = req.method === 'POST' && isForm(req) ? singleParams(req.body) : {};
    const fromBody = body?.['access_token'];
    if ((fromHeader && fromBody) || (header !== undefined && !fromHeader)) {
      reply.header('www-authenticate', challenge('invalid_request', 'Present the access token once, as a Bearer token.'));
      return sendOAuthError(reply, 'invalid_request', 'Present the access token once, as a Bearer token.');
    }
    const accessToken = fromHeader ?? fromBody;
    if (!accessToken) {
      reply.header('www-authenticate', `Bearer realm="${issuer}"`);
      return sendJson(reply, 401, { error: 'invalid_token', error_description: 'An access token is required.' });
    }
    const result = await this.bus.request('musubi.federation.userinfo.get.v1', { tenantId: tenant.id, issuer, accessToken }, asGateway(callContextOf(req, tenant.id)));
    if (result.kind === 'oauth_error') {
      reply.header('www-authenticate', challenge(result.error, result.errorDescription));
      return sendOAuthError(reply, result.error, result.errorDescription);
    }
    sendJson(reply, 200, result.claims);
  }
}
