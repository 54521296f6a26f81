import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AuditEventView, MeView, ReplyOf, TenantView, UserView } from '@musubi/contracts';
import { waitFor } from '@musubi/platform/testing';
import { operatorFetch, startTestFleet, type TestFleet } from '../support/test-fleet.js';
import { WebClient } from '../support/web-client.js';

// Registered API applications through the gateway, as an integrator uses them: an
// administrator registers the application and issues a refresh token in the admin
// API; the integration trades it at the OAuth token endpoint (form-encoded, HTTP
// Basic) for access tokens and calls /api/v1 within the application's scopes.

let f: TestFleet;
let acme: TenantView;
let globex: TenantView;
let admin: WebClient;
let csrf: string;
const NEW_PASSWORD = 'a long enough passphrase 2026';

type App = ReplyOf<'musubi.authn.api-app.create.v1'>;
interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in: number;
  refresh_token: string;
  scope: string;
}

async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const res = await operatorFetch(f, path, init);
  if (res.status >= 300) throw new Error(`${init.method ?? 'GET'} ${path} → ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** An admin-API call of the signed-in administrator (session cookie and CSRF header). */
const asAdmin = (path: string, method = 'GET', body?: unknown) =>
  admin.fetch(path, body === undefined ? { method, headers: { 'x-csrf-token': csrf } } : { method, headers: { 'content-type': 'application/json', 'x-csrf-token': csrf }, body: JSON.stringify(body) });

async function register(name: string, scopes: string[]): Promise<App> {
  const res = await asAdmin(`/api/v1/tenants/${acme.id}/api-apps`, 'POST', { name, scopes });
  expect(res.status).toBe(201);
  expect(res.headers.get('cache-control')).toBe('no-store');
  return (await res.json()) as App;
}

async function issue(app: App, name = 'sync server'): Promise<Response> {
  return asAdmin(`/api/v1/tenants/${acme.id}/api-apps/${app.app.id}/refresh-tokens`, 'POST', { name, expiresInDays: 90 });
}

const basic = (app: App) => `Basic ${Buffer.from(`${encodeURIComponent(app.app.clientId)}:${encodeURIComponent(app.clientSecret)}`).toString('base64')}`;

function tokenEndpoint(tenantId: string, app: App, fields: Record<string, string>): Promise<Response> {
  return fetch(`${f.gatewayUrl}/api/v1/tenants/${tenantId}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(app) },
    body: new URLSearchParams(fields).toString(),
  });
}

async function refresh(app: App, refreshToken: string): Promise<TokenResponse> {
  const res = await tokenEndpoint(acme.id, app, { grant_type: 'refresh_token', refresh_token: refreshToken });
  expect(res.status).toBe(200);
  expect(res.headers.get('cache-control')).toBe('no-store');
  return (await res.json()) as TokenResponse;
}

const bearer = (token: string, path: string, init: RequestInit = {}) => fetch(`${f.gatewayUrl}${path}`, { ...init, headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${token}` } });

beforeAll(async () => {
  f = await startTestFleet();
  acme = await api<TenantView>('/api/v1/tenants', { method: 'POST', body: JSON.stringify({ slug: 'acme', displayName: 'Acme' }) });
  globex = await api<TenantView>('/api/v1/tenants', { method: 'POST', body: JSON.stringify({ slug: 'globex', displayName: 'Globex' }) });
  const user = await api<UserView>(`/api/v1/tenants/${acme.id}/users`, { method: 'POST', body: JSON.stringify({ loginId: `admin@${acme.platformDomain}`, roles: ['tenant_admin'] }) });
  const otp = await api<{ temporaryPassword: string }>(`/api/v1/tenants/${acme.id}/users/${user.id}/temporary-password`, { method: 'POST' });
  admin = new WebClient(f.gatewayUrl);
  await admin.signIn(acme.slug, user.loginId, otp.temporaryPassword, NEW_PASSWORD);
  csrf = ((await (await admin.fetch('/api/v1/me')).json()) as MeView).csrfToken;
}, 120_000);

afterAll(async () => {
  await f?.stop();
}, 60_000);

describe('an API application through the gateway', () => {
  it('gets access tokens at the token endpoint and reads users with them, within its scopes only', async () => {
    const app = await register('directory reader', ['users:read']);
    const issued = await issue(app);
    expect(issued.status).toBe(201);
    const { refreshToken } = (await issued.json()) as ReplyOf<'musubi.authn.refresh-token.issue.v1'>;
    const t = await refresh(app, refreshToken);
    expect(t).toMatchObject({ token_type: 'Bearer', expires_in: 600, scope: 'users:read' });
    expect(t.refresh_token).not.toBe(refreshToken);

    const read = await bearer(t.access_token, `/api/v1/tenants/${acme.id}/users`);
    expect(read.status).toBe(200);
    // A narrow application cannot write users, nor reach what no scope covers.
    const write = await bearer(t.access_token, `/api/v1/tenants/${acme.id}/users`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ loginId: `intruder@${acme.platformDomain}` }) });
    expect(write.status).toBe(403);
    expect(((await write.json()) as { detail: string }).detail).toContain('insufficient scope');
    expect((await bearer(t.access_token, `/api/v1/tenants/${acme.id}/api-apps`)).status).toBe(403);
    expect((await bearer(t.access_token, `/api/v1/tenants/${acme.id}/api-tokens`)).status).toBe(403);
    // Another tenant's routes do not exist for it.
    expect((await bearer(t.access_token, `/api/v1/tenants/${globex.id}/users`)).status).toBe(404);
  });

  it('answers OAuth errors: a wrong tenant or secret is invalid_client (401), a replayed refresh token invalid_grant and the end of its family', async () => {
    const app = await register('rotating sync', ['users:read', 'groups:read']);
    const { refreshToken } = (await (await issue(app)).json()) as ReplyOf<'musubi.authn.refresh-token.issue.v1'>;

    const elsewhere = await tokenEndpoint(globex.id, app, { grant_type: 'refresh_token', refresh_token: refreshToken });
    expect(elsewhere.status).toBe(401);
    expect(elsewhere.headers.get('www-authenticate')).toContain('Basic');
    expect(elsewhere.headers.get('cache-control')).toBe('no-store');
    expect(await elsewhere.json()).toMatchObject({ error: 'invalid_client' });
    const wrong = await tokenEndpoint(acme.id, { ...app, clientSecret: `mss_${'A'.repeat(43)}` }, { grant_type: 'refresh_token', refresh_token: refreshToken });
    expect(wrong.status).toBe(401);
    // Only the token endpoint takes a form; the rest of the API still refuses one.
    const formElsewhere = await admin.fetch(`/api/v1/tenants/${acme.id}/api-apps`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-csrf-token': csrf }, body: 'name=x&scopes=users%3Aread' });
    expect(formElsewhere.status).toBe(415);
    const json = await fetch(`${f.gatewayUrl}/api/v1/tenants/${acme.id}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: basic(app) }, body: JSON.stringify({ grant_type: 'refresh_token', refresh_token: refreshToken }) });
    expect(json.status).toBe(400);
    expect(await json.json()).toMatchObject({ error: 'invalid_request' });

    const first = await refresh(app, refreshToken);
    const second = await refresh(app, first.refresh_token);
    expect((await bearer(second.access_token, `/api/v1/tenants/${acme.id}/groups`)).status).toBe(200);
    const replay = await tokenEndpoint(acme.id, app, { grant_type: 'refresh_token', refresh_token: refreshToken });
    expect(replay.status).toBe(400);
    expect(await replay.json()).toMatchObject({ error: 'invalid_grant' });
    // The whole family ended: the newest refresh token and access token too, at once.
    expect((await bearer(second.access_token, `/api/v1/tenants/${acme.id}/groups`)).status).toBe(401);
    expect((await tokenEndpoint(acme.id, app, { grant_type: 'refresh_token', refresh_token: second.refresh_token })).status).toBe(400);
    const listed = (await (await asAdmin(`/api/v1/tenants/${acme.id}/api-apps/${app.app.id}/refresh-tokens`)).json()) as ReplyOf<'musubi.authn.refresh-token.list.v1'>;
    expect(listed.items[0]).toMatchObject({ revokedReason: 'reuse', rotations: 2 });

    // Issue, reuse and revocation are in the tenant's audit trail, about this application.
    const trail = await waitFor('the refresh-token events in audit', async () => {
      const items = ((await api<{ items: AuditEventView[] }>(`/api/v1/tenants/${acme.id}/audit-events?category=token&application=${app.app.id}`)).items);
      return items.length >= 3 ? items : null;
    }, 20_000, 200);
    expect(trail.map((e) => e.type).sort()).toEqual(['musubi.authn.refresh-token.issued.v1', 'musubi.authn.refresh-token.reused.v1', 'musubi.authn.refresh-token.revoked.v1']);
    expect(trail.find((e) => e.type.endsWith('reused.v1'))).toMatchObject({ result: 'failure', target: { type: 'refresh-token', id: listed.items[0]!.id } });
    expect(JSON.stringify(trail)).not.toContain(refreshToken);
  });

  it('holds at most 25 live refresh tokens per application, and deleting the application ends its access tokens at once', async () => {
    const app = await register('capped', ['users:read']);
    const issued: Array<ReplyOf<'musubi.authn.refresh-token.issue.v1'>> = [];
    for (let i = 0; i < 25; i++) {
      const res = await issue(app, `server ${i}`);
      expect(res.status).toBe(201);
      issued.push((await res.json()) as ReplyOf<'musubi.authn.refresh-token.issue.v1'>);
    }
    const refused = await issue(app, 'server 25');
    expect(refused.status).toBe(409);
    const problem = (await refused.json()) as { code: string; detail: string };
    expect(problem.code).toBe('limit_exceeded');
    expect(problem.detail).toContain('25 live refresh tokens');

    const t = await refresh(app, issued[0]!.refreshToken);
    expect((await bearer(t.access_token, `/api/v1/tenants/${acme.id}/users`)).status).toBe(200);
    const del = await asAdmin(`/api/v1/tenants/${acme.id}/api-apps/${app.app.id}`, 'DELETE');
    expect(del.status).toBe(200);
    expect(await del.json()).toEqual({ revokedRefreshTokens: 25 });
    expect((await bearer(t.access_token, `/api/v1/tenants/${acme.id}/users`)).status).toBe(401);
    expect((await tokenEndpoint(acme.id, app, { grant_type: 'refresh_token', refresh_token: t.refresh_token })).status).toBe(401);
  });

  it('is managed by administrators only: not with an API token, not without the CSRF header', async () => {
    const made = await asAdmin(`/api/v1/tenants/${acme.id}/api-tokens`, 'POST', { name: 'personal', scopes: ['users:read', 'users:write'], expiresInDays: 1 });
    const { token } = (await made.json()) as { token: string };
    expect((await bearer(token, `/api/v1/tenants/${acme.id}/api-apps`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'x', scopes: ['users:read'] }) })).status).toBe(403);
    const noCsrf = await admin.fetch(`/api/v1/tenants/${acme.id}/api-apps`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'x', scopes: ['users:read'] }) });
    expect(noCsrf.status).toBe(403);
    const list = (await (await asAdmin(`/api/v1/tenants/${acme.id}/api-apps`)).json()) as ReplyOf<'musubi.authn.api-app.list.v1'>;
    expect(list.items.map((a) => a.name)).not.toContain('x');
  });
});
