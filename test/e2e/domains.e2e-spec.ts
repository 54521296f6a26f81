import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AuditEventView, DomainView, TenantView, UserView } from '@musubi/contracts';
import { startDnsServer, waitFor, type DnsServer } from '@musubi/platform/testing';
import { operatorFetch, startTestFleet, type TestFleet } from '../support/test-fleet.js';

// A tenant proves it owns its domain through the admin API: the directory asks a real DNS
// server (on loopback, named by DNS_SERVERS) for the TXT record the registration asked for.

let f: TestFleet;
let dns: DnsServer;

beforeAll(async () => {
  dns = await startDnsServer();
  f = await startTestFleet({ extra: { DNS_SERVERS: dns.address } });
}, 120_000);

afterAll(async () => {
  await f?.stop();
  await dns?.stop();
}, 60_000);

async function call<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T; headers: Headers }> {
  const res = await operatorFetch(f, path, { method, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T, headers: res.headers };
}

interface Problem {
  status: number;
  code: string;
  detail: string;
  errors?: Array<{ pointer: string; detail: string }>;
}

async function createTenant(slug: string): Promise<TenantView> {
  const res = await call<TenantView>('POST', '/api/v1/tenants', { slug, displayName: `${slug} 株式会社` });
  expect(res.status).toBe(201);
  return res.body;
}

describe('a tenant’s own domain, proved by DNS', () => {
  it('lets users have login IDs in the domain only once its TXT record is verified', async () => {
    const acme = await createTenant('acme');
    const base = `/api/v1/tenants/${acme.id}/domains`;

    const registered = await call<DomainView>('POST', base, { name: 'Acme-Corp.CO.JP' });
    expect(registered.status).toBe(201);
    const domain = registered.body;
    expect(domain).toMatchObject({ name: 'acme-corp.co.jp', status: 'pending', challenge: { recordName: '_musubi-challenge.acme-corp.co.jp', recordType: 'TXT' } });
    expect(domain.challenge.recordValue).toMatch(/^musubi-domain-verification=[A-Za-z0-9_-]{22,}$/);
    expect(registered.headers.get('location')).toBe(`${base}/${domain.id}`);
    expect(registered.headers.get('etag')).toBe('"v1"');

    const createTaro = () => call<UserView | Problem>('POST', `/api/v1/tenants/${acme.id}/users`, { loginId: 'taro.yamada@acme-corp.co.jp', familyName: '山田', givenName: '太郎' });
    const early = await createTaro();
    expect(early.status).toBe(400);
    expect(early.body).toMatchObject({ code: 'validation_failed', errors: [{ pointer: '/loginId' }] });

    // Not published yet: still pending, and the answer says why.
    const missing = await call<DomainView>('POST', `${base}/${domain.id}/verify`);
    expect(missing.status).toBe(200);
    expect(missing.body).toMatchObject({ status: 'pending', lastCheck: { outcome: 'record_missing' } });
    expect(missing.body.lastCheck?.message).toContain('_musubi-challenge.acme-corp.co.jp');

    dns.setTxt(domain.challenge.recordName, ['v=spf1 -all', domain.challenge.recordValue]);
    const verified = await call<DomainView>('POST', `${base}/${domain.id}/verify`);
    expect(verified.status).toBe(200);
    expect(verified.body).toMatchObject({ id: domain.id, status: 'verified', lastCheck: { outcome: 'matched' } });
    expect(verified.headers.get('etag')).toBe(`"v${verified.body.version}"`);

    const taro = await createTaro();
    expect(taro.status).toBe(201);
    expect(taro.body).toMatchObject({ loginId: 'taro.yamada@acme-corp.co.jp', tenantId: acme.id });

    const listed = await call<{ items: DomainView[]; nextCursor: string | null }>('GET', base);
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual({ items: [verified.body], nextCursor: null });
    const read = await call<DomainView>('GET', `${base}/${domain.id}`);
    expect([read.status, read.headers.get('etag')]).toEqual([200, `"v${verified.body.version}"`]);

    // The domain cannot go while Taro's login ID is in it.
    const removal = await call<Problem>('DELETE', `${base}/${domain.id}`);
    expect(removal.status).toBe(409);
    expect(removal.body).toMatchObject({ code: 'conflict', detail: expect.stringMatching(/^1 user has a login ID in acme-corp\.co\.jp/) });

    // Audit records each step.
    const types = await waitFor('the domain events in the audit trail', async () => {
      const res = await operatorFetch(f, `/api/v1/tenants/${acme.id}/audit-events`);
      if (res.status !== 200) return null;
      const seen = ((await res.json()) as { items: AuditEventView[] }).items.map((e) => e.type);
      return seen.includes('musubi.directory.domain.verified.v1') ? seen : null;
    });
    expect(types).toEqual(expect.arrayContaining(['musubi.directory.domain.registered.v1', 'musubi.directory.domain.verified.v1']));
  });

  it('refuses a domain another tenant verified with 409 domain_claimed, naming nobody', async () => {
    const owner = await createTenant('owner');
    const d = (await call<DomainView>('POST', `/api/v1/tenants/${owner.id}/domains`, { name: 'owned.example.jp' })).body;
    dns.setTxt(d.challenge.recordName, [d.challenge.recordValue]);
    expect((await call<DomainView>('POST', `/api/v1/tenants/${owner.id}/domains/${d.id}/verify`)).body.status).toBe('verified');

    const other = await createTenant('other');
    const res = await call<Problem>('POST', `/api/v1/tenants/${other.id}/domains`, { name: 'OWNED.example.jp.' });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('domain_claimed');
    expect(JSON.stringify(res.body)).not.toMatch(new RegExp(`${owner.id}|${owner.slug}`));
  });

  it('answers 400 for a name that is not a domain of its own, and 404 for an unknown domain', async () => {
    const t = await createTenant('names');
    for (const name of ['co.jp', '203.0.113.7', 'names.musubi.localhost', 'not a domain']) {
      const res = await call<Problem>('POST', `/api/v1/tenants/${t.id}/domains`, { name });
      expect([res.status, res.body.code, res.body.errors?.[0]?.pointer]).toEqual([400, 'validation_failed', '/name']);
    }
    const unknown = await call<Problem>('POST', `/api/v1/tenants/${t.id}/domains/00000000-0000-4000-8000-000000000000/verify`);
    const malformed = await call<Problem>('GET', `/api/v1/tenants/${t.id}/domains/not-a-uuid`);
    expect([unknown.status, malformed.status]).toEqual([404, 404]);
    const removed = await call<DomainView>('POST', `/api/v1/tenants/${t.id}/domains`, { name: 'gone.example.jp' });
    expect((await call<null>('DELETE', `/api/v1/tenants/${t.id}/domains/${removed.body.id}`)).status).toBe(204);
    expect((await call<Problem>('GET', `/api/v1/tenants/${t.id}/domains/${removed.body.id}`)).status).toBe(404);
  });
});
