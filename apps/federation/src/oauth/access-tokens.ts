import { Inject, Injectable } from '@nestjs/common';
import { CONFIG } from '@musubi/platform/runtime';
import type { FederationConfig } from '../config/env.schema.js';
import { randomToken } from '../crypto/opaque-token.js';
import { decodeJws, signJws, verifyJws, type JsonObject } from '../keys/jws.js';
import { SigningKeysService } from '../keys/signing-keys.service.js';
import { ClientCache } from '../clients/client-cache.js';
import { GrantRepository } from './grant.repository.js';
import { ChangeFeed } from './change-feed.js';

/** The claims of one of our access tokens (RFC 9068), after every check. */
export interface AccessClaims {
  readonly iss: string;
  readonly sub: string;
  readonly aud: string;
  readonly client_id: string;
  readonly scope: string;
  readonly jti: string;
  readonly iat: number;
  readonly exp: number;
  /** The grant it came from (user tokens); revoking the grant revokes it. */
  readonly gid?: string;
  readonly auth_time?: number;
}

export const AT_TYP = 'at+jwt';

/**
 * Access tokens are JWTs signed with the tenant's ES256 key (RFC 9068 profile):
 * resource servers may verify them offline; introspection and userinfo also
 * check revocation (by jti, or through the grant).
 */
@Injectable()
export class AccessTokens {
  readonly ttlSeconds: number;

  constructor(
    private readonly keys: SigningKeysService,
    private readonly grants: GrantRepository,
    private readonly revocations: ChangeFeed,
    private readonly clients: ClientCache,
    @Inject(CONFIG) config: FederationConfig,
  ) {
    this.ttlSeconds = config.OIDC_ACCESS_TOKEN_TTL_SECONDS;
  }

  async issue(tenantId: string, claims: { iss: string; sub: string; client_id: string; scope: string; gid?: string; auth_time?: number }): Promise<{ token: string; jti: string; exp: number }> {
    const key = await this.keys.signingKey(tenantId, 'ES256');
    const iat = Math.floor(Date.now() / 1000);
    const jti = randomToken(16);
    const exp = iat + this.ttlSeconds;
    const payload: JsonObject = { ...claims, aud: claims.client_id, jti, iat, exp };
    return { token: signJws({ alg: key.alg, kid: key.kid, typ: AT_TYP }, payload, key.key), jti, exp };
  }

  /** The token's claims if it is ours (this tenant's key, this issuer), unexpired and not revoked; null otherwise. */
  async verify(tenantId: string, issuer: string, token: string, checkRevocation = true): Promise<AccessClaims | null> {
    const jws = decodeJws(token);
    if (!jws) return null;
    const { header, payload } = jws;
    if (header['typ'] !== AT_TYP || typeof header['kid'] !== 'string' || 'crit' in header) return null;
    const key = await this.keys.verificationKey(tenantId, header['kid']);
    if (!key || !verifyJws(jws, key.alg, key.key)) return null;
    const now = Math.floor(Date.now() / 1000);
    if (payload['iss'] !== issuer || typeof payload['exp'] !== 'number' || payload['exp'] <= now) return null;
    if (typeof payload['jti'] !== 'string' || typeof payload['sub'] !== 'string' || typeof payload['client_id'] !== 'string') return null;
    const gid = typeof payload['gid'] === 'string' ? payload['gid'] : null;
    if (checkRevocation) {
      // A deleted client's tokens die with it (client-credentials tokens have no grant to revoke).
      if (!(await this.clients.get(tenantId, payload['client_id']))) return null;
      const revoked = this.revocations.isRevoked(payload['jti'], gid) ?? (await this.grants.isRevoked(payload['jti'], gid));
      if (revoked) return null;
    }
    return payload as unknown as AccessClaims;
  }
}
