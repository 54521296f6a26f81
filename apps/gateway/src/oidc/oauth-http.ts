import type { FastifyReply, FastifyRequest } from 'fastify';
import type { OAuthErrorCode } from '@musubi/contracts';
import { assertUnreachable } from '@musubi/platform/errors';

/** Protocol parameters: each at most once (RFC 6749 §3.1: a repeated parameter is an invalid request). */
export type Params = Record<string, string>;

/** The parameters of a query string or url-encoded body; null when one is repeated or not text. */
export function singleParams(source: unknown): Params | null {
  const out: Params = {};
  if (source === undefined || source === null) return out;
  if (typeof source !== 'object') return null;
  for (const [k, v] of Object.entries(source as Record<string, unknown>)) {
    if (typeof v !== 'string') return null;
    if (k.length > 100 || v.length > 8192) return null;
    // Empty parameters are treated as absent (RFC 6749 §3.1).
    if (v !== '') out[k] = v;
  }
  return Object.keys(out).length > 60 ? null : out;
}

/** `Authorization: Basic`, with client_id and secret form-url-decoded (RFC 6749 §2.3.1); undefined when absent, null when malformed. */
export function basicCredentials(req: FastifyRequest): { clientId: string; clientSecret: string } | null | undefined {
  const h = req.headers.authorization;
  if (h === undefined) return undefined;
  const m = /^Basic ([A-Za-z0-9+/=]{1,1000})$/i.exec(h);
  if (!m?.[1]) return null;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return null;
  try {
    const clientId = decodeURIComponent(decoded.slice(0, i).replace(/\+/g, ' '));
    const clientSecret = decodeURIComponent(decoded.slice(i + 1).replace(/\+/g, ' '));
    return clientId.length > 200 || clientSecret.length > 500 ? null : { clientId, clientSecret };
  } catch {
    return null;
  }
}

export const isForm = (req: FastifyRequest): boolean => (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() === 'application/x-www-form-urlencoded';

/** The one mapping from OAuth error codes to HTTP status (RFC 6749 §5.2, RFC 6750 §3.1). */
export function oauthStatus(error: OAuthErrorCode): number {
  switch (error) {
    case 'invalid_client':
    case 'invalid_token':
      return 401;
    case 'insufficient_scope':
      return 403;
    case 'server_error':
      return 500;
    case 'temporarily_unavailable':
      return 503;
    case 'invalid_request':
    case 'invalid_grant':
    case 'unauthorized_client':
    case 'unsupported_grant_type':
    case 'unsupported_response_type':
    case 'unsupported_token_type':
    case 'invalid_scope':
    case 'access_denied':
    case 'login_required':
    case 'consent_required':
    case 'interaction_required':
    case 'invalid_request_uri':
      return 400;
    default:
      return assertUnreachable(error, 'OAuth error');
  }
}

/** A JSON answer of a protocol endpoint: never cached (RFC 6749 §5.1). */
export function sendJson(reply: FastifyReply, status: number, body: unknown): void {
  reply.code(status).header('content-type', 'application/json; charset=utf-8').header('cache-control', 'no-store').header('pragma', 'no-cache').send(JSON.stringify(body));
}

export function sendOAuthError(reply: FastifyReply, error: OAuthErrorCode, description: string, basicUsed = false): void {
  const status = oauthStatus(error);
  if (status === 401 && basicUsed) reply.header('www-authenticate', 'Basic realm="musubi"');
  sendJson(reply, status, { error, error_description: description });
}
