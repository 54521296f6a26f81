import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** `__Host-` cookies: Secure, Path=/, no Domain, so no sibling host can set or read them. */
export const SESSION_COOKIE = '__Host-musubi-session';
export const CSRF_COOKIE = '__Host-musubi-csrf';

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
