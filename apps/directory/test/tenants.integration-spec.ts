import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { TenantView } from '@musubi/contracts';
import {
  asService,
  asUser,
  createTenant,
  schemaOf,
  expectError,
  operator,
  outboxDrained,
  startKit,
  streamMessages,
  uniqueSlug,
  type Kit,
} from '@musubi/platform/testing';
import { directoryService } from '../src/service.js';

// Tenants through the directory service itself: real Postgres, NATS and JetStream.

let kit: Kit;

beforeAll(async () => {
  kit = await startKit({ schemas: [schemaOf(directoryService)] });
  await kit.start(directoryService);
}, 60_000);

afterAll(async () => {
  await kit?.stop();
}, 30_000);

const tenantRows = (slug: string) => kit.sql<{ id: string }>('SELECT id FROM directory.tenants WHERE slug = $1', [slug]);

describe('creating and reading tenants', () => {
  it('creates a tenant with defaults and reads it back by id and by slug', async () => {
    const slug = uniqueSlug('acme');
    const created = await createTenant(kit, { slug, displayName: '  株式会社アクメ ' });
    expect(created).toMatchObject({
      slug,
      displayName: '株式会社アクメ',
      status: 'active',
      timeZone: 'Asia/Tokyo',
      defaultLocale: 'ja-JP',
      limits: { users: 1000, groups: 1000 },
      platformDomain: `${slug}.musubi.localhost`,
      version: 1,
    });
    expect(await kit.bus.request('musubi.directory.tenant.get.v1', { id: created.id }, operator())).toEqual(created);
    expect(await kit.bus.request('musubi.directory.tenant.get-by-slug.v1', { slug }, operator())).toEqual(created);
    // Its administrators and auditors may read their own tenant; a plain user may not.
    expect(await kit.bus.request('musubi.directory.tenant.get.v1', { id: created.id }, asUser(created.id, undefined, ['auditor']))).toEqual(created);
    await expectError(kit.bus.request('musubi.directory.tenant.get.v1', { id: created.id }, asUser(created.id)), 'forbidden');
  });

  it('stores the canonical spelling of a time zone and refuses a blank display name', async () => {
    expect((await createTenant(kit, { timeZone: 'asia/tokyo' })).timeZone).toBe('Asia/Tokyo');
    await expectError(createTenant(kit, { displayName: '   ' }), 'validation_failed', '/displayName');
  });

  it('resolves slugs for fleet services and the operator only', async () => {
    const t = await createTenant(kit);
    expect((await kit.bus.request('musubi.directory.tenant.get-by-slug.v1', { slug: t.slug }, asService('gateway'))).id).toBe(t.id);
    await expectError(kit.bus.request('musubi.directory.tenant.get-by-slug.v1', { slug: t.slug }, asUser(t.id)), 'forbidden');
    await expectError(kit.bus.request('musubi.directory.tenant.get-by-slug.v1', { slug: t.slug }, { ...operator(), caller: { kind: 'anonymous' } }), 'forbidden');
  });

  it('keeps the settings given at creation', async () => {
    const created = await createTenant(kit, { timeZone: 'Europe/Paris', defaultLocale: 'en-US', limits: { users: 5 } });
    expect(created).toMatchObject({ timeZone: 'Europe/Paris', defaultLocale: 'en-US', limits: { users: 5, groups: 1000 } });
    const [row] = await kit.sql('SELECT time_zone, default_locale, user_limit, group_limit FROM directory.tenants WHERE id = $1', [created.id]);
    expect(row).toEqual({ time_zone: 'Europe/Paris', default_locale: 'en-US', user_limit: 5, group_limit: 1000 });
  });

  it('refuses a slug that is taken, pointing at /slug, and keeps the first tenant', async () => {
    const slug = uniqueSlug('dup');
    const first = await createTenant(kit, { slug });
    await expectError(createTenant(kit, { slug, displayName: 'Another' }), 'tenant_slug_taken', '/slug');
    expect(await tenantRows(slug)).toEqual([{ id: first.id }]);
  });

  it('refuses a reserved slug, naming /slug', async () => {
    await expectError(createTenant(kit, { slug: 'admin' }), 'validation_failed', '/slug');
    expect(await tenantRows('admin')).toEqual([]);
  });

  it('refuses a slug outside the allowed form, naming /slug', async () => {
    const err = await expectError(createTenant(kit, { slug: 'Bad_Slug' }), 'validation_failed', '/slug');
    expect(err.details).toHaveLength(1);
  });

  it('refuses a time zone that is not an IANA zone, naming /timeZone', async () => {
    const slug = uniqueSlug('tz');
    for (const timeZone of ['Mars/Olympus', 'Asia/Tokio', '+09:00']) {
      const err = await expectError(createTenant(kit, { slug, timeZone }), 'validation_failed', '/timeZone');
      expect(err.details.map((d) => d.pointer)).toEqual(['/timeZone']);
    }
    expect(await tenantRows(slug)).toEqual([]);
  });

  it('lets only an operator create or list tenants', async () => {
    const slug = uniqueSlug('nope');
    const someTenant = await createTenant(kit);
    for (const ctx of [asUser(someTenant.id), asUser(someTenant.id, undefined, ['tenant_admin'])]) {
      await expectError(kit.bus.request('musubi.directory.tenant.create.v1', { slug, displayName: 'x' }, ctx), 'forbidden');
      await expectError(kit.bus.request('musubi.directory.tenant.list.v1', {}, ctx), 'forbidden');
    }
    expect(await tenantRows(slug)).toEqual([]);
  });

  it('answers not_found to a user of another tenant, exactly as for a tenant that does not exist', async () => {
    const a = await createTenant(kit);
    const b = await createTenant(kit);
    const userOfB = asUser(b.id, undefined, ['tenant_admin']);
    const other = await expectError(kit.bus.request('musubi.directory.tenant.get.v1', { id: a.id }, userOfB), 'not_found');
    const missing = await expectError(kit.bus.request('musubi.directory.tenant.get.v1', { id: randomUUID() }, userOfB), 'not_found');
    expect(other.message).toBe(missing.message);
    expect(other.details).toEqual(missing.details);
  });
});

describe('listing tenants', () => {
  it('walks every tenant across pages, in order, without duplicates or gaps', async () => {
    for (let i = 0; i < 7; i++) await createTenant(kit);
    const all = await kit.sql<{ id: string }>('SELECT id FROM directory.tenants ORDER BY id');
    expect(all.length).toBeGreaterThan(7);

    const seen: TenantView[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await kit.bus.request('musubi.directory.tenant.list.v1', { limit: 3, ...(cursor ? { cursor } : {}) }, operator());
      expect(page.items.length).toBeLessThanOrEqual(3);
      if (page.nextCursor !== null) expect(page.items).toHaveLength(3);
      seen.push(...page.items);
      cursor = page.nextCursor ?? undefined;
      pages++;
      expect(pages).toBeLessThan(100);
    } while (cursor);

    expect(seen.map((t) => t.id)).toEqual(all.map((r) => r.id));
    expect(pages).toBe(Math.ceil(all.length / 3));
  });

  it('uses a default page size and gives no cursor on the last page', async () => {
    const page = await kit.bus.request('musubi.directory.tenant.list.v1', {}, operator());
    const [count] = await kit.sql<{ n: number }>('SELECT count(*)::int AS n FROM directory.tenants');
    expect(page.items).toHaveLength(count!.n);
    expect(page.nextCursor).toBeNull();
  });

  it('refuses a cursor it did not issue as validation_failed at /cursor', async () => {
    const forged = [
      'not-a-cursor',
      Buffer.from(JSON.stringify({ after: 'x' })).toString('base64url'),
      Buffer.from(JSON.stringify({ id: 'not-a-uuid' })).toString('base64url'),
      Buffer.from(JSON.stringify({ id: 42 })).toString('base64url'),
    ];
    for (const cursor of forged) {
      await expectError(kit.bus.request('musubi.directory.tenant.list.v1', { cursor }, operator()), 'validation_failed', '/cursor');
    }
  });
});

describe('tenant creation and its event commit together', () => {
  it('writes no tenant when its event cannot be written', async () => {
    const slug = uniqueSlug('atomic');
    // The outbox refuses new rows (the relay can still read and delete old ones).
    await kit.sql("ALTER TABLE directory.outbox ADD CONSTRAINT test_refuse_events CHECK (subject = '') NOT VALID");
    try {
      await expectError(createTenant(kit, { slug }), 'internal');
    } finally {
      await kit.sql('ALTER TABLE directory.outbox DROP CONSTRAINT test_refuse_events');
    }
    expect(await tenantRows(slug)).toEqual([]);
    // Nothing half-written blocks the slug.
    const created = await createTenant(kit, { slug });
    expect(await tenantRows(slug)).toEqual([{ id: created.id }]);
  });

  it('publishes exactly one tenant.created event per created tenant, and none for a refused one', async () => {
    const tenants = [await createTenant(kit), await createTenant(kit), await createTenant(kit)];
    await expectError(createTenant(kit, { slug: tenants[0]!.slug }), 'tenant_slug_taken', '/slug');
    await outboxDrained(kit, 'directory');
    const created = (await streamMessages(kit, 'directory')).filter((m) => m.subject === 'musubi.directory.tenant.created.v1');
    for (const t of tenants) {
      const mine = created.filter((m) => (m.envelope.payload as { tenant: TenantView }).tenant.id === t.id);
      expect(mine).toHaveLength(1);
      expect(mine[0]!.envelope).toMatchObject({ tenantId: t.id, actor: { kind: 'operator', id: 'bootstrap' }, payload: { tenant: t } });
    }
    expect(created.filter((m) => (m.envelope.payload as { tenant: TenantView }).tenant.slug === tenants[0]!.slug)).toHaveLength(1);
    // Every tenant in the table has exactly one event, and every event a tenant.
    const ids = (await kit.sql<{ id: string }>('SELECT id FROM directory.tenants')).map((r) => r.id).sort();
    expect(created.map((m) => (m.envelope.payload as { tenant: TenantView }).tenant.id).sort()).toEqual(ids);
  });
});
