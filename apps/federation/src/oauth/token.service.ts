import { Inject, Injectable } from '@nestjs/common';
import { OIDC_PATHS, type ClientAuthenticatedRequest, type IntrospectionReply, type RevocationReply, type TokenReply, type UserinfoReply } from '@musubi/contracts';
import { OutboxWriter } from '@musubi/platform/bus';
import { UnitOfWork } from '@musubi/platform/db';
import { CONFIG } from '@musubi/platform/runtime';
import { ClientCache } from '../clients/client-cache.js';
import type { OidcClient } from '../clients/client.js';
import type { FederationConfig } from '../config/env.schema.js';
import { hashToken, randomToken, s256 } from '../crypto/opaque-token.js';
import { AccessTokens } from './access-tokens.js';
import { ClientAuthenticator } from './client-auth.js';
import { GrantRepository, type Grant } from './grant.repository.js';
import { IdTokens } from './id-tokens.js';
import { IssuedEvents } from './issued-events.js';
import { isOAuthError, oauthError } from './oauth-error.js';
import { ChangeFeed } from './change-feed.js';
import { parseScope, scopeString } from './scopes.js';
import { UserClaims } from './user-claims.js';

const PKCE_VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;
/** Scopes about a user: meaningless for a client acting as itself. */
const USER_SCOPES = new Set(['openid', 'offline_access', 'profile', 'email', 'phone', 'groups']);

const clientRef = (c: OidcClient) => ({ id: c.id, name: c.settings.name });

/** The token endpoint, introspection, revocation and userinfo. */
@Injectable()
export class TokenService {
  private readonly refreshTtlMs: number;

  constructor(
    private readonly auth: ClientAuthenticator,
    private readonly clients: ClientCache,
    private readonly grants: GrantRepository,
    private readonly revocations: ChangeFeed,
    private readonly access: AccessTokens,
    private readonly idTokens: IdTokens,
    private readonly issued: IssuedEvents,
    private readonly users: UserClaims,
    private readonly uow: UnitOfWork,
    private readonly outbox: OutboxWriter,
    @Inject(CONFIG) config: FederationConfig,
  ) {
    this.refreshTtlMs = config.OIDC_REFRESH_TOKEN_TTL_SECONDS * 1000;
  }

  async token(req: ClientAuthenticatedRequest): Promise<TokenReply> {
    const grantType = req.params['grant_type'];
    if (grantType !== 'client_credentials' && grantType !== 'authorization_code' && grantType !== 'refresh_token') {
      return oauthError(grantType ? 'unsupported_grant_type' : 'invalid_request', grantType ? `The ${grantType} grant is not supported.` : 'grant_type is missing.');
    }
    const client = await this.auth.authenticate(req, OIDC_PATHS.token, true);
    if (isOAuthError(client)) return client;
    if (!client.settings.grantTypes.includes(grantType)) return oauthError('unauthorized_client', `This client may not use the ${grantType} grant.`);
    switch (grantType) {
      case 'client_credentials':
        return this.clientCredentials(req, client);
      case 'authorization_code':
        return this.authorizationCode(req, client);
      case 'refresh_token':
        return this.refresh(req, client);
    }
  }

  private async clientCredentials(req: ClientAuthenticatedRequest, client: OidcClient): Promise<TokenReply> {
    const requested = parseScope(req.params['scope']);
    if (requested === null) return oauthError('invalid_scope', 'The scope parameter is malformed.');
    const allowed = client.settings.scopes.filter((s) => !USER_SCOPES.has(s));
    const bad = requested.filter((s) => !allowed.includes(s));
    if (bad.length > 0) return oauthError('invalid_scope', `This client may not ask for: ${bad.join(' ')}.`);
    const scopes = requested.length > 0 ? requested : client.settings.defaultScopes.filter((s) => allowed.includes(s));
    const scope = scopeString(scopes);
    const at = await this.access.issue(client.tenantId, { iss: req.issuer, sub: client.id, client_id: client.id, scope });
    await this.issued.record(client.tenantId, clientRef(client), scopes, at.jti);
    return { kind: 'tokens', accessToken: at.token, tokenType: 'Bearer', expiresIn: this.access.ttlSeconds, scope };
  }

  /** Revokes a grant whose code or refresh token came back after use, and says so in the trail. */
  private async reuseDetected(client: OidcClient, grantId: string, userId: string | null, reason: 'refresh_token_reused' | 'code_reused'): Promise<void> {
    await this.uow.run(async (tx) => {
      if (await this.grants.revokeGrant(tx, grantId, new Date())) await this.revocations.revokedGrants(tx, [grantId]);
      await this.outbox.append(tx, 'musubi.federation.token.reuse-detected.v1', { client: clientRef(client), userId, grantId, reason }, { tenantId: client.tenantId });
    });
  }

  private async authorizationCode(req: ClientAuthenticatedRequest, client: OidcClient): Promise<TokenReply> {
    const code = req.params['code'];
    const redirectUri = req.params['redirect_uri'];
    const verifier = req.params['code_verifier'];
    if (!code || code.length > 200) return oauthError('invalid_request', 'code is missing.');
    if (verifier !== undefined && !PKCE_VERIFIER.test(verifier)) return oauthError('invalid_grant', 'The code_verifier is malformed.');
    const now = new Date();
    type Outcome = { ok: true; grantId: string } | { ok: false; reply: TokenReply; reusedGrant?: string };
    const outcome = await this.uow.run(async (tx): Promise<Outcome> => {
      const c = await this.grants.lockCode(tx, client.tenantId, hashToken(code));
      if (!c || c.clientId !== client.id) return { ok: false, reply: oauthError('invalid_grant', 'The code is not valid.') };
      if (c.usedAt) return { ok: false, reply: oauthError('invalid_grant', 'The code was used before; the tokens issued for it are revoked.'), reusedGrant: c.grantId };
      await this.grants.markCodeUsed(tx, c.codeHash, now);
      if (c.expiresAt <= now) return { ok: false, reply: oauthError('invalid_grant', 'The code has expired.') };
      if (redirectUri !== c.redirectUri) return { ok: false, reply: oauthError('invalid_grant', 'redirect_uri does not match the authorization request.') };
      if (c.codeChallenge === null) {
        if (verifier !== undefined) return { ok: false, reply: oauthError('invalid_grant', 'A code_verifier was sent, but the authorization request had no code_challenge.') };
      } else {
        if (verifier === undefined) return { ok: false, reply: oauthError('invalid_grant', 'code_verifier is missing.') };
        if (s256(verifier) !== c.codeChallenge) return { ok: false, reply: oauthError('invalid_grant', 'The code_verifier does not match the code_challenge.') };
      }
      return { ok: true, grantId: c.grantId };
    });
    if (!outcome.ok) {
      if (outcome.reusedGrant) {
        const g = await this.grants.findGrant(client.tenantId, outcome.reusedGrant);
        await this.reuseDetected(client, outcome.reusedGrant, g?.userId ?? null, 'code_reused');
      }
      return outcome.reply;
    }
    const grant = await this.grants.findGrant(client.tenantId, outcome.grantId);
    if (!grant || grant.revokedAt) return oauthError('invalid_grant', 'The authorization was revoked.');
    return this.issueForGrant(req.issuer, client, grant, grant.nonce, 'authorization_code');
  }

  private async refresh(req: ClientAuthenticatedRequest, client: OidcClient): Promise<TokenReply> {
    const token = req.params['refresh_token'];
    if (!token || token.length > 200) return oauthError('invalid_request', 'refresh_token is missing.');
    const narrowed = parseScope(req.params['scope']);
    if (narrowed === null) return oauthError('invalid_scope', 'The scope parameter is malformed.');
    const hash = hashToken(token);
    const now = new Date();
    const peek = await this.grants.lockRefresh(undefined, client.tenantId, hash, false);
    if (!peek || peek.clientId !== client.id) return oauthError('invalid_grant', 'The refresh token is not valid.');
    const grant = await this.grants.findGrant(client.tenantId, peek.grantId);
    if (!grant || grant.revokedAt) return oauthError('invalid_grant', 'The refresh token was revoked.');
    if (narrowed.some((s) => !peek.scopes.includes(s))) return oauthError('invalid_scope', 'A refresh may only narrow the scopes granted.');
    const scopes = narrowed.length > 0 ? narrowed : [...peek.scopes];
    type Outcome = { ok: true; refreshToken: string } | { ok: false; reused: boolean; reply: TokenReply };
    const outcome = await this.uow.run(async (tx): Promise<Outcome> => {
      const r = await this.grants.lockRefresh(tx, client.tenantId, hash);
      if (!r) return { ok: false, reused: false, reply: oauthError('invalid_grant', 'The refresh token is not valid.') };
      if (r.usedAt) return { ok: false, reused: true, reply: oauthError('invalid_grant', 'The refresh token was used before; its whole family is revoked.') };
      if (r.expiresAt <= now) return { ok: false, reused: false, reply: oauthError('invalid_grant', 'The refresh token has expired.') };
      await this.grants.markRefreshUsed(tx, hash, now);
      const next = randomToken(32);
      await this.grants.insertRefresh(tx, {
        tokenHash: hashToken(next),
        tenantId: client.tenantId,
        grantId: grant.id,
        clientId: client.id,
        scopes: r.scopes,
        createdAt: now,
        expiresAt: new Date(Math.min(now.getTime() + this.refreshTtlMs, grant.expiresAt.getTime())),
        usedAt: null,
      });
      return { ok: true, refreshToken: next };
    });
    if (!outcome.ok) {
      if (outcome.reused) await this.reuseDetected(client, grant.id, grant.userId, 'refresh_token_reused');
      return outcome.reply;
    }
    return this.issueForGrant(req.issuer, client, { ...grant, scopes }, null, 'refresh_token', outcome.refreshToken);
  }

  /** Access token, ID token (with openid) and refresh token for a user's grant, once the user is still active and assigned. */
  private async issueForGrant(issuer: string, client: OidcClient, grant: Grant, nonce: string | null, grantType: 'authorization_code' | 'refresh_token', rotated?: string): Promise<TokenReply> {
    const u = await this.users.activeUser(client.tenantId, grant.userId, this.users.needsGroups(client, grant.scopes));
    if (!u || !this.users.assigned(client, u)) {
      await this.uow.run(async (tx) => {
        if (await this.grants.revokeGrant(tx, grant.id, new Date())) await this.revocations.revokedGrants(tx, [grant.id]);
      });
      return oauthError('invalid_grant', 'The user may no longer use this application.');
    }
    const scope = scopeString(grant.scopes);
    const at = await this.access.issue(client.tenantId, {
      iss: issuer,
      sub: grant.userId,
      client_id: client.id,
      scope,
      gid: grant.id,
      auth_time: Math.floor(grant.authTime.getTime() / 1000),
    });
    const idToken = grant.scopes.includes('openid') ? await this.idTokens.issue(issuer, client, grant, this.users.claims(client, u, grant.scopes), { nonce, accessToken: at.token }) : undefined;
    let refreshToken = rotated;
    const now = new Date();
    await this.uow.run(async (tx) => {
      if (refreshToken === undefined && client.settings.grantTypes.includes('refresh_token')) {
        refreshToken = randomToken(32);
        await this.grants.insertRefresh(tx, {
          tokenHash: hashToken(refreshToken),
          tenantId: client.tenantId,
          grantId: grant.id,
          clientId: client.id,
          scopes: grant.scopes,
          createdAt: now,
          expiresAt: new Date(Math.min(now.getTime() + this.refreshTtlMs, grant.expiresAt.getTime())),
          usedAt: null,
        });
      }
      await this.outbox.append(
        tx,
        'musubi.federation.token.issued.v1',
        {
          client: clientRef(client),
          grantType,
          userId: grant.userId,
          scopes: [...grant.scopes],
          count: 1,
          tokenIds: [at.jti],
          refreshToken: refreshToken !== undefined,
          idToken: idToken !== undefined,
        },
        { tenantId: client.tenantId, actor: { kind: 'user', userId: grant.userId, tenantId: client.tenantId, roles: [] } },
      );
    });
    return {
      kind: 'tokens',
      accessToken: at.token,
      tokenType: 'Bearer',
      expiresIn: this.access.ttlSeconds,
      scope,
      ...(refreshToken !== undefined ? { refreshToken } : {}),
      ...(idToken !== undefined ? { idToken } : {}),
    };
  }

  async introspect(req: ClientAuthenticatedRequest): Promise<IntrospectionReply> {
    const caller = await this.auth.authenticate(req, OIDC_PATHS.introspection, false);
    if (isOAuthError(caller)) return caller;
    const token = req.params['token'];
    if (!token) return oauthError('invalid_request', 'token is missing.');
    const inactive: IntrospectionReply = { kind: 'introspection', response: { active: false } };
    if (token.includes('.')) {
      const claims = await this.access.verify(caller.tenantId, req.issuer, token);
      if (!claims) return inactive;
      return {
        kind: 'introspection',
        response: {
          active: true,
          token_type: 'Bearer',
          scope: claims.scope,
          client_id: claims.client_id,
          sub: claims.sub,
          aud: claims.aud,
          iss: claims.iss,
          exp: claims.exp,
          iat: claims.iat,
          jti: claims.jti,
          ...(claims.auth_time !== undefined ? { auth_time: claims.auth_time } : {}),
        },
      };
    }
    if (token.length > 200) return inactive;
    // A refresh token is shown only to the client it was issued to.
    const r = await this.grants.lockRefresh(undefined, caller.tenantId, hashToken(token), false);
    if (!r || r.clientId !== caller.id || r.usedAt || r.expiresAt <= new Date()) return inactive;
    const grant = await this.grants.findGrant(caller.tenantId, r.grantId);
    if (!grant || grant.revokedAt) return inactive;
    return {
      kind: 'introspection',
      response: {
        active: true,
        token_type: 'refresh_token',
        scope: scopeString(r.scopes),
        client_id: r.clientId,
        sub: grant.userId,
        iss: req.issuer,
        exp: Math.floor(r.expiresAt.getTime() / 1000),
        iat: Math.floor(r.createdAt.getTime() / 1000),
      },
    };
  }

  async revoke(req: ClientAuthenticatedRequest): Promise<RevocationReply> {
    const client = await this.auth.authenticate(req, OIDC_PATHS.revocation, true);
    if (isOAuthError(client)) return client;
    const token = req.params['token'];
    if (!token) return oauthError('invalid_request', 'token is missing.');
    const hint = req.params['token_type_hint'];
    if (hint !== undefined && hint !== 'access_token' && hint !== 'refresh_token') return oauthError('unsupported_token_type', `Unknown token_type_hint ${hint}.`);
    const done: RevocationReply = { kind: 'revoked' };
    if (token.includes('.')) {
      // Revoking an already revoked token is fine; a token of another client is left alone (RFC 7009 §2.1), answered the same.
      const claims = await this.access.verify(client.tenantId, req.issuer, token, false);
      if (!claims || claims.client_id !== client.id) return done;
      await this.uow.run(async (tx) => {
        await this.grants.revokeAccessToken(tx, client.tenantId, claims.jti, new Date(claims.exp * 1000));
        await this.revocations.revokedToken(tx, claims.jti, new Date(claims.exp * 1000));
        await this.outbox.append(tx, 'musubi.federation.token.revoked.v1', { client: clientRef(client), tokenType: 'access_token', grantId: claims.gid ?? null }, { tenantId: client.tenantId });
      });
      return { kind: 'revoked', accessToken: { jti: claims.jti, exp: claims.exp * 1000 } };
    }
    if (token.length > 200) return done;
    const r = await this.grants.lockRefresh(undefined, client.tenantId, hashToken(token), false);
    if (!r || r.clientId !== client.id) return done;
    return this.uow.run(async (tx): Promise<RevocationReply> => {
      // The refresh token's whole grant goes: its other refresh tokens and its access tokens (RFC 7009 §2.1 allows it; OAuth 2.1 asks it).
      if (await this.grants.revokeGrant(tx, r.grantId, new Date())) {
        await this.revocations.revokedGrants(tx, [r.grantId]);
        await this.outbox.append(tx, 'musubi.federation.token.revoked.v1', { client: clientRef(client), tokenType: 'refresh_token', grantId: r.grantId }, { tenantId: client.tenantId });
        return { kind: 'revoked', grantId: r.grantId };
      }
      return done;
    });
  }

  async userinfo(req: { tenantId: string; issuer: string; accessToken: string }): Promise<UserinfoReply> {
    const claims = await this.access.verify(req.tenantId, req.issuer, req.accessToken);
    if (!claims) return oauthError('invalid_token', 'The access token is not valid.');
    const scopes = claims.scope.split(' ');
    if (!claims.gid || !scopes.includes('openid')) return oauthError('insufficient_scope', 'The access token was not issued with the openid scope for a user.');
    const client = await this.clients.get(req.tenantId, claims.client_id);
    if (!client) return oauthError('invalid_token', 'The access token is not valid.');
    const u = await this.users.activeUser(req.tenantId, claims.sub, this.users.needsGroups(client, scopes));
    if (!u) return oauthError('invalid_token', 'The access token is not valid.');
    return { kind: 'claims', claims: { sub: claims.sub, ...this.users.claims(client, u, scopes) } };
  }
}
