import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { createRemoteJWKSet, exportJWK, generateKeyPair, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import pg from 'pg';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { OidcClientWithSecret, TenantView, UserView } from '@musubi/contracts';
import { BusClient, connectNats } from '@musubi/platform/bus';
import { createLogger } from '@musubi/platform/logging';
import { waitFor } from '@musubi/platform/testing';
import { managementUrl } from '../support/e2e-checks.js';
import { launchChromium } from '../support/browser.js';
import { operatorFetch, startTestFleet, type TestFleet } from '../support/test-fleet.js';

/**
 * The OpenID provider driven by a certified relying-party library
 * (openid-client) against the running fleet, with the hosted login in headless
 * Chromium: discovery, code flow with PKCE, userinfo, refresh rotation, client
 * credentials, introspection, revocation, PAR, consent, RP-initiated and
 * back-channel logout.
 */

jest.setTimeout(60_000);

const PASSWORD = 'kawa-no-nagare-wa-taezu-shite-2026';

let f: TestFleet;
let browser: Browser;
let rp: Server;
let rpBase: string;
const backchannel: string[] = [];
/** Every secret, code and token this file was given, for the log check at the end. */
const secrets: string[] = [];
let tenant: TenantView;
let other: TenantView;
let user: UserView;
let admin: pg.Pool;

/** A relying party's callback and back-channel endpoints: it only records what arrives. */
function startRp(): Promise<Server> {
  const srv = createServer((req, res) => {
    if (req.method === 'POST' && req.url === '/backchannel') {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        backchannel.push(body);
        res.writeHead(200).end();
      });
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' }).end('relying party');
  });
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve(srv)));
}

async function json<T>(res: Response, status: number): Promise<T> {
  const text = await res.text();
  if (res.status !== status) throw new Error(`expected ${status}, got ${res.status}: ${text}`);
  return JSON.parse(text) as T;
}

const issuerOf = (t: TenantView) => `${f.gatewayUrl}/t/${t.slug}`;

async function registerClient(t: TenantView, body: Record<string, unknown>): Promise<OidcClientWithSecret> {
  const made = await json<OidcClientWithSecret>(await operatorFetch(f, `/api/v1/tenants/${t.id}/oidc/clients`, { method: 'POST', body: JSON.stringify({ name: '経費精算', ...body }) }), 201);
  if (made.clientSecret) secrets.push(made.clientSecret);
  return made;
}

const webApp = (t: TenantView = tenant, extra: Record<string, unknown> = {}) =>
  registerClient(t, {
    redirectUris: [`${rpBase}/cb`],
    postLogoutRedirectUris: [`${rpBase}/bye`],
    backchannelLogoutUri: `${rpBase}/backchannel`,
    scopes: ['openid', 'profile', 'email', 'offline_access', 'groups'],
    defaultScopes: ['openid', 'profile', 'email'],
    ...extra,
  });

function configFor(t: TenantView, c: OidcClientWithSecret, auth?: oidc.ClientAuth, meta: Partial<oidc.ClientMetadata> = {}): Promise<oidc.Configuration> {
  return oidc.discovery(new URL(issuerOf(t)), c.client.clientId, { id_token_signed_response_alg: c.client.idTokenSignedResponseAlg, ...meta }, auth ?? oidc.ClientSecretBasic(c.clientSecret ?? ''), {
    execute: [oidc.allowInsecureRequests],
  });
}

async function signInOnPage(page: Page, loginId: string, password: string): Promise<void> {
  await page.fill('#loginId', loginId);
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  await page.fill('#password', password);
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
}

/** Opens an authorization URL in the browser and returns where the browser lands at the relying party. */
async function authorizeInBrowser(page: Page, url: URL, signIn?: { loginId: string; password: string }): Promise<URL> {
  await page.goto(url.href);
  if (signIn && new URL(page.url()).pathname.endsWith('/login')) await signInOnPage(page, signIn.loginId, signIn.password);
  await page.waitForURL((u) => u.href.startsWith(rpBase), { timeout: 15_000 });
  return new URL(page.url());
}

interface CodeFlow {
  config: oidc.Configuration;
  verifier: string;
  state: string;
  nonce: string;
  url: URL;
}

async function codeFlow(config: oidc.Configuration, extra: Record<string, string> = {}): Promise<CodeFlow> {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: `${rpBase}/cb`,
    scope: 'openid profile email',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...extra,
  });
  return { config, verifier, state, nonce, url };
}

async function exchange(flow: CodeFlow, callback: URL) {
  secrets.push(callback.searchParams.get('code') ?? '', flow.verifier);
  const t = await oidc.authorizationCodeGrant(flow.config, callback, { pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: flow.nonce });
  secrets.push(t.access_token, t.refresh_token ?? '', t.id_token ?? '');
  return t;
}

beforeAll(async () => {
  // One after another: a failure leaves nothing running that afterAll cannot stop.
  // Debug level: the most a service says, so the log check at the end sees it all.
  f = await startTestFleet({ extra: { LOG_LEVEL: 'debug' } });
  browser = await launchChromium();
  rp = await startRp();
  rpBase = `http://127.0.0.1:${(rp.address() as AddressInfo).port}`;
  admin = new pg.Pool({ connectionString: f.db.adminUrl, max: 1 });
  tenant = await json<TenantView>(await operatorFetch(f, '/api/v1/tenants', { method: 'POST', body: JSON.stringify({ slug: 'hoshizora', displayName: '星空商事' }) }), 201);
  other = await json<TenantView>(await operatorFetch(f, '/api/v1/tenants', { method: 'POST', body: JSON.stringify({ slug: 'umibe', displayName: '海辺物産' }) }), 201);
  user = await json<UserView>(
    await operatorFetch(f, `/api/v1/tenants/${tenant.id}/users`, {
      method: 'POST',
      body: JSON.stringify({ loginId: `suzuki.ichiro@${tenant.platformDomain}`, displayName: '鈴木 一郎', familyName: '鈴木', givenName: '一郎', email: `ichiro@${tenant.platformDomain}` }),
    }),
    201,
  );
  const { temporaryPassword } = await json<{ temporaryPassword: string }>(await operatorFetch(f, `/api/v1/tenants/${tenant.id}/users/${user.id}/temporary-password`, { method: 'POST' }), 201);
  // The first sign-in: the one-time password, then the user's own.
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${issuerOf(tenant)}/login`);
  await signInOnPage(page, user.loginId, temporaryPassword);
  expect(new URL(page.url()).pathname).toBe(`/t/${tenant.slug}/password`);
  await page.fill('#currentPassword', temporaryPassword);
  await page.fill('#newPassword', PASSWORD);
  await page.fill('#confirmPassword', PASSWORD);
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  await context.close();
}, 180_000);

afterAll(async () => {
  await admin?.end();
  await browser?.close();
  rp?.closeAllConnections();
  await new Promise((r) => rp?.close(r));
  await f?.stop();
}, 60_000);

describe('discovery', () => {
  it("publishes each tenant's issuer, endpoints and keys", async () => {
    const app = await webApp();
    const config = await configFor(tenant, app);
    const meta = config.serverMetadata();
    expect(meta.issuer).toBe(issuerOf(tenant));
    expect(meta.token_endpoint).toBe(`${issuerOf(tenant)}/oauth2/token`);
    expect(meta.code_challenge_methods_supported).toEqual(['S256']);
    expect(meta.authorization_response_iss_parameter_supported).toBe(true);
    expect(meta.grant_types_supported).not.toContain('implicit');
    expect(meta.grant_types_supported).not.toContain('password');
    const jwks = await json<{ keys: Array<Record<string, unknown>> }>(await fetch(meta.jwks_uri ?? ''), 200);
    expect(jwks.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(JSON.stringify(jwks)).not.toContain('"d"');
    expect((await fetch(`${f.gatewayUrl}/t/no-such-tenant/.well-known/openid-configuration`)).status).toBe(404);
  });
});

describe('authorization code with PKCE through the hosted login', () => {
  let context: BrowserContext;
  let page: Page;
  let app: OidcClientWithSecret;
  let config: oidc.Configuration;
  let tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;

  beforeAll(async () => {
    context = await browser.newContext();
    page = await context.newPage();
    app = await webApp();
    config = await configFor(tenant, app);
  });
  afterAll(async () => {
    await context?.close();
  });

  it('signs the user in on the hosted pages and returns a code with state and iss; the RP gets ID and access tokens', async () => {
    const hinted = await codeFlow(config, { login_hint: user.loginId });
    await page.goto(hinted.url.href);
    // login_hint pre-fills the login ID on the hosted page.
    expect(await page.inputValue('#loginId')).toBe(user.loginId);
    const flow = await codeFlow(config);
    const callback = await authorizeInBrowser(page, flow.url, { loginId: user.loginId, password: PASSWORD });
    expect(callback.pathname).toBe('/cb');
    expect(callback.searchParams.get('iss')).toBe(issuerOf(tenant));
    expect(callback.searchParams.get('state')).toBe(flow.state);
    tokens = await exchange(flow, callback);
    const claims = tokens.claims();
    expect(claims).toMatchObject({ iss: issuerOf(tenant), sub: user.id, aud: app.client.clientId, nonce: flow.nonce, name: '鈴木 一郎', email: `ichiro@${tenant.platformDomain}`, amr: ['pwd'] });
    expect(typeof claims?.auth_time).toBe('number');
    expect(tokens.refresh_token).toBeTruthy();
    expect(tokens.token_type).toBe('bearer');
  });

  it('answers userinfo with the directory claims', async () => {
    const info = await oidc.fetchUserInfo(config, tokens.access_token, user.id);
    expect(info).toMatchObject({ sub: user.id, family_name: '鈴木', given_name: '一郎', preferred_username: user.loginId });
  });

  it('rotates the refresh token; the old one again revokes the whole family', async () => {
    const next = await oidc.refreshTokenGrant(config, tokens.refresh_token ?? '');
    expect(next.refresh_token).toBeTruthy();
    expect(next.refresh_token).not.toBe(tokens.refresh_token);
    await expect(oidc.refreshTokenGrant(config, tokens.refresh_token ?? '')).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(oidc.refreshTokenGrant(config, next.refresh_token ?? '')).rejects.toMatchObject({ error: 'invalid_grant' });
    expect(await oidc.tokenIntrospection(config, next.access_token)).toMatchObject({ active: false });
  });

  it('signs in silently with prompt=none while the session lives', async () => {
    const flow = await codeFlow(config, { prompt: 'none' });
    const callback = await authorizeInBrowser(page, flow.url);
    expect(callback.searchParams.get('code')).toBeTruthy();
    const t = await exchange(flow, callback);
    expect(t.claims()?.sub).toBe(user.id);
  });

  it('asks consent for scopes beyond the defaults, once', async () => {
    const flow = await codeFlow(config, { scope: 'openid groups offline_access' });
    await page.goto(flow.url.href);
    expect(await Promise.all((await page.locator('li[data-scope]').all()).map((l) => l.getAttribute('data-scope')))).toEqual(['openid', 'groups', 'offline_access']);
    await Promise.all([page.waitForURL((u) => u.href.startsWith(rpBase)), page.click('#allow')]);
    expect(new URL(page.url()).searchParams.get('code')).toBeTruthy();
    const again = await codeFlow(config, { scope: 'openid groups offline_access' });
    expect((await authorizeInBrowser(page, again.url)).searchParams.get('code')).toBeTruthy();
  });

  it('uses a pushed authorization request (PAR)', async () => {
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const url = await oidc.buildAuthorizationUrlWithPAR(config, {
      redirect_uri: `${rpBase}/cb`,
      scope: 'openid',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
    });
    expect(url.searchParams.get('request_uri')).toMatch(/^urn:ietf:params:oauth:request_uri:/);
    const callback = await authorizeInBrowser(page, url);
    const t = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state });
    expect(t.access_token).toBeTruthy();
    // A request_uri is used once.
    const res = await fetch(url, { redirect: 'manual' });
    expect(res.status).toBe(400);
  });

  it('logs out (RP-initiated): back to the registered URI with state, back-channel logout token sent, tokens revoked, session gone', async () => {
    const flow = await codeFlow(config);
    const t = await exchange(flow, await authorizeInBrowser(page, flow.url));
    backchannel.length = 0;
    const end = oidc.buildEndSessionUrl(config, { id_token_hint: t.id_token ?? '', post_logout_redirect_uri: `${rpBase}/bye`, state: 'bye-1' });
    await page.goto(end.href);
    await page.waitForURL((u) => u.href.startsWith(`${rpBase}/bye`));
    expect(new URL(page.url()).searchParams.get('state')).toBe('bye-1');
    await waitFor('a back-channel logout', async () => backchannel.length > 0, 10_000);
    const logoutToken = new URLSearchParams(backchannel[0]).get('logout_token') ?? '';
    const { payload, protectedHeader } = await jwtVerify(logoutToken, createRemoteJWKSet(new URL(`${issuerOf(tenant)}/oauth2/jwks`)), { issuer: issuerOf(tenant), audience: app.client.clientId });
    expect(protectedHeader.typ).toBe('logout+jwt');
    expect(payload).toMatchObject({ sub: user.id, events: { 'http://schemas.openid.net/event/backchannel-logout': {} } });
    expect(payload['sid']).toBe(t.claims()?.['sid']);
    await expect(oidc.refreshTokenGrant(config, t.refresh_token ?? '')).rejects.toMatchObject({ error: 'invalid_grant' });
    expect(await oidc.tokenIntrospection(config, t.access_token)).toMatchObject({ active: false });
    const silent = await codeFlow(config, { prompt: 'none' });
    const cb = await authorizeInBrowser(page, silent.url);
    expect(cb.searchParams.get('error')).toBe('login_required');
  });
});

describe('logout without an id_token_hint', () => {
  it('asks the user first, refuses an unregistered post-logout URI, then signs out and returns', async () => {
    const app = await webApp();
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${issuerOf(tenant)}/login`);
    await signInOnPage(page, user.loginId, PASSWORD);
    const bad = await page.goto(`${issuerOf(tenant)}/oauth2/logout?${new URLSearchParams({ client_id: app.client.clientId, post_logout_redirect_uri: 'https://evil.example/bye' }).toString()}`);
    expect(bad?.status()).toBe(400);
    expect(new URL(page.url()).origin).toBe(f.gatewayUrl);
    await page.goto(`${issuerOf(tenant)}/oauth2/logout?${new URLSearchParams({ client_id: app.client.clientId, post_logout_redirect_uri: `${rpBase}/bye`, state: 'st' }).toString()}`);
    expect(await page.isVisible('#logout')).toBe(true);
    await Promise.all([page.waitForURL((u) => u.href.startsWith(`${rpBase}/bye`)), page.click('#logout')]);
    expect(new URL(page.url()).searchParams.get('state')).toBe('st');
    expect((await context.cookies(f.gatewayUrl)).find((c) => c.name === '__Host-musubi-session')).toBeUndefined();
    await context.close();
  });
});

describe('client credentials, introspection, revocation', () => {
  it('issues tokens with client_secret_basic and client_secret_post; introspects and revokes them', async () => {
    const svc = await registerClient(tenant, { grantTypes: ['client_credentials'], scopes: ['reports.read', 'reports.write'], defaultScopes: ['reports.read'] });
    const basic = await configFor(tenant, svc);
    const t = await oidc.clientCredentialsGrant(basic, { scope: 'reports.write' });
    expect(t).toMatchObject({ token_type: 'bearer', scope: 'reports.write', expires_in: 600 });
    expect(await oidc.tokenIntrospection(basic, t.access_token)).toMatchObject({ active: true, client_id: svc.client.clientId, scope: 'reports.write', sub: svc.client.clientId });
    await oidc.tokenRevocation(basic, t.access_token);
    expect(await oidc.tokenIntrospection(basic, t.access_token)).toMatchObject({ active: false });
    const postClient = await registerClient(tenant, { grantTypes: ['client_credentials'], scopes: ['reports.read'], tokenEndpointAuthMethod: 'client_secret_post' });
    const post = await configFor(tenant, postClient, oidc.ClientSecretPost(postClient.clientSecret ?? ''));
    expect((await oidc.clientCredentialsGrant(post)).access_token).toBeTruthy();
    // The wrong method for the client is refused.
    await expect(oidc.clientCredentialsGrant(await configFor(tenant, postClient))).rejects.toMatchObject({ status: 401 });
  });

  it('authenticates with private_key_jwt and refuses a replayed assertion', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid: 'rp-key-1', alg: 'ES256' };
    const pkj = await registerClient(tenant, { grantTypes: ['client_credentials'], scopes: ['a'], tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [jwk] } });
    const config = await configFor(tenant, pkj, oidc.PrivateKeyJwt({ key: privateKey, kid: 'rp-key-1' }));
    expect((await oidc.clientCredentialsGrant(config)).access_token).toBeTruthy();
    let captured = '';
    const replaying = await configFor(
      tenant,
      pkj,
      oidc.PrivateKeyJwt({ key: privateKey, kid: 'rp-key-1' }, { [oidc.modifyAssertion]: (_h: unknown, p: Record<string, unknown>) => void (p['jti'] = captured || (captured = randomBytes(8).toString('hex'))) }),
    );
    expect((await oidc.clientCredentialsGrant(replaying)).access_token).toBeTruthy();
    await expect(oidc.clientCredentialsGrant(replaying)).rejects.toMatchObject({ error: 'invalid_client' });
  });
});

describe('introspection answered in the gateway', () => {
  /** How many introspections the gateway passed to federation so far (its bus metrics). */
  async function forwarded(): Promise<number> {
    const text = await (await fetch(managementUrl(f, 'gateway', '/metrics'))).text();
    let n = 0;
    for (const line of text.split('\n')) if (line.startsWith('musubi_bus_requested_seconds_count{') && line.includes('subject="musubi.federation.token.introspect.v1"')) n += Number(line.split(' ').pop());
    return n;
  }

  const introspect = (c: OidcClientWithSecret, token: string, t: TenantView = tenant) =>
    fetch(`${issuerOf(t)}/oauth2/introspect`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${c.client.clientId}:${c.clientSecret ?? ''}`).toString('base64')}` },
      body: new URLSearchParams({ token }).toString(),
    });

  it('answers from its own copy, without asking federation, and a token revoked through it is inactive at once', async () => {
    const svc = await registerClient(tenant, { grantTypes: ['client_credentials'], scopes: ['reports.read'], defaultScopes: ['reports.read'] });
    const config = await configFor(tenant, svc);
    const { access_token } = await oidc.clientCredentialsGrant(config);
    secrets.push(access_token);
    // Once the gateway's copy is current (feed heard, snapshot taken), introspection stays in the gateway.
    await waitFor('an introspection answered by the gateway alone', async () => {
      const before = await forwarded();
      const res = await introspect(svc, access_token);
      return res.status === 200 && (await forwarded()) === before;
    });
    const before = await forwarded();
    const res = await introspect(svc, access_token);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await json(res, 200)).toMatchObject({ active: true, client_id: svc.client.clientId, scope: 'reports.read', token_type: 'Bearer', iss: issuerOf(tenant) });
    expect(await forwarded()).toBe(before);
    await oidc.tokenRevocation(config, access_token);
    expect(await json(await introspect(svc, access_token), 200)).toEqual({ active: false });
    // A wrong secret still gets federation's invalid_client, with the Basic challenge.
    const wrong = await introspect({ ...svc, clientSecret: 'not-the-secret-0123456789abcdef' }, access_token);
    expect(await json(wrong, 401)).toMatchObject({ error: 'invalid_client' });
    expect(wrong.headers.get('www-authenticate')).toContain('Basic');
  });

  it('learns of a revocation made elsewhere (another gateway, straight on the bus) from the feed, within its delay', async () => {
    const svc = await registerClient(tenant, { grantTypes: ['client_credentials'], scopes: ['reports.read'] });
    const { access_token } = await oidc.clientCredentialsGrant(await configFor(tenant, svc));
    secrets.push(access_token);
    await waitFor('the token active', async () => ((await json<{ active: boolean }>(await introspect(svc, access_token), 200)).active ? true : null));
    const nc = await connectNats({ servers: [f.nats.url], name: 'test-other-gateway', logger: createLogger({ service: 'gateway', level: 'silent' }) });
    try {
      const elsewhere = new BusClient(nc, 'gateway', 3000);
      const ctx = { requestId: 'e2e-revoke-elsewhere', tenantId: tenant.id, caller: { kind: 'service' as const, service: 'gateway' as const } };
      const before = await forwarded();
      expect(await elsewhere.request('musubi.federation.token.revoke.v1', { tenantId: tenant.id, issuer: issuerOf(tenant), params: { token: access_token }, basic: { clientId: svc.client.clientId, clientSecret: svc.clientSecret ?? '' } }, ctx)).toMatchObject({ kind: 'revoked' });
      // The feed's delay: milliseconds normally, a heartbeat (250 ms) and a snapshot after a lost message.
      await waitFor('the revocation to reach the gateway', async () => ((await json<{ active: boolean }>(await introspect(svc, access_token), 200)).active ? null : true), 2000, 20);
      expect(await json(await introspect(svc, access_token), 200)).toEqual({ active: false });
      expect(await forwarded()).toBe(before);
    } finally {
      await nc.close();
    }
  });

  it("reports a deleted client's tokens inactive, and refuses a token of tenant A at tenant B", async () => {
    const gone = await registerClient(tenant, { grantTypes: ['client_credentials'], scopes: ['reports.read'] });
    const asker = await registerClient(tenant, { grantTypes: ['client_credentials'], scopes: ['reports.read'] });
    const { access_token } = await oidc.clientCredentialsGrant(await configFor(tenant, gone));
    secrets.push(access_token);
    expect(await json(await introspect(asker, access_token), 200)).toMatchObject({ active: true });
    expect((await operatorFetch(f, `/api/v1/tenants/${tenant.id}/oidc/clients/${gone.client.clientId}`, { method: 'DELETE' })).status).toBe(204);
    await waitFor('the deletion to reach the gateway', async () => ((await json<{ active: boolean }>(await introspect(asker, access_token), 200)).active ? null : true), 2000, 20);
    expect(await json(await introspect(asker, access_token), 200)).toEqual({ active: false });
    // The deleted client itself can no longer introspect.
    expect(await json(await introspect(gone, access_token), 401)).toMatchObject({ error: 'invalid_client' });
    // Tenant B's client asking about A's (live) token.
    const live = await oidc.clientCredentialsGrant(await configFor(tenant, asker));
    secrets.push(live.access_token);
    const atB = await registerClient(other, { grantTypes: ['client_credentials'], scopes: ['reports.read'] });
    expect(await json(await introspect(atB, live.access_token, other), 200)).toEqual({ active: false });
    // And A's client credentials mean nothing at B's introspection.
    expect(await json(await introspect(asker, live.access_token, other), 401)).toMatchObject({ error: 'invalid_client' });
  });
});

describe('attacks', () => {
  let app: OidcClientWithSecret;
  let config: oidc.Configuration;
  let cookie: string;
  const authorizeUrl = (params: Record<string, string>) => `${issuerOf(tenant)}/oauth2/authorize?${new URLSearchParams(params).toString()}`;

  /** The authorization endpoint as a signed-in browser calls it, without following redirects. */
  const authorizeRaw = (params: Record<string, string>) => fetch(authorizeUrl(params), { redirect: 'manual', headers: { cookie } });

  beforeAll(async () => {
    app = await webApp();
    config = await configFor(tenant, app);
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${issuerOf(tenant)}/login`);
    await signInOnPage(page, user.loginId, PASSWORD);
    const c = (await context.cookies(f.gatewayUrl)).find((x) => x.name === '__Host-musubi-session');
    cookie = `${c?.name}=${c?.value}`;
    await context.close();
  });

  const pkce = async () => {
    const verifier = oidc.randomPKCECodeVerifier();
    return { verifier, challenge: await oidc.calculatePKCECodeChallenge(verifier) };
  };
  const base = async (extra: Record<string, string> = {}) => {
    const { verifier, challenge } = await pkce();
    return { verifier, params: { response_type: 'code', client_id: app.client.clientId, redirect_uri: `${rpBase}/cb`, scope: 'openid', state: 's', code_challenge: challenge, code_challenge_method: 'S256', ...extra } };
  };

  it('shows an error page and never redirects for an unknown client or an unregistered redirect URI variant', async () => {
    const port = Number(new URL(rpBase).port);
    const variants = [
      `${rpBase}/cb/`,
      `${rpBase}/CB`,
      `${rpBase}/cb?extra=1`,
      `${rpBase}/cb#fragment`,
      `http://good@127.0.0.1:${port}/cb`,
      `http://127.0.0.1:${port + 1}/cb`,
      `http://sub.127.0.0.1.nip.io:${port}/cb`,
      `http://localhost:${port}/cb`,
      'https://evil.example/cb',
    ];
    for (const redirect_uri of variants) {
      const { params } = await base({ redirect_uri });
      const res = await authorizeRaw(params);
      expect({ redirect_uri, status: res.status, location: res.headers.get('location') }).toEqual({ redirect_uri, status: 400, location: null });
      expect(res.headers.get('content-type')).toContain('text/html');
      expect(await res.text()).toContain('invalid_request');
    }
    const { params } = await base({ client_id: '0190f5b4-0000-7000-8000-000000000000' });
    const res = await authorizeRaw(params);
    expect([res.status, res.headers.get('location')]).toEqual([400, null]);
  });

  it('refuses PKCE plain, a missing challenge for a public client, a wrong verifier and a verifier without challenge', async () => {
    const { params: plainParams, verifier } = await base({ code_challenge_method: 'plain' });
    const plain = await authorizeRaw({ ...plainParams, code_challenge: verifier });
    expect(new URL(plain.headers.get('location') ?? '').searchParams.get('error')).toBe('invalid_request');

    const pub = await registerClient(tenant, { type: 'public', redirectUris: [`${rpBase}/cb`], scopes: ['openid'] });
    const missing = await fetch(authorizeUrl({ response_type: 'code', client_id: pub.client.clientId, redirect_uri: `${rpBase}/cb`, scope: 'openid', state: 's' }), { redirect: 'manual', headers: { cookie } });
    const loc = new URL(missing.headers.get('location') ?? '');
    expect([loc.searchParams.get('error'), loc.searchParams.get('iss')]).toEqual(['invalid_request', issuerOf(tenant)]);

    const wrong = await base();
    const code = new URL((await authorizeRaw(wrong.params)).headers.get('location') ?? '').searchParams.get('code') ?? '';
    const post = (body: Record<string, string>) =>
      fetch(`${issuerOf(tenant)}/oauth2/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${app.client.clientId}:${app.clientSecret}`).toString('base64')}` },
        body: new URLSearchParams(body).toString(),
      });
    const bad = await post({ grant_type: 'authorization_code', code, redirect_uri: `${rpBase}/cb`, code_verifier: oidc.randomPKCECodeVerifier() });
    expect(await json(bad, 400)).toMatchObject({ error: 'invalid_grant' });

    const { code_challenge: _c, code_challenge_method: _m, ...noChallenge } = (await base()).params;
    const code2 = new URL((await authorizeRaw(noChallenge)).headers.get('location') ?? '').searchParams.get('code') ?? '';
    expect(await json(await post({ grant_type: 'authorization_code', code: code2, redirect_uri: `${rpBase}/cb`, code_verifier: oidc.randomPKCECodeVerifier() }), 400)).toMatchObject({ error: 'invalid_grant' });
    expect(await json(await post({ grant_type: 'password', username: user.loginId, password: PASSWORD }), 400)).toMatchObject({ error: 'unsupported_grant_type' });
  });

  it('refuses a reused code and revokes the tokens of its first use; refuses an expired code', async () => {
    const { params, verifier } = await base();
    const callback = new URL((await authorizeRaw(params)).headers.get('location') ?? '');
    const first = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: 's' });
    await expect(oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: 's' })).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(oidc.fetchUserInfo(config, first.access_token, user.id)).rejects.toBeTruthy();
    expect(await oidc.tokenIntrospection(config, first.access_token)).toMatchObject({ active: false });

    const late = await base();
    const lateCallback = new URL((await authorizeRaw(late.params)).headers.get('location') ?? '');
    await admin.query("UPDATE federation.authorization_codes SET expires_at = now() - interval '1 second' WHERE used_at IS NULL");
    await expect(oidc.authorizationCodeGrant(config, lateCallback, { pkceCodeVerifier: late.verifier, expectedState: 's' })).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it("refuses alg none and HS256 signed with the tenant's public key, at introspection and userinfo", async () => {
    const svc = await registerClient(tenant, { grantTypes: ['client_credentials'], scopes: ['a'] });
    const cc = await configFor(tenant, svc);
    const { access_token } = await oidc.clientCredentialsGrant(cc);
    const [h, p] = access_token.split('.') as [string, string];
    const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as Record<string, unknown>;
    const payload = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), sub: user.id, scope: 'openid profile' })).toString('base64url');
    const none = `${Buffer.from(JSON.stringify({ ...header, alg: 'none' })).toString('base64url')}.${payload}.`;
    const jwks = await json<{ keys: Array<Record<string, unknown>> }>(await fetch(`${issuerOf(tenant)}/oauth2/jwks`), 200);
    const { createHmac } = await import('node:crypto');
    const hsHeader = Buffer.from(JSON.stringify({ ...header, alg: 'HS256' })).toString('base64url');
    const hs = `${hsHeader}.${payload}.${createHmac('sha256', JSON.stringify(jwks.keys[0])).update(`${hsHeader}.${payload}`).digest('base64url')}`;
    for (const forged of [none, hs]) {
      expect(await oidc.tokenIntrospection(cc, forged)).toMatchObject({ active: false });
      const res = await fetch(`${issuerOf(tenant)}/oauth2/userinfo`, { headers: { authorization: `Bearer ${forged}` } });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toContain('invalid_token');
    }
  });

  it("refuses tenant A's token at tenant B", async () => {
    const { params, verifier } = await base();
    const t = await oidc.authorizationCodeGrant(config, new URL((await authorizeRaw(params)).headers.get('location') ?? ''), { pkceCodeVerifier: verifier, expectedState: 's' });
    const bSvc = await registerClient(other, { grantTypes: ['client_credentials'], scopes: ['a'] });
    const bConfig = await configFor(other, bSvc);
    expect(await oidc.tokenIntrospection(bConfig, t.access_token)).toMatchObject({ active: false });
    const res = await fetch(`${issuerOf(other)}/oauth2/userinfo`, { headers: { authorization: `Bearer ${t.access_token}` } });
    expect(res.status).toBe(401);
    // And A's client credentials mean nothing at B.
    const basic = `Basic ${Buffer.from(`${app.client.clientId}:${app.clientSecret}`).toString('base64')}`;
    const cross = await fetch(`${issuerOf(other)}/oauth2/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic }, body: 'grant_type=client_credentials' });
    expect(await json(cross, 401)).toMatchObject({ error: 'invalid_client' });
  });

  it('answers prompt=none without a session with login_required at the redirect URI', async () => {
    const { params } = await base({ prompt: 'none' });
    const res = await fetch(authorizeUrl(params), { redirect: 'manual' });
    expect(res.status).toBe(303);
    const loc = new URL(res.headers.get('location') ?? '');
    expect(`${loc.origin}${loc.pathname}`).toBe(`${rpBase}/cb`);
    expect([loc.searchParams.get('error'), loc.searchParams.get('state'), loc.searchParams.get('iss')]).toEqual(['login_required', 's', issuerOf(tenant)]);
  });

  it('never writes a client secret, code, verifier or token to a log line', () => {
    const lines = ['gateway', 'federation', 'authn', 'directory', 'audit'].flatMap((s) => f.logs(s as 'gateway')).join('\n');
    expect(lines.length).toBeGreaterThan(1000);
    const leaked = secrets.filter((x) => x.length >= 20 && lines.includes(x));
    expect(leaked).toEqual([]);
    expect(secrets.length).toBeGreaterThan(10);
  });

  it('records authorizations, token issue, refresh reuse and logout in the audit trail', async () => {
    const subjects = async () => {
      const res = await operatorFetch(f, `/api/v1/tenants/${tenant.id}/audit-events?limit=200`);
      const body = (await res.json()) as { items: Array<{ type?: string; subject?: string; eventType?: string }> };
      return JSON.stringify(body.items);
    };
    const all = await waitFor('the events in the audit trail', async () => {
      const text = await subjects();
      return text.includes('musubi.federation.token.reuse-detected.v1') && text.includes('musubi.federation.session.ended.v1') ? text : null;
    }, 20_000);
    for (const s of ['musubi.federation.authorization.granted.v1', 'musubi.federation.token.issued.v1', 'musubi.federation.session.ended.v1', 'musubi.federation.client.created.v1']) expect(all).toContain(s);
  });
});
