import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { DomainError } from '@musubi/platform/errors';
import { hasPermission } from '@musubi/platform/authz';
import { CONFIG } from '@musubi/platform/runtime';
import type { GatewayConfig } from '../config/env.schema.js';
import { callContextOf, stateOf } from '../http/request-context.js';
import { csrfValid, readCookie, SESSION_COOKIE } from '../pages/web-session.js';
import { AUTH_METADATA, type Access } from './auth.decorator.js';
import { OperatorToken } from './operator-token.js';
import { SessionAuthenticator } from './session-authenticator.js';

const BEARER = /^Bearer ([A-Za-z0-9._~+/=-]{1,4096})$/;
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Authenticates /api/v1 calls and checks the route's access rule:
 * - `Authorization: Bearer <operator token>`: the platform operator;
 * - the hosted-login session cookie (an admin console): a user of one tenant,
 *   with an `X-CSRF-Token` header matching the CSRF cookie on every unsafe
 *   method, so another site cannot make the browser act;
 * - a user reaches only routes of their own tenant (another tenant's is 404,
 *   never 403, so ids cannot be probed) and only with a role that grants the
 *   route's permission (403 otherwise).
 * No credential is 401 with a Bearer challenge (RFC 6750).
 */
@Injectable()
export class ApiAuthGuard implements CanActivate {
  private readonly operator: OperatorToken;

  constructor(
    private readonly reflector: Reflector,
    private readonly sessions: SessionAuthenticator,
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
    if (typeof header === 'string') {
      const m = BEARER.exec(header);
      if (!m?.[1] || !this.operator.matches(m[1])) throw new DomainError('unauthenticated', 'The bearer token is not valid.');
      state.caller = { kind: 'operator', id: 'bootstrap' };
      return true;
    }
    const sessionId = readCookie(req, SESSION_COOKIE);
    if (!sessionId) throw new DomainError('unauthenticated', 'A bearer token is required.');
    if (!SAFE_METHODS.has(req.method) && !csrfValid(req, req.headers['x-csrf-token'])) {
      throw new DomainError('forbidden', 'The X-CSRF-Token header is missing or does not match.');
    }
    const caller = await this.sessions.callerFor(sessionId, callContextOf(req));
    if ('operatorOnly' in access) throw new DomainError('forbidden', 'Only a platform operator may do this.');
    const params = (req.params ?? {}) as Record<string, string | undefined>;
    const tenantId = params['tenantId'];
    if (!tenantId || !UUID.test(tenantId) || tenantId.toLowerCase() !== caller.tenantId) throw new DomainError('not_found', 'No such resource.');
    if (!hasPermission(caller.roles, access.permission)) throw new DomainError('forbidden', 'Your role does not allow this.');
    state.caller = caller;
    state.tenantId = caller.tenantId;
    return true;
  }
}
