import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import {
  OIDC_PATHS,
  type AuthorizationContinueReply,
  type AuthorizationStartReply,
  type BrowserSession,
  type ClientAuthenticatedRequest,
  type OAuthErrorCode,
  type ParReply,
} from '@musubi/contracts';
import { OutboxWriter, uuidv7 } from '@musubi/platform/bus';
import { UnitOfWork } from '@musubi/platform/db';
import { CONFIG } from '@musubi/platform/runtime';
import { ClientCache } from '../clients/client-cache.js';
import { matchRedirectUri, type OidcClient } from '../clients/client.js';
import type { FederationConfig } from '../config/env.schema.js';
import { hashToken, randomToken } from '../crypto/opaque-token.js';
import { ClientAuthenticator } from './client-auth.js';
import { GrantRepository, type HeldRequest } from './grant.repository.js';
import { isOAuthError, oauthError } from './oauth-error.js';
import { parseScope } from './scopes.js';
import { UserClaims } from './user-claims.js';

export const REQUEST_URI_PREFIX = 'urn:ietf:params:oauth:request_uri:';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
const HOLD_MS = 10 * 60_000;
const PUSHED_TTL_S = 90;
const PROMPTS = new Set(['none', 'login', 'consent', 'select_account']);
const LIMITS: Record<string, number> = { state: 2000, nonce: 500, login_hint: 254, acr_values: 500, ui_locales: 200, tenant_hint: 100 };

/** What the checks of an authorization request give: an error to show, an error to send back, or the request's client. */
type Checked =
  | { kind: 'error_page'; error: OAuthErrorCode; errorDescription: string }
  | { kind: 'redirect_error'; client: OidcClient; params: Record<string, string>; error: OAuthErrorCode; errorDescription: string }
  | { kind: 'ok'; client: OidcClient; params: Record<string, string> };

/** The sid a client sees for a browser session: derived, so the session id itself never leaves the provider. */
export const sidOf = (tenantId: string, sessionId: string): string => createHash('sha256').update(`sid:${tenantId}:${sessionId}`).digest('base64url').slice(0, 32);

/** A URI's CSP source: its origin, or for a private-use scheme (a native app), the scheme. */
export function cspSourceOf(uri: string): string {
  const url = new URL(uri);
  return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : url.protocol;
}

/** The client's redirect URI with the response parameters and `iss` (RFC 9207) added to its query. */
export function responseLocation(redirectUri: string, params: Record<string, string | undefined>, issuer: string): string {
  const url = new URL(redirectUri);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.append(k, v);
  url.searchParams.append('iss', issuer);
  return url.toString();
}

/**
 * The authorization endpoint: checks a request (directly, or pushed first by
 * PAR), holds it while the user signs in, then decides login, consent or the
 * code. An unknown client or redirect URI is answered on our own error page,
 * never by a redirect.
 */
@Injectable()
export class AuthorizeService {
  private readonly codeTtlMs: number;
  private readonly grantTtlMs: number;

  constructor(
    private readonly clients: ClientCache,
    private readonly auth: ClientAuthenticator,
    private readonly grants: GrantRepository,
    private readonly users: UserClaims,
    private readonly uow: UnitOfWork,
    private readonly outbox: OutboxWriter,
    @Inject(CONFIG) config: FederationConfig,
  ) {
    this.codeTtlMs = config.OIDC_CODE_TTL_SECONDS * 1000;
    this.grantTtlMs = config.OIDC_REFRESH_TOKEN_TTL_SECONDS * 1000;
  }

  private async check(tenantId: string, params: Record<string, string>): Promise<Checked> {
    const clientId = params['client_id'];
    const client = clientId && UUID.test(clientId) ? await this.clients.get(tenantId, clientId) : null;
    if (!client) return { kind: 'error_page', error: 'invalid_request', errorDescription: 'The application (client_id) is not known here.' };
    const redirectUri = params['redirect_uri'];
    if (!redirectUri) return { kind: 'error_page', error: 'invalid_request', errorDescription: 'redirect_uri is missing.' };
    if (!matchRedirectUri(client.settings, redirectUri)) return { kind: 'error_page', error: 'invalid_request', errorDescription: 'redirect_uri is not registered for this application.' };
    const fail = (error: OAuthErrorCode, errorDescription: string): Checked => ({ kind: 'redirect_error', client, params, error, errorDescription });
    for (const [k, max] of Object.entries(LIMITS)) if ((params[k]?.length ?? 0) > max) return fail('invalid_request', `${k} is too long.`);
    if ('request' in params) return fail('invalid_request', 'Request objects are not supported; use PAR.');
    if (params['response_type'] !== 'code') return fail('unsupported_response_type', 'Only response_type=code is supported.');
    if (!client.settings.grantTypes.includes('authorization_code')) return fail('unauthorized_client', 'This application may not use the authorization code flow.');
    if (params['response_mode'] !== undefined && params['response_mode'] !== 'query') return fail('invalid_request', 'Only response_mode=query is supported.');
    const scopes = parseScope(params['scope']);
    if (scopes === null) return fail('invalid_scope', 'The scope parameter is malformed.');
    const bad = scopes.filter((s) => !client.settings.scopes.includes(s));
    if (bad.length > 0) return fail('invalid_scope', `This application may not ask for: ${bad.join(' ')}.`);
    const challenge = params['code_challenge'];
    const method = params['code_challenge_method'];
    if (challenge === undefined) {
      if (method !== undefined) return fail('invalid_request', 'code_challenge_method without code_challenge.');
      if (client.settings.type === 'public') return fail('invalid_request', 'PKCE (code_challenge with S256) is required for this application.');
    } else {
      if (method !== 'S256') return fail('invalid_request', 'code_challenge_method must be S256 (plain is not allowed).');
      if (!S256_CHALLENGE.test(challenge)) return fail('invalid_request', 'code_challenge is not an S256 challenge.');
    }
    const prompt = (params['prompt'] ?? '').split(' ').filter(Boolean);
    if (prompt.some((p) => !PROMPTS.has(p))) return fail('invalid_request', 'Unknown prompt value.');
    if (prompt.includes('none') && prompt.length > 1) return fail('invalid_request', 'prompt=none cannot be combined with other values.');
    const maxAge = params['max_age'];
    if (maxAge !== undefined && !/^\d{1,9}$/.test(maxAge)) return fail('invalid_request', 'max_age must be a non-negative integer.');
    return { kind: 'ok', client, params };
  }

  private errorRedirect(c: Extract<Checked, { kind: 'redirect_error' }>, issuer: string): { kind: 'redirect'; location: string } {
    return {
      kind: 'redirect',
      location: responseLocation(c.params['redirect_uri'] as string, { error: c.error, error_description: c.errorDescription, state: c.params['state'] }, issuer),
    };
  }

  async start(req: { tenantId: string; issuer: string; params: Record<string, string> }): Promise<AuthorizationStartReply> {
    let params = req.params;
    const requestUri = params['request_uri'];
    if (requestUri !== undefined) {
      const id = requestUri.startsWith(REQUEST_URI_PREFIX) ? requestUri.slice(REQUEST_URI_PREFIX.length) : '';
      const held = UUID.test(id) ? await this.grants.findRequest(req.tenantId, id) : null;
      if (!held || !held.pushed || held.clientId !== params['client_id'] || !(await this.grants.takePushed(req.tenantId, id, new Date()))) {
        return { kind: 'error_page', error: 'invalid_request_uri', errorDescription: 'The request_uri is unknown, expired, used, or of another application.' };
      }
      // Only the pushed parameters count (RFC 9126 §4).
      params = { ...held.params };
    }
    const checked = await this.check(req.tenantId, params);
    if (checked.kind === 'error_page') return checked;
    if (checked.kind === 'redirect_error') return this.errorRedirect(checked, req.issuer);
    const now = new Date();
    const id = uuidv7(now.getTime());
    await this.grants.insertRequest({ id, tenantId: req.tenantId, clientId: checked.client.id, params, pushed: false, createdAt: now, expiresAt: new Date(now.getTime() + HOLD_MS), doneAt: null });
    return { kind: 'pending', requestId: id };
  }

  async push(req: ClientAuthenticatedRequest): Promise<ParReply> {
    const client = await this.auth.authenticate(req, OIDC_PATHS.par, true);
    if (isOAuthError(client)) return client;
    const { client_secret: _s, client_assertion: _a, client_assertion_type: _t, ...rest } = req.params;
    if ('request_uri' in rest) return oauthError('invalid_request', 'request_uri may not be pushed.');
    const params = { ...rest, client_id: client.id };
    const checked = await this.check(req.tenantId, params);
    if (checked.kind !== 'ok') return oauthError(checked.error, checked.errorDescription);
    const now = new Date();
    const id = uuidv7(now.getTime());
    await this.grants.insertRequest({ id, tenantId: req.tenantId, clientId: client.id, params, pushed: true, createdAt: now, expiresAt: new Date(now.getTime() + PUSHED_TTL_S * 1000), doneAt: null });
    return { kind: 'pushed', requestUri: `${REQUEST_URI_PREFIX}${id}`, expiresIn: PUSHED_TTL_S };
  }

  async continue(req: { tenantId: string; issuer: string; requestId: string; session: BrowserSession; consent?: 'granted' | 'denied' }): Promise<AuthorizationContinueReply> {
    const now = new Date();
    const held = await this.grants.findRequest(req.tenantId, req.requestId);
    const gone = { kind: 'error_page', error: 'invalid_request', errorDescription: 'This sign-in request has expired or was already completed. Go back to the application and start again.' } as const;
    if (!held || held.doneAt || held.expiresAt <= now) return gone;
    const checked = await this.check(req.tenantId, held.params);
    if (checked.kind === 'error_page') return checked;
    if (checked.kind === 'redirect_error') return this.errorRedirect(checked, req.issuer);
    const { client, params } = checked;
    const back = (error: OAuthErrorCode, description: string) => this.errorRedirect({ kind: 'redirect_error', client, params, error, errorDescription: description }, req.issuer);
    const prompt = (params['prompt'] ?? '').split(' ').filter(Boolean);
    const none = prompt.includes('none');
    const s = req.session;
    if (!s) return none ? back('login_required', 'The user is not signed in.') : { kind: 'login', loginHint: params['login_hint'] ?? null };
    const authTime = new Date(s.authTime);
    const maxAge = params['max_age'] === undefined ? null : Number(params['max_age']);
    // A sign-in made after this request started satisfies prompt=login and any max_age (max_age=0 included, which would otherwise never be met).
    const signedInForThisRequest = authTime.getTime() >= held.createdAt.getTime() - 1000;
    const stale = !signedInForThisRequest && (prompt.includes('login') || (maxAge !== null && now.getTime() - authTime.getTime() > maxAge * 1000));
    if (stale) return none ? back('login_required', 'The sign-in is older than max_age allows.') : { kind: 'login', loginHint: params['login_hint'] ?? null };

    const scopes = parseScope(params['scope']) ?? [];
    const u = await this.users.activeUser(req.tenantId, s.userId, this.users.needsGroups(client, scopes));
    if (!u || !this.users.assigned(client, u)) {
      await this.denied(held, client, s.userId, 'access_denied', 'The user is not assigned to this application.');
      return back('access_denied', 'You are not allowed to use this application.');
    }
    if (req.consent === 'denied') {
      await this.denied(held, client, s.userId, 'access_denied', 'The user declined.');
      return back('access_denied', 'The user declined.');
    }
    const consented = req.consent === 'granted';
    if (!consented) {
      const known = new Set([...client.settings.defaultScopes, ...(await this.grants.consentedScopes(req.tenantId, s.userId, client.id))]);
      const needsConsent = prompt.includes('consent') || scopes.some((sc) => !known.has(sc));
      if (needsConsent) return none ? back('consent_required', 'The user has not allowed these scopes.') : { kind: 'consent', clientName: client.settings.name, scopes, formActionSource: cspSourceOf(params['redirect_uri'] as string) };
    }

    const code = randomToken(32);
    const grantId = uuidv7(now.getTime());
    const finished = await this.uow.run(async (tx) => {
      if (!(await this.grants.finishRequest(tx, held.id, now))) return false;
      if (consented) {
        const before = await this.grants.consentedScopes(req.tenantId, s.userId, client.id);
        await this.grants.saveConsent(tx, req.tenantId, s.userId, client.id, [...new Set([...before, ...scopes])], now);
      }
      await this.grants.insertGrant(tx, {
        id: grantId,
        tenantId: req.tenantId,
        clientId: client.id,
        userId: s.userId,
        scopes,
        sid: sidOf(req.tenantId, s.sessionId),
        authTime,
        amr: s.amr,
        acr: params['acr_values']?.split(' ')[0] ?? null,
        nonce: params['nonce'] ?? null,
        createdAt: now,
        expiresAt: new Date(now.getTime() + this.grantTtlMs),
        revokedAt: null,
      });
      await this.grants.insertCode(tx, {
        codeHash: hashToken(code),
        tenantId: req.tenantId,
        grantId,
        clientId: client.id,
        redirectUri: params['redirect_uri'] as string,
        codeChallenge: params['code_challenge'] ?? null,
        expiresAt: new Date(now.getTime() + this.codeTtlMs),
        usedAt: null,
      });
      await this.outbox.append(
        tx,
        'musubi.federation.authorization.granted.v1',
        { client: { id: client.id, name: client.settings.name }, userId: s.userId, scopes, consented },
        { tenantId: req.tenantId, actor: { kind: 'user', userId: s.userId, tenantId: req.tenantId, roles: [] } },
      );
      return true;
    });
    if (!finished) return gone;
    return { kind: 'redirect', location: responseLocation(params['redirect_uri'] as string, { code, state: params['state'] }, req.issuer) };
  }

  private async denied(held: HeldRequest, client: OidcClient, userId: string | null, error: OAuthErrorCode, reason: string): Promise<void> {
    await this.uow.run(async (tx) => {
      await this.grants.finishRequest(tx, held.id, new Date());
      await this.outbox.append(tx, 'musubi.federation.authorization.denied.v1', { client: { id: client.id, name: client.settings.name }, userId, error, reason }, { tenantId: held.tenantId });
    });
  }
}
