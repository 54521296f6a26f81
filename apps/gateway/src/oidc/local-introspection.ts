import { createHash, timingSafeEqual, verify } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { IntrospectionState } from './introspection-state.js';
import type { Params } from './oauth-http.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const B64URL = /^[A-Za-z0-9_-]+$/;
const AT_TYP = 'at+jwt';

type Json = Record<string, unknown>;

function jsonPart(part: string): Json | null {
  try {
    const v: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : null;
  } catch {
    return null;
  }
}

const INACTIVE = { active: false } as const;
/** Tokens whose signature, header and issuer were checked, kept while their keys are unchanged (resource servers introspect the same token again and again); at most ~10 MB. */
const MAX_VERIFIED = 10_000;

/** An access token's claims once its signature, header and issuer were checked. */
interface Checked {
  readonly exp: number;
  readonly jti: string;
  readonly clientId: string;
  readonly gid: string | null;
  readonly claims: Json;
}

interface Verified {
  readonly tenantId: string;
  readonly issuer: string;
  readonly keysGeneration: number;
  readonly checked: Checked;
}

/**
 * Token introspection (RFC 7662) answered in the gateway, for the common case:
 * a confidential client authenticating with its secret (basic or post) asks
 * about one of the tenant's JWT access tokens. Everything else — another
 * authentication method (private_key_jwt needs federation's replay store), a
 * refresh token, any malformed or failed request, a key this gateway does not
 * know, or a copy of federation's state that is not current — returns null,
 * and the caller asks federation, which stays the authority. The checks are
 * federation's (`AccessTokens.verify`), in the same order.
 */
@Injectable()
export class LocalIntrospection {
  private readonly verified = new Map<string, Verified>();

  constructor(private readonly state: IntrospectionState) {}

  /** The RFC 7662 response, or null: ask federation. */
  async answer(tenantId: string, issuer: string, params: Params, basic: { clientId: string; clientSecret: string } | undefined): Promise<Json | null> {
    if (!this.state.current()) return null;
    if (params['client_assertion'] !== undefined || params['client_assertion_type'] !== undefined) return null;
    let method: 'client_secret_basic' | 'client_secret_post';
    let clientId: string | undefined;
    let secret: string | undefined;
    if (basic) {
      if (params['client_secret'] !== undefined) return null;
      method = 'client_secret_basic';
      clientId = basic.clientId;
      secret = basic.clientSecret;
    } else {
      method = 'client_secret_post';
      clientId = params['client_id'];
      secret = params['client_secret'];
    }
    if (params['client_id'] !== undefined && params['client_id'] !== clientId) return null;
    if (!clientId || !secret || !UUID.test(clientId)) return null;
    const caller = await this.state.client(tenantId, clientId);
    if (!caller || caller.tokenEndpointAuthMethod !== method || !caller.secretHash) return null;
    const given = createHash('sha256').update(secret, 'utf8').digest();
    if (given.length !== caller.secretHash.length || !timingSafeEqual(given, caller.secretHash)) return null;

    const token = params['token'];
    if (!token || !token.includes('.')) return null;
    const result = await this.verify(tenantId, issuer, token);
    // Whatever was awaited, the answer stands only if the copy was current throughout.
    if (result === null || !this.state.current()) return null;
    return result;
  }

  /** INACTIVE, the active response, or null when only federation can tell (a kid this gateway has not seen). */
  private async verify(tenantId: string, issuer: string, token: string): Promise<Json | null> {
    const seen = this.verified.get(token);
    if (seen && seen.tenantId === tenantId && seen.issuer === issuer && seen.keysGeneration === this.state.keysGeneration) return this.live(tenantId, seen.checked);
    const keysGeneration = this.state.keysGeneration;
    const checked = await this.signed(tenantId, issuer, token);
    if (checked === null || !('jti' in checked)) return checked;
    if (this.verified.size >= MAX_VERIFIED) this.verified.clear();
    this.verified.set(token, { tenantId, issuer, keysGeneration, checked });
    return this.live(tenantId, checked);
  }

  /** The claims of a token signed by one of the tenant's keys for this issuer; INACTIVE, or null when only federation can tell (a kid this gateway has not seen). */
  private async signed(tenantId: string, issuer: string, token: string): Promise<Checked | typeof INACTIVE | null> {
    if (token.length > 8192) return INACTIVE;
    const parts = token.split('.');
    if (parts.length !== 3) return INACTIVE;
    const [h, p, s] = parts as [string, string, string];
    if (!B64URL.test(h) || !B64URL.test(p) || !B64URL.test(s)) return INACTIVE;
    const header = jsonPart(h);
    const claims = jsonPart(p);
    if (!header || !claims) return INACTIVE;
    const kid = header['kid'];
    if (header['typ'] !== AT_TYP || typeof kid !== 'string' || 'crit' in header) return INACTIVE;
    const key = await this.state.key(tenantId, kid);
    if (!key) return null;
    // The header's alg must be exactly the key's: `none` and HS256-with-the-public-key never reach the crypto.
    if (header['alg'] !== key.alg) return INACTIVE;
    const signature = Buffer.from(s, 'base64url');
    if (key.alg === 'ES256' && signature.length !== 64) return INACTIVE;
    let valid = false;
    try {
      valid = verify('sha256', Buffer.from(`${h}.${p}`, 'ascii'), key.alg === 'ES256' ? { key: key.key, dsaEncoding: 'ieee-p1363' } : key.key, signature);
    } catch {
      valid = false;
    }
    if (!valid) return INACTIVE;
    const { jti, sub, exp, client_id: clientId } = claims;
    if (claims['iss'] !== issuer || typeof exp !== 'number') return INACTIVE;
    if (typeof jti !== 'string' || typeof sub !== 'string' || typeof clientId !== 'string') return INACTIVE;
    if (!UUID.test(clientId)) return null;
    return { exp, jti, clientId, gid: typeof claims['gid'] === 'string' ? claims['gid'] : null, claims };
  }

  /** What is checked on every call, verified or not: expiry, the client still registered, revocation. */
  private async live(tenantId: string, { exp, jti, clientId, gid, claims }: Checked): Promise<Json> {
    if (exp <= Math.floor(Date.now() / 1000)) return INACTIVE;
    // A deleted client's tokens die with it; a revoked token or grant is inactive.
    if (!(await this.state.client(tenantId, clientId))) return INACTIVE;
    if (this.state.isRevoked(jti, gid)) return INACTIVE;
    return {
      active: true,
      token_type: 'Bearer',
      scope: claims['scope'],
      client_id: clientId,
      sub: claims['sub'],
      aud: claims['aud'],
      iss: claims['iss'],
      exp,
      iat: claims['iat'],
      jti,
      ...(claims['auth_time'] !== undefined ? { auth_time: claims['auth_time'] } : {}),
    };
  }
}
