import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { CONFIG } from '@musubi/platform/runtime';
import type { OidcClient } from '../clients/client.js';
import type { FederationConfig } from '../config/env.schema.js';
import { signJws } from '../keys/jws.js';
import { SigningKeysService } from '../keys/signing-keys.service.js';
import type { Grant } from './grant.repository.js';

/** Left half of SHA-256, base64url (OIDC Core §3.1.3.6 at_hash, for ES256 and RS256 alike). */
export const leftHash = (value: string): string => createHash('sha256').update(value, 'ascii').digest().subarray(0, 16).toString('base64url');

@Injectable()
export class IdTokens {
  readonly ttlSeconds: number;

  constructor(
    private readonly keys: SigningKeysService,
    @Inject(CONFIG) config: FederationConfig,
  ) {
    this.ttlSeconds = config.OIDC_ID_TOKEN_TTL_SECONDS;
  }

  /** An ID token for the grant's user, signed with the algorithm the client registered. */
  async issue(issuer: string, client: OidcClient, grant: Grant, userClaims: Record<string, unknown>, extra: { nonce: string | null; accessToken: string }): Promise<string> {
    const key = await this.keys.signingKey(client.tenantId, client.settings.idTokenSignedResponseAlg);
    const iat = Math.floor(Date.now() / 1000);
    const payload: Record<string, unknown> = {
      ...userClaims,
      iss: issuer,
      sub: grant.userId,
      aud: client.id,
      azp: client.id,
      iat,
      exp: iat + this.ttlSeconds,
      auth_time: Math.floor(grant.authTime.getTime() / 1000),
      amr: [...grant.amr],
      at_hash: leftHash(extra.accessToken),
    };
    if (extra.nonce !== null) payload['nonce'] = extra.nonce;
    if (grant.acr !== null) payload['acr'] = grant.acr;
    if (grant.sid !== null) payload['sid'] = grant.sid;
    return signJws({ alg: key.alg, kid: key.kid, typ: 'JWT' }, payload, key.key);
  }
}
