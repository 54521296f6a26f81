import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import type { AuditEventView, TenantView } from '@musubi/contracts';
import { waitFor } from '@musubi/platform/testing';
import { operatorFetch, startTestFleet, type TestFleet } from '../support/test-fleet.js';

let f: TestFleet;

beforeAll(async () => {
  f = await startTestFleet();
}, 120_000);

afterAll(async () => {
  await f?.stop();
}, 60_000);

async function createTenant(slug: string): Promise<TenantView> {
  const res = await operatorFetch(f, '/api/v1/tenants', { method: 'POST', body: JSON.stringify({ slug, displayName: `${slug} 株式会社` }) });
  expect(res.status).toBe(201);
  const tenant = (await res.json()) as TenantView;
  expect(res.headers.get('location')).toBe(`/api/v1/tenants/${tenant.id}`);
  return tenant;
}

/** The tenant's trail as the operator reads it, and what other services put in it (the operator's own reads left out). */
async function auditEvents(tenantId: string): Promise<AuditEventView[]> {
  return (await trail(tenantId)).filter((e) => !e.type.startsWith('musubi.audit.'));
}

async function trail(tenantId: string): Promise<AuditEventView[]> {
  const res = await operatorFetch(f, `/api/v1/tenants/${tenantId}/audit-events`);
  if (res.status !== 200) throw new Error(`audit-events answered ${res.status}`);
  return ((await res.json()) as { items: AuditEventView[] }).items;
}

async function countInAuditTable(eventId: string): Promise<number> {
  const c = new pg.Client({ connectionString: f.db.adminUrl });
  await c.connect();
  try {
    const r = await c.query<{ n: number }>('SELECT count(*)::int AS n FROM audit.events WHERE id = $1', [eventId]);
    return r.rows[0]?.n ?? 0;
  } finally {
    await c.end();
  }
}

describe('walking skeleton: tenant created at the gateway reaches the audit trail', () => {
  it('stores the tenant and shows its creation in the audit trail', async () => {
    const tenant = await createTenant('acme');
    expect(tenant).toMatchObject({ slug: 'acme', displayName: 'acme 株式会社', status: 'active', timeZone: 'Asia/Tokyo', defaultLocale: 'ja-JP' });

    const events = await waitFor('the audit event', async () => {
      const items = await auditEvents(tenant.id);
      return items.length > 0 ? items : null;
    });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'musubi.directory.tenant.created.v1',
      tenantId: tenant.id,
      actor: { kind: 'operator', id: 'bootstrap' },
      payload: { tenant: { id: tenant.id, slug: 'acme' } },
    });
    // The operator reading a tenant's trail is itself in the trail.
    expect((await trail(tenant.id)).map((e) => e.type)).toContain('musubi.audit.trail.read.v1');
  });

  it('delivers an event exactly once when audit is killed before consuming it', async () => {
    await f.fleet.kill('audit', 'SIGKILL');
    const tenant = await createTenant('globex');

    // audit is down: its own API fails fast, it does not hang.
    const started = Date.now();
    const down = await operatorFetch(f, `/api/v1/tenants/${tenant.id}/audit-events`);
    expect(down.status).toBe(503);
    expect(down.headers.get('content-type')).toContain('application/problem+json');
    expect(Date.now() - started).toBeLessThan(3000);

    // The event waits in JetStream while audit is away.
    await new Promise((r) => setTimeout(r, 500));
    await f.restart('audit');
    const events = await waitFor('the event after restart', async () => {
      const items = await auditEvents(tenant.id);
      return items.length > 0 ? items : null;
    });
    expect(events.map((e) => e.type)).toEqual(['musubi.directory.tenant.created.v1']);
    // Give a redelivery every chance to show up, then count the rows themselves.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await auditEvents(tenant.id)).toHaveLength(1);
    expect(await countInAuditTable(events[0]!.id)).toBe(1);
  });

  it('writes the tenant row and its outbox event together, or neither', async () => {
    const before = await operatorFetch(f, '/api/v1/tenants?limit=200');
    const count = ((await before.json()) as { items: unknown[] }).items.length;
    const res = await operatorFetch(f, '/api/v1/tenants', { method: 'POST', body: JSON.stringify({ slug: 'acme', displayName: 'Duplicate' }) });
    expect(res.status).toBe(409);
    expect(await res.json()).toMatchObject({ code: 'tenant_slug_taken', errors: [{ pointer: '/slug' }] });
    const after = await operatorFetch(f, '/api/v1/tenants?limit=200');
    expect(((await after.json()) as { items: unknown[] }).items).toHaveLength(count);
    const c = new pg.Client({ connectionString: f.db.adminUrl });
    await c.connect();
    try {
      const outbox = await c.query<{ n: number }>("SELECT count(*)::int AS n FROM audit.events WHERE payload->'tenant'->>'displayName' = 'Duplicate'");
      expect(outbox.rows[0]?.n).toBe(0);
    } finally {
      await c.end();
    }
  });
});
