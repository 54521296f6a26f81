import { createHash } from 'node:crypto';
import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import type { ApiTokenPrincipal, Caller } from '@musubi/contracts';
import { DomainError } from '@musubi/platform/errors';
import { hasPermission } from '@musubi/platform/authz';
import { CONFIG } from '@musubi/platform/runtime';
import type { GatewayConfig } from '../config/env.schema.js';
import { callContextOf, stateOf } from '../http/request-context.js';
import { csrfValid, readCookie, SESSION_COOKIE } from '../pages/web-session.js';
import { AdminAccess } from './admin-access.js';
import { ANSWERS_UNKNOWN_TENANT_METADATA, AUTH_METADATA, type Access } from './auth.decorator.js';
import { OperatorToken } from './operator-token.js';
import { TenantExistence, noSuchTenant } from './tenant-existence.js';
import { scopesCover } from './scopes.js';
import { SessionAuthenticator } from './session-authenticator.js';

const BEARER = /^Bearer ([A-Za-z0-9._~+/=-]{1,4096})$/;
const API_TOKEN = /^msb_[A-Za-z0-9_-]{43}$/;
const APP_ACCESS_TOKEN = /^msa_[A-Za-z0-9_-]{43}$/;
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type UserCaller = Extract<Caller, { kind: 'user' }>;

/**
 * Authenticates /api/v1 calls and checks the route's access rule:
 * - `Authorization: Bearer <operator token>`: the platform operator;
 * - `Authorization: Bearer msb_…`: an API token, acting for the user who made
 *   it, only on routes one of its scopes covers (403 `insufficient scope`
 *   otherwise) and never beyond that user's current roles;
 * - `Authorization: Bearer msa_…`: a registered application's access token
 *   (from the API token endpoint), the same rules, for the administrator who
 *   registered the application; checked with authn on every request, so a
 *   revoked one stops at once;
 * - the hosted-login session cookie (an admin console): a user of one tenant,
 *   with an `X-CSRF-Token` header matching the CSRF cookie on every unsafe
 *   method, so another site cannot make the browser act;
 * - a user (by session or token) reaches only routes of their own tenant
 *   (another tenant's is 404, never 403, so ids cannot be probed), only with a
 *   role that grants the route's permission (403 otherwise), and only from the
 *   tenant's allowed admin networks when it set any (403 otherwise; the source
 *   address is what TRUSTED_PROXIES allow X-Forwarded-For to say).
 * No credential is 401 with a Bearer challenge (RFC 6750).
 */
@Injectable()
export class ApiAuthGuard implements CanActivate {
  private readonly operator: OperatorToken;

  constructor(
    private readonly reflector: Reflector,
    private readonly sessions: SessionAuthenticator,
    private readonly admin: AdminAccess,
    private readonly tenants: TenantExistence,
    @Inject(CONFIG) config: GatewayConfig,
  ) {
    this.operator = new OperatorToken(config.MUSUBI_OPERATOR_TOKEN);
  }

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const access = this.reflector.getAllAndOverride<Access | undefined>(AUTH_METADATA, [ctx.getHandler(), ctx.getClass()]);
    if (!access) return true;
    const req = ctx.switchToHttp().getRequest<FastifyRequest>();
    const state = stateOf(req);
    const header = req.headers.authorization;
    let caller: UserCaller;
    if (typeof header === 'string') {
      const m = BEARER.exec(header);
      const presented = m?.[1];
      if (presented && this.operator.matches(presented)) {
        state.caller = { kind: 'operator', id: 'bootstrap' };
        const tenantId = ((req.params ?? {}) as Record<string, string | undefined>)['tenantId'];
        const checksItself = this.reflector.getAllAndOverride<boolean | undefined>(ANSWERS_UNKNOWN_TENANT_METADATA, [ctx.getHandler(), ctx.getClass()]);
        if (tenantId !== undefined && !checksItself) {
          if (!UUID.test(tenantId)) throw noSuchTenant();
          await this.tenants.assert(tenantId, callContextOf(req));
        }
        return true;
      }
      let principal: ApiTokenPrincipal;
      if (presented && APP_ACCESS_TOKEN.test(presented)) {
        principal = await this.admin.appPrincipal(presented, callContextOf(req));
      } else {
        if (!presented || !API_TOKEN.test(presented)) throw new DomainError('unauthenticated', 'The bearer token is not valid.');
        const digest = createHash('sha256').update(presented).digest('base64url');
        principal = await this.admin.tokenPrincipal(presented, digest, callContextOf(req));
      }
      if ('operatorOnly' in access) throw new DomainError('forbidden', 'Only a platform operator may do this.');
      if ('signedIn' in access) throw new DomainError('forbidden', 'API tokens cannot be used here; sign in.');
      if (!scopesCover(principal.scopes, access.permission)) throw new DomainError('forbidden', `The token's scopes do not cover ${access.permission} (insufficient scope).`);
      caller = { kind: 'user', userId: principal.userId, tenantId: principal.tenantId, roles: [...principal.roles] };
    } else {
      const sessionId = readCookie(req, SESSION_COOKIE);
      if (!sessionId) throw new DomainError('unauthenticated', 'A bearer token is required.');
      if (!SAFE_METHODS.has(req.method) && !csrfValid(req, req.headers['x-csrf-token'])) {
        throw new DomainError('forbidden', 'The X-CSRF-Token header is missing or does not match.');
      }
      caller = await this.sessions.callerFor(sessionId, callContextOf(req));
      if ('operatorOnly' in access) throw new DomainError('forbidden', 'Only a platform operator may do this.');
    }
    const params = (req.params ?? {}) as Record<string, string | undefined>;
    const tenantId = params['tenantId'];
    if (!tenantId || !UUID.test(tenantId) || tenantId.toLowerCase() !== caller.tenantId) throw new DomainError('not_found', 'No such resource.');
    await this.admin.assertSourceAllowed(caller.tenantId, req.ip, callContextOf(req, caller.tenantId));
    if ('permission' in access && !hasPermission(caller.roles, access.permission)) throw new DomainError('forbidden', 'Your role does not allow this.');
    state.caller = caller;
    state.tenantId = caller.tenantId;
    return true;
  }
}
