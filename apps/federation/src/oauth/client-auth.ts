import { Injectable } from '@nestjs/common';
import { createLocalJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { OIDC_PATHS, type ClientAuthenticatedRequest, type OAuthError, type TokenEndpointAuthMethod } from '@musubi/contracts';
import { ClientCache } from '../clients/client-cache.js';
import type { OidcClient } from '../clients/client.js';
import { hashToken, sameHash } from '../crypto/opaque-token.js';
import { GrantRepository } from './grant.repository.js';
import { oauthError } from './oauth-error.js';

export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** Asymmetric algorithms only: a shared-secret (HS*) or unsigned assertion is refused. */
const ASSERTION_ALGS = ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'];
const MAX_ASSERTION_LIFETIME_S = 600;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const invalidClient = (why: string): OAuthError => oauthError('invalid_client', why);

/**
 * Client authentication at the token, introspection, revocation and PAR
 * endpoints (RFC 6749 §2.3, OIDC Core §9): exactly one method, and the one the
 * client registered. Every failure reads the same from outside.
 */
@Injectable()
export class ClientAuthenticator {
  constructor(
    private readonly clients: ClientCache,
    private readonly grants: GrantRepository,
  ) {}

  /**
   * The authenticated client, or an error. A public client "authenticates"
   * with its client_id alone where `allowPublic` says so (token endpoint, PAR,
   * revocation); introspection needs a confidential client.
   */
  async authenticate(req: ClientAuthenticatedRequest, endpoint: string, allowPublic: boolean): Promise<OidcClient | OAuthError> {
    const p = req.params;
    const assertion = p['client_assertion'];
    const methods: TokenEndpointAuthMethod[] = [];
    if (req.basic) methods.push('client_secret_basic');
    if (p['client_secret'] !== undefined) methods.push('client_secret_post');
    if (assertion !== undefined || p['client_assertion_type'] !== undefined) methods.push('private_key_jwt');
    if (methods.length > 1) return oauthError('invalid_request', 'Use exactly one client authentication method.');
    const method: TokenEndpointAuthMethod = methods[0] ?? 'none';

    let clientId: string | undefined;
    let assertionClaims: JWTPayload | undefined;
    if (method === 'client_secret_basic') clientId = req.basic?.clientId;
    else if (method === 'private_key_jwt') {
      if (p['client_assertion_type'] !== JWT_BEARER || !assertion) return oauthError('invalid_request', `client_assertion_type must be ${JWT_BEARER}, with a client_assertion.`);
      // The issuer names the client; nothing in the assertion is trusted before its signature is checked below.
      clientId = peekIssuer(assertion);
    } else clientId = p['client_id'];
    if (p['client_id'] !== undefined && clientId !== undefined && p['client_id'] !== clientId) return oauthError('invalid_request', 'client_id does not match the client authentication.');
    if (!clientId || !UUID.test(clientId)) return invalidClient('Client authentication failed.');

    const client = await this.clients.get(req.tenantId, clientId);
    if (!client) return invalidClient('Client authentication failed.');
    // The registered method only: a client cannot be made to authenticate more weakly than it registered.
    if (client.settings.tokenEndpointAuthMethod !== method) {
      return invalidClient('Client authentication failed.');
    }
    switch (method) {
      case 'none':
        if (!allowPublic) return invalidClient('This endpoint needs an authenticated (confidential) client.');
        return client;
      case 'client_secret_basic':
      case 'client_secret_post': {
        const secret = method === 'client_secret_basic' ? req.basic?.clientSecret : p['client_secret'];
        if (!secret || !client.secretHash || !sameHash(hashToken(secret), client.secretHash)) return invalidClient('Client authentication failed.');
        return client;
      }
      case 'private_key_jwt': {
        if (!client.settings.jwks) return invalidClient('Client authentication failed.');
        try {
          const audiences = [req.issuer, `${req.issuer}${OIDC_PATHS.token}`, `${req.issuer}${endpoint}`];
          const verified = await jwtVerify(assertion ?? '', createLocalJWKSet(client.settings.jwks as never), {
            issuer: client.id,
            subject: client.id,
            audience: audiences,
            algorithms: ASSERTION_ALGS,
            requiredClaims: ['exp', 'jti'],
            clockTolerance: 30,
          });
          assertionClaims = verified.payload;
        } catch {
          return invalidClient('The client assertion is not valid.');
        }
        const exp = assertionClaims.exp ?? 0;
        const jti = assertionClaims.jti ?? '';
        if (exp - Math.floor(Date.now() / 1000) > MAX_ASSERTION_LIFETIME_S) return invalidClient('The client assertion lives too long (at most 10 minutes).');
        if (jti.length === 0 || jti.length > 200) return invalidClient('The client assertion needs a jti.');
        if (!(await this.grants.recordAssertionId(client.id, jti, new Date((exp + 60) * 1000)))) return invalidClient('This client assertion was used before.');
        return client;
      }
    }
  }
}

/** The unverified `iss` of a JWT, only to find which client's keys verify it. */
function peekIssuer(jwt: string): string | undefined {
  const part = jwt.split('.')[1];
  if (!part || part.length > 8192) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as { iss?: unknown };
    return typeof claims.iss === 'string' ? claims.iss : undefined;
  } catch {
    return undefined;
  }
}
