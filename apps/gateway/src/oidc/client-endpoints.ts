import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ClientAuthenticatedRequest, RpcSubject } from '@musubi/contracts';
import { BusClient } from '@musubi/platform/bus';
import { DomainError } from '@musubi/platform/errors';
import type { Logger } from '@musubi/platform/logging';
import { CONFIG, LOGGER } from '@musubi/platform/runtime';
import type { GatewayConfig } from '../config/env.schema.js';
import { handleError } from '../http/error-response.js';
import { callContextOf } from '../http/request-context.js';
import { TenantResolver } from '../pages/tenant-resolver.js';
import { IntrospectionState } from './introspection-state.js';
import { asGateway, issuerFor } from './issuer.js';
import { LocalIntrospection } from './local-introspection.js';
import { basicCredentials, isForm, sendJson, sendOAuthError, singleParams, type Params } from './oauth-http.js';

type AuthenticatedSubject = Extract<
  RpcSubject,
  'musubi.federation.token.issue.v1' | 'musubi.federation.token.introspect.v1' | 'musubi.federation.token.revoke.v1' | 'musubi.federation.authorization.push.v1'
>;

type Basic = { clientId: string; clientSecret: string };

/**
 * The endpoints where a client authenticates — token, introspection (RFC
 * 7662), revocation (RFC 7009) and PAR (RFC 9126) — registered on Fastify
 * directly rather than as Nest routes: they are the provider's hottest paths,
 * they need none of Nest's guards, pipes or interceptors (the admin API's
 * guard has nothing to say about them), and Nest's route pipeline was a
 * measurable share of their cost. The gateway's Fastify hooks (request id,
 * security headers, metrics) and error handling (problem details for an
 * unknown tenant or a broken request) apply as to every route.
 *
 * Requests are checked for form and shape here; every decision is
 * federation's, except introspection answered from the gateway's current copy
 * of federation's state (LocalIntrospection). Answers are OAuth JSON.
 */
@Injectable()
export class OAuthClientEndpoints implements OnModuleInit {
  private readonly publicUrl: string;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly bus: BusClient,
    private readonly tenants: TenantResolver,
    private readonly localIntrospection: LocalIntrospection,
    private readonly introspectionState: IntrospectionState,
    @Inject(CONFIG) config: GatewayConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.publicUrl = config.PUBLIC_URL;
  }

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    const route = (path: string, handle: (slug: string, req: FastifyRequest, reply: FastifyReply) => Promise<void>) =>
      fastify.post<{ Params: { slug: string } }>(path, async (req, reply) => {
        try {
          await handle(req.params.slug, req, reply);
        } catch (err) {
          handleError(err, req, reply, this.logger);
        }
        return reply;
      });

    route('/t/:slug/oauth2/token', (slug, req, reply) =>
      this.clientRequest('musubi.federation.token.issue.v1', slug, req, reply, (t) => ({
        status: 200,
        body: {
          access_token: t['accessToken'],
          token_type: t['tokenType'],
          expires_in: t['expiresIn'],
          scope: t['scope'],
          ...(t['refreshToken'] !== undefined ? { refresh_token: t['refreshToken'] } : {}),
          ...(t['idToken'] !== undefined ? { id_token: t['idToken'] } : {}),
        },
      })),
    );

    route('/t/:slug/oauth2/introspect', (slug, req, reply) =>
      this.clientRequest(
        'musubi.federation.token.introspect.v1',
        slug,
        req,
        reply,
        (r) => ({ status: 200, body: r['response'] }),
        (tenantId, issuer, params, basic) => this.localIntrospection.answer(tenantId, issuer, params, basic),
      ),
    );

    route('/t/:slug/oauth2/revoke', (slug, req, reply) =>
      this.clientRequest('musubi.federation.token.revoke.v1', slug, req, reply, (r) => {
        // What federation revoked is inactive here at once, not only when the feed brings it.
        this.introspectionState.revoked(r);
        return { status: 200, body: {} };
      }),
    );

    route('/t/:slug/oauth2/par', (slug, req, reply) =>
      this.clientRequest('musubi.federation.authorization.push.v1', slug, req, reply, (r) => ({ status: 201, body: { request_uri: r['requestUri'], expires_in: r['expiresIn'] } })),
    );
  }

  /** Checks the request's shape, answers locally where it can, else hands it to federation with the client's credentials; answers in OAuth form. */
  private async clientRequest(
    subject: AuthenticatedSubject,
    slug: string,
    req: FastifyRequest,
    reply: FastifyReply,
    ok: (data: Record<string, unknown>) => { status: number; body: unknown },
    local?: (tenantId: string, issuer: string, params: Params, basic: Basic | undefined) => Promise<unknown>,
  ): Promise<void> {
    const tenant = await this.tenants.bySlug(slug);
    const issuer = issuerFor(this.publicUrl, slug);
    const basic = basicCredentials(req);
    if (!isForm(req)) return sendOAuthError(reply, 'invalid_request', 'The body must be application/x-www-form-urlencoded.');
    const params = singleParams(req.body);
    if (!params) return sendOAuthError(reply, 'invalid_request', 'A parameter is repeated, too long, or not text.');
    if (basic === null) return sendOAuthError(reply, 'invalid_client', 'The Authorization header is malformed.', true);
    if (local) {
      // A failed local attempt (federation unreachable for a record) is no answer: federation is asked, and its failure is mapped below.
      const answered = await local(tenant.id, issuer, params, basic).catch(() => null);
      if (answered !== null) return sendJson(reply, 200, answered);
    }
    const payload: ClientAuthenticatedRequest = { tenantId: tenant.id, issuer, params, basic: basic ?? null };
    let result;
    try {
      result = await this.bus.request(subject, payload, asGateway(callContextOf(req, tenant.id)));
    } catch (err) {
      if (err instanceof DomainError && err.code === 'service_unavailable') return sendOAuthError(reply, 'temporarily_unavailable', 'Try again shortly.');
      throw err;
    }
    if (result.kind === 'oauth_error') return sendOAuthError(reply, result.error, result.errorDescription, basic !== undefined);
    const { status, body } = ok(result);
    sendJson(reply, status, body);
  }
}
