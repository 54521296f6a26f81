import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CallContext, ClientInfo } from '@musubi/contracts';
import { BusClient } from '@musubi/platform/bus';
import { DomainError } from '@musubi/platform/errors';

/** `__Host-` cookies: Secure, Path=/, no Domain, so no sibling host can set or read them. */
export const SESSION_COOKIE = '__Host-musubi-session';
export const CSRF_COOKIE = '__Host-musubi-csrf';
/** The login transaction of a sign-in in progress (identifier step → password step). */
export const LOGIN_COOKIE = '__Host-musubi-login';

const base = { path: '/', secure: true, httpOnly: true } as const;

export function readCookie(req: FastifyRequest, name: string): string | undefined {
  const v = req.cookies[name];
  return typeof v === 'string' && v.length > 0 && v.length <= 256 ? v : undefined;
}

export function setSessionCookie(reply: FastifyReply, sessionId: string): void {
  reply.setCookie(SESSION_COOKIE, sessionId, { ...base, sameSite: 'lax' });
}

export function clearSessionCookie(reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, { ...base, sameSite: 'lax' });
}

export function setLoginCookie(reply: FastifyReply, transactionId: string): void {
  reply.setCookie(LOGIN_COOKIE, transactionId, { ...base, sameSite: 'lax', maxAge: 600 });
}

export function clearLoginCookie(reply: FastifyReply): void {
  reply.clearCookie(LOGIN_COOKIE, { ...base, sameSite: 'lax' });
}

/**
 * The CSRF token of a page: a random value in a `__Host-` cookie repeated in a
 * hidden form field (double submit). The cookie is reused while it lives, and
 * replaced after sign-in so a pre-login token cannot be carried across.
 */
export function csrfToken(req: FastifyRequest, reply: FastifyReply, fresh = false): string {
  const existing = fresh ? undefined : readCookie(req, CSRF_COOKIE);
  if (existing) return existing;
  const token = randomBytes(32).toString('base64url');
  reply.setCookie(CSRF_COOKIE, token, { ...base, sameSite: 'strict' });
  return token;
}

export function csrfValid(req: FastifyRequest, submitted: unknown): boolean {
  const cookie = readCookie(req, CSRF_COOKIE);
  if (!cookie || typeof submitted !== 'string') return false;
  const a = Buffer.from(cookie);
  const b = Buffer.from(submitted);
  return a.length === b.length && timingSafeEqual(a, b);
}

const header = (req: FastifyRequest, name: string): string => {
  const v = req.headers[name];
  return (Array.isArray(v) ? v.join(',') : (v ?? '')).slice(0, 512);
};

/**
 * A device fingerprint for the audit trail: a digest of what the browser says
 * about itself (user agent, languages, client hints). It recognises a device
 * again; it is no secret and proves nothing.
 */
export function deviceFingerprint(req: FastifyRequest): string {
  const parts = ['user-agent', 'accept-language', 'sec-ch-ua', 'sec-ch-ua-platform', 'sec-ch-ua-mobile'].map((h) => header(req, h));
  return createHash('sha256').update(parts.join('\n')).digest('base64url').slice(0, 32);
}

/** Where a request comes from, for authn (the IP as the configured trusted proxies allow). */
export function clientInfo(req: FastifyRequest): ClientInfo {
  return { ip: req.ip.slice(0, 45), userAgent: header(req, 'user-agent').slice(0, 1024), deviceFingerprint: deviceFingerprint(req) };
}

/**
 * A signed-in hosted-login session as other parts of the gateway see it.
 * Stable API for the OIDC provider (apps/gateway/src/oidc) and anything else
 * that must know "is someone signed in to this tenant, who, since when, how":
 * - `userId`, `tenantId`;
 * - `authTime`: when the user last authenticated (OIDC `auth_time`, seconds
 *   via `Math.floor(Date.parse(authTime) / 1000)`);
 * - `amr`: methods used, RFC 8176 values where one fits (`pwd`; `temp_pwd` for a one-time password);
 * - `mustChangePassword`: the session may do nothing but change its password
 *   (treat it as not signed in for SSO; send the user to `/t/{slug}/password`).
 */
export interface HostedSession {
  readonly sessionId: string;
  readonly tenantId: string;
  readonly userId: string;
  readonly authTime: string;
  readonly amr: readonly string[];
  readonly mustChangePassword: boolean;
  readonly passwordExpiresSoon: string | null;
  readonly expiresAt: string;
}

/** Reads the hosted-login session of a request. */
@Injectable()
export class WebSessions {
  constructor(private readonly bus: BusClient) {}

  /**
   * The live session behind the request's cookie if it belongs to `tenantId`,
   * else null (none, ended, idle or too old, another tenant's). Reading it
   * renews its idle timer.
   */
  async current(req: FastifyRequest, tenantId: string, ctx: CallContext): Promise<HostedSession | null> {
    const sessionId = readCookie(req, SESSION_COOKIE);
    if (!sessionId) return null;
    try {
      const s = await this.bus.request('musubi.authn.session.get.v1', { sessionId }, { ...ctx, tenantId, caller: { kind: 'service', service: 'gateway' } });
      if (s.tenantId !== tenantId) return null;
      return {
        sessionId,
        tenantId: s.tenantId,
        userId: s.userId,
        authTime: s.authTime,
        amr: s.amr,
        mustChangePassword: s.mustChangePassword,
        passwordExpiresSoon: s.passwordExpiresSoon,
        expiresAt: s.expiresAt,
      };
    } catch (err) {
      if (err instanceof DomainError && err.code === 'unauthenticated') return null;
      throw err;
    }
  }
}
