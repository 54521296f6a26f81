import { Inject, Injectable } from '@nestjs/common';
import type { BrowserSession, LogoutReply } from '@musubi/contracts';
import { OutboxWriter } from '@musubi/platform/bus';
import { UnitOfWork } from '@musubi/platform/db';
import type { Logger } from '@musubi/platform/logging';
import { LOGGER } from '@musubi/platform/runtime';
import { ClientCache } from '../clients/client-cache.js';
import type { OidcClient } from '../clients/client.js';
import { randomToken } from '../crypto/opaque-token.js';
import { decodeJws, signJws, verifyJws } from '../keys/jws.js';
import { SigningKeysService } from '../keys/signing-keys.service.js';
import { cspSourceOf, sidOf } from './authorize.service.js';
import { GrantRepository } from './grant.repository.js';
import { ChangeFeed } from './change-feed.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
const BACKCHANNEL_TIMEOUT_MS = 5000;

/**
 * RP-initiated logout (OIDC RP-Initiated Logout 1.0) and back-channel logout
 * (OIDC Back-Channel Logout 1.0): the session's grants are revoked, every
 * client of the session with a back-channel URI gets a logout token, and the
 * browser goes to a registered post-logout URI or our own page.
 */
@Injectable()
export class LogoutService {
  constructor(
    private readonly clients: ClientCache,
    private readonly grants: GrantRepository,
    private readonly revocations: ChangeFeed,
    private readonly keys: SigningKeysService,
    private readonly uow: UnitOfWork,
    private readonly outbox: OutboxWriter,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** An ID token of ours (expired ones too, as the spec allows); its sub and aud, or null. */
  private async hint(tenantId: string, issuer: string, token: string): Promise<{ sub: string; aud: string } | null> {
    const jws = decodeJws(token);
    if (!jws || typeof jws.header['kid'] !== 'string') return null;
    const key = await this.keys.verificationKey(tenantId, jws.header['kid']);
    if (!key || !verifyJws(jws, key.alg, key.key)) return null;
    const { iss, sub, aud } = jws.payload;
    const audience: unknown = Array.isArray(aud) ? (aud as unknown[])[0] : aud;
    return iss === issuer && typeof sub === 'string' && typeof audience === 'string' ? { sub, aud: audience } : null;
  }

  async logout(req: { tenantId: string; issuer: string; params: Record<string, string>; session: BrowserSession; userConfirmed: boolean }): Promise<LogoutReply> {
    const p = req.params;
    const errorPage = (errorDescription: string): LogoutReply => ({ kind: 'error_page', error: 'invalid_request', errorDescription });
    const hint = p['id_token_hint'] ? await this.hint(req.tenantId, req.issuer, p['id_token_hint']) : null;
    if (p['id_token_hint'] && !hint) return errorPage('The id_token_hint is not an ID token of this provider.');
    const clientId = hint?.aud ?? p['client_id'];
    if (hint && p['client_id'] && p['client_id'] !== hint.aud) return errorPage('client_id does not match the id_token_hint.');
    const client = clientId && UUID.test(clientId) ? await this.clients.get(req.tenantId, clientId) : null;
    if (clientId && !client) return errorPage('The application (client_id) is not known here.');
    const postLogout = p['post_logout_redirect_uri'];
    if (postLogout !== undefined) {
      if (!client) return errorPage('post_logout_redirect_uri needs an id_token_hint or client_id.');
      if (!client.settings.postLogoutRedirectUris.includes(postLogout)) return errorPage('post_logout_redirect_uri is not registered for this application.');
    }
    const s = req.session;
    const provenByHint = hint !== null && (!s || hint.sub === s.userId);
    if (!provenByHint && !req.userConfirmed && s) return { kind: 'confirm', clientName: client?.settings.name ?? null, formActionSource: postLogout === undefined ? null : cspSourceOf(postLogout) };

    if (s) await this.endSession(req.tenantId, req.issuer, s, client);
    let location: string | null = null;
    if (postLogout !== undefined) {
      const url = new URL(postLogout);
      if (p['state'] !== undefined) url.searchParams.append('state', p['state']);
      location = url.toString();
    }
    return { kind: 'logged_out', location };
  }

  private async endSession(tenantId: string, issuer: string, s: NonNullable<BrowserSession>, asking: OidcClient | null): Promise<void> {
    const sid = sidOf(tenantId, s.sessionId);
    const now = new Date();
    const revoked = await this.uow.run(async (tx) => {
      const grants = await this.grants.revokeBySid(tx, tenantId, sid, now);
      await this.revocations.revokedGrants(tx, grants.map((g) => g.id));
      return grants;
    });
    const clientIds = [...new Set(revoked.map((g) => g.clientId))];
    const notify: OidcClient[] = [];
    for (const id of clientIds) {
      const c = await this.clients.get(tenantId, id);
      if (c?.settings.backchannelLogoutUri) notify.push(c);
    }
    await this.uow.run((tx) =>
      this.outbox.append(
        tx,
        'musubi.federation.session.ended.v1',
        { userId: s.userId, client: asking ? { id: asking.id, name: asking.settings.name } : null, notified: notify.map((c) => c.id), grantsRevoked: revoked.length },
        { tenantId, actor: { kind: 'user', userId: s.userId, tenantId, roles: [] } },
      ),
    );
    // Back-channel calls run after the answer: a slow RP does not hold the browser.
    for (const c of notify) void this.backchannel(issuer, c, s.userId, sid);
  }

  private async backchannel(issuer: string, client: OidcClient, sub: string, sid: string): Promise<void> {
    const uri = client.settings.backchannelLogoutUri;
    if (!uri) return;
    try {
      const key = await this.keys.signingKey(client.tenantId, client.settings.idTokenSignedResponseAlg);
      const iat = Math.floor(Date.now() / 1000);
      const token = signJws(
        { alg: key.alg, kid: key.kid, typ: 'logout+jwt' },
        { iss: issuer, aud: client.id, iat, exp: iat + 120, jti: randomToken(16), sub, sid, events: { [BACKCHANNEL_EVENT]: {} } },
        key.key,
      );
      const res = await fetch(uri, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'cache-control': 'no-store' },
        body: new URLSearchParams({ logout_token: token }).toString(),
        redirect: 'manual',
        signal: AbortSignal.timeout(BACKCHANNEL_TIMEOUT_MS),
      });
      if (!res.ok) this.logger.warn({ clientId: client.id, status: res.status }, 'back-channel logout refused by the client');
    } catch (err) {
      this.logger.warn({ clientId: client.id, err: (err as Error).message }, 'back-channel logout could not reach the client');
    }
  }
}
