import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { MeView, TenantView, UserView } from '@musubi/contracts';
import { operatorFetch, startTestFleet, type TestFleet } from '../support/test-fleet.js';
import { WebClient } from '../support/web-client.js';

// The admin API with a hosted-login session (what an admin console uses): roles,
// tenant isolation and CSRF, tried from the outside.

let f: TestFleet;
let acme: TenantView;
let globex: TenantView;
const NEW_PASSWORD = 'a long enough passphrase 2026';

async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const res = await operatorFetch(f, path, init);
  if (res.status >= 300) throw new Error(`${init.method ?? 'GET'} ${path} → ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

async function person(tenant: TenantView, local: string, roles: string[]): Promise<WebClient> {
  const user = await api<UserView>(`/api/v1/tenants/${tenant.id}/users`, { method: 'POST', body: JSON.stringify({ loginId: `${local}@${tenant.platformDomain}`, roles }) });
  const otp = await api<{ temporaryPassword: string }>(`/api/v1/tenants/${tenant.id}/users/${user.id}/temporary-password`, { method: 'POST' });
  const web = new WebClient(f.gatewayUrl);
  await web.signIn(tenant.slug, user.loginId, otp.temporaryPassword, NEW_PASSWORD);
  return web;
}

async function csrfOf(web: WebClient): Promise<string> {
  const res = await web.fetch('/api/v1/me');
  expect(res.status).toBe(200);
  return ((await res.json()) as MeView).csrfToken;
}

const createUser = (web: WebClient, tenant: TenantView, local: string, csrf?: string) =>
  web.fetch(`/api/v1/tenants/${tenant.id}/users`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(csrf !== undefined ? { 'x-csrf-token': csrf } : {}) },
    body: JSON.stringify({ loginId: `${local}@${tenant.platformDomain}` }),
  });

let admin: WebClient;
let auditor: WebClient;
let helpdesk: WebClient;
let plain: WebClient;

beforeAll(async () => {
  f = await startTestFleet();
  acme = await api<TenantView>('/api/v1/tenants', { method: 'POST', body: JSON.stringify({ slug: 'acme', displayName: 'Acme' }) });
  globex = await api<TenantView>('/api/v1/tenants', { method: 'POST', body: JSON.stringify({ slug: 'globex', displayName: 'Globex' }) });
  [admin, auditor, helpdesk, plain] = await Promise.all([
    person(acme, 'admin', ['tenant_admin']),
    person(acme, 'auditor', ['auditor']),
    person(acme, 'helpdesk', ['helpdesk']),
    person(acme, 'plain', []),
  ]);
}, 120_000);

afterAll(async () => {
  await f?.stop();
}, 60_000);

describe('the admin API behind a hosted-login session', () => {
  it('tells the console who is signed in, with roles and a CSRF token', async () => {
    const res = await admin.fetch('/api/v1/me');
    const me = (await res.json()) as MeView;
    expect(me).toMatchObject({ kind: 'user', tenantId: acme.id, roles: ['tenant_admin'] });
    expect(me.csrfToken).toBe(admin.cookies.get('__Host-musubi-csrf'));
  });

  it('lets an administrator create users in its own tenant, with the CSRF header', async () => {
    const res = await createUser(admin, acme, 'newcomer', await csrfOf(admin));
    expect(res.status).toBe(201);
    expect(((await res.json()) as UserView).loginId).toBe(`newcomer@${acme.platformDomain}`);
  });

  it('refuses an unsafe call without the CSRF header, or with a wrong one, and writes nothing', async () => {
    for (const csrf of [undefined, 'not-the-token', '']) {
      const res = await createUser(admin, acme, 'forged', csrf);
      expect(res.status).toBe(403);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
    }
    const again = await createUser(admin, acme, 'forged', await csrfOf(admin));
    expect(again.status).toBe(201); // the ID was never taken by a refused attempt
  });

  it("answers 404 for another tenant's routes, the same as for a tenant that does not exist", async () => {
    const csrf = await csrfOf(admin);
    const theirs = await admin.fetch(`/api/v1/tenants/${globex.id}`);
    const nobody = await admin.fetch('/api/v1/tenants/00000000-0000-4000-8000-000000000000');
    expect([theirs.status, nobody.status]).toEqual([404, 404]);
    expect(((await theirs.json()) as { detail: string }).detail).toBe(((await nobody.json()) as { detail: string }).detail);
    expect((await createUser(admin, globex, 'intruder', csrf)).status).toBe(404);
    expect((await admin.fetch(`/api/v1/tenants/${globex.id}/audit-events`)).status).toBe(404);
    const globexUsers = await api<{ items: UserView[] }>(`/api/v1/tenants/${globex.id}/audit-events`);
    expect(JSON.stringify(globexUsers)).not.toContain('intruder');
  });

  it('keeps operator-only routes for the operator', async () => {
    const csrf = await csrfOf(admin);
    const create = await admin.fetch('/api/v1/tenants', { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': csrf }, body: JSON.stringify({ slug: 'mine', displayName: 'Mine' }) });
    expect(create.status).toBe(403);
    expect((await admin.fetch('/api/v1/tenants')).status).toBe(403);
  });

  it('gives each role exactly its permissions', async () => {
    const audit = `/api/v1/tenants/${acme.id}/audit-events`;
    const tenant = `/api/v1/tenants/${acme.id}`;
    expect((await auditor.fetch(audit)).status).toBe(200);
    expect((await auditor.fetch(tenant)).status).toBe(200);
    expect((await createUser(auditor, acme, 'by-auditor', await csrfOf(auditor))).status).toBe(403);
    expect((await helpdesk.fetch(audit)).status).toBe(403);
    expect((await helpdesk.fetch(tenant)).status).toBe(403);
    expect((await createUser(helpdesk, acme, 'by-helpdesk', await csrfOf(helpdesk))).status).toBe(403);
    expect((await plain.fetch(audit)).status).toBe(403);
    expect((await plain.fetch(tenant)).status).toBe(403);
    expect((await admin.fetch(audit)).status).toBe(200);
  });

  it('refuses a session still owing its password change, and no session at all', async () => {
    const user = await api<UserView>(`/api/v1/tenants/${acme.id}/users`, { method: 'POST', body: JSON.stringify({ loginId: `fresh@${acme.platformDomain}`, roles: ['tenant_admin'] }) });
    const otp = await api<{ temporaryPassword: string }>(`/api/v1/tenants/${acme.id}/users/${user.id}/temporary-password`, { method: 'POST' });
    const web = new WebClient(f.gatewayUrl);
    const res = await web.submit(`/t/acme/login`, `/t/acme/login`, { loginId: user.loginId, password: otp.temporaryPassword });
    expect(res.headers.get('location')).toBe('/t/acme/password');
    expect((await web.fetch('/api/v1/me')).status).toBe(403);
    expect((await web.fetch(`/api/v1/tenants/${acme.id}/audit-events`)).status).toBe(403);
    const none = await new WebClient(f.gatewayUrl).fetch(`/api/v1/tenants/${acme.id}/audit-events`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toContain('Bearer');
  });

  it('documents both ways in, with the permission each route needs', async () => {
    const doc = (await (await fetch(`${f.gatewayUrl}/api/docs`)).json()) as { components: { securitySchemes: Record<string, unknown> }; paths: Record<string, Record<string, { description?: string; security?: unknown[] }>> };
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(['csrf', 'operator', 'session']);
    expect(doc.paths['/api/v1/tenants/{tenantId}/users']?.['post']?.description).toContain('users:write');
    expect(doc.paths['/api/v1/tenants']?.['post']?.description).toBe('Platform operator only.');
  });
});
