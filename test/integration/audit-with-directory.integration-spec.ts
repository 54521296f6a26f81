import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { jetstream } from '@nats-io/jetstream';
import { streamNameOf, type AuditEventView, type TenantView, type UserView } from '@musubi/contracts';
import type { RunningService } from '@musubi/platform/runtime';
// The audit trail is only meaningful with the real producer: the directory service (and its test kit) runs here too.
import { asUser, createTenant, createUser, expectError, operator, schemaOf, startKit, streamMessages, waitFor, type Kit } from '@musubi/platform/testing';
import { directoryService } from '../../apps/directory/src/service.js';
import { auditService } from '../../apps/audit/src/service.js';
import { AuditTrail } from '../../apps/audit/src/trail/audit-trail.js';
import { auditRuntimeUrl } from '../../apps/audit/test/audit-kit.js';

// Events made by directory itself travel outbox → JetStream → audit's durable consumer → audit.events.

let kit: Kit;
let audit: RunningService;
let tenant: TenantView;
let other: TenantView;
/** What was done in `tenant`, oldest first: [event type, what it was about]. */
const done: Array<{ type: string; about: string }> = [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function listAll(tenantId: string, limit?: number): Promise<AuditEventView[]> {
  const out: AuditEventView[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 100; pages++) {
    // As the tenant's auditor: the operator's reads would add records of themselves.
    const page = await kit.bus.request('musubi.audit.event.list.v1', { tenantId, ...(limit ? { limit } : {}), ...(cursor ? { cursor } : {}) }, asUser(tenantId, undefined, ['auditor']));
    if (limit) expect(page.items.length).toBeLessThanOrEqual(limit);
    if (limit && page.nextCursor !== null) expect(page.items).toHaveLength(limit);
    out.push(...page.items);
    if (page.nextCursor === null) return out;
    cursor = page.nextCursor;
  }
  throw new Error('more than 100 pages');
}

const rowsWithId = async (id: string) => (await kit.sql<{ n: number }>('SELECT count(*)::int AS n FROM audit.events WHERE id = $1', [id]))[0]?.n;

/** Waits until audit's durable consumer has acknowledged everything up to `seq` in directory's stream. */
async function consumedUpTo(seq: number): Promise<void> {
  await waitFor(`audit to acknowledge stream sequence ${seq}`, async () => {
    const info = await kit.jsm.consumers.info(streamNameOf('directory'), 'audit');
    return info.ack_floor.stream_seq >= seq && info.num_ack_pending === 0;
  });
}

beforeAll(async () => {
  kit = await startKit({ schemas: [schemaOf(directoryService), { schema: 'audit', migrations: auditService.database?.migrations ?? [] }] });
  await kit.start(directoryService);
  // audit as in production: a role that may read and append, nothing else.
  audit = await kit.start(auditService, { DATABASE_URL: await auditRuntimeUrl(kit) });

  // Created one after another, a few milliseconds apart, so "newest first" has one right answer.
  tenant = await createTenant(kit, { timeZone: 'America/New_York' });
  done.push({ type: 'musubi.directory.tenant.created.v1', about: tenant.id });
  for (const name of ['ichiro', 'jiro', 'saburo', 'shiro', 'goro']) {
    await sleep(3);
    const u: UserView = await createUser(kit, tenant, name);
    done.push({ type: 'musubi.directory.user.created.v1', about: u.id });
  }
  other = await createTenant(kit);
  await createUser(kit, other, 'ichiro');

  await waitFor('the audit trail of both tenants', async () => (await listAll(tenant.id)).length === done.length && (await listAll(other.id)).length === 2);
}, 60_000);

afterAll(async () => {
  await kit?.stop();
}, 30_000);

const aboutOf = (e: AuditEventView): string => {
  const p = e.payload as { tenant?: { id: string }; user?: { id: string } };
  return p.user?.id ?? p.tenant?.id ?? '';
};

describe("a tenant's audit trail", () => {
  it('lists the events directory published, newest first, as they were made', async () => {
    const items = await listAll(tenant.id);
    expect(items.map((e) => ({ type: e.type, about: aboutOf(e) }))).toEqual([...done].reverse());
    for (const e of items) expect(e.tenantId).toBe(tenant.id);
    expect(items[items.length - 1]).toMatchObject({
      type: 'musubi.directory.tenant.created.v1',
      actor: { kind: 'operator', id: 'bootstrap' },
      payload: { tenant },
    });
    const times = items.map((e) => Date.parse(e.occurredAt));
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });

  it('pages through the same list without duplicates or gaps', async () => {
    const whole = await listAll(tenant.id);
    for (const limit of [1, 2, 4]) {
      expect((await listAll(tenant.id, limit)).map((e) => e.id)).toEqual(whole.map((e) => e.id));
    }
  });

  it('refuses a cursor it did not issue as validation_failed at /cursor', async () => {
    const forged = [
      'garbage',
      Buffer.from(JSON.stringify({ id: randomUUID() })).toString('base64url'),
      Buffer.from(JSON.stringify({ at: 'yesterday', id: randomUUID() })).toString('base64url'),
      Buffer.from(JSON.stringify({ at: new Date().toISOString(), id: 'x' })).toString('base64url'),
    ];
    for (const cursor of forged) {
      await expectError(kit.bus.request('musubi.audit.event.list.v1', { tenantId: tenant.id, cursor }, operator()), 'validation_failed', '/cursor');
    }
  });

  it("shows a tenant's users their own tenant only", async () => {
    const mine = await kit.bus.request('musubi.audit.event.list.v1', { tenantId: tenant.id }, asUser(tenant.id, undefined, ['auditor']));
    await expectError(kit.bus.request('musubi.audit.event.list.v1', { tenantId: tenant.id }, asUser(tenant.id)), 'forbidden');
    expect(mine.items.map((e) => e.id)).toEqual((await listAll(tenant.id)).map((e) => e.id));

    const theirs = await expectError(kit.bus.request('musubi.audit.event.list.v1', { tenantId: tenant.id }, asUser(other.id, undefined, ['auditor'])), 'not_found');
    const nobody = await expectError(kit.bus.request('musubi.audit.event.list.v1', { tenantId: randomUUID() }, asUser(other.id)), 'not_found');
    expect(theirs.message).toBe(nobody.message);
    await expectError(kit.bus.request('musubi.audit.event.list.v1', { tenantId: tenant.id }, { ...operator(), caller: { kind: 'anonymous' } }), 'unauthenticated');
  });

  it("keeps each tenant's events apart", async () => {
    const theirs = await listAll(other.id);
    expect(theirs.map((e) => e.type).sort()).toEqual(['musubi.directory.tenant.created.v1', 'musubi.directory.user.created.v1']);
    for (const e of theirs) expect(e.tenantId).toBe(other.id);
    const ours = new Set((await listAll(tenant.id)).map((e) => e.id));
    for (const e of theirs) expect(ours.has(e.id)).toBe(false);
  });
});

describe('what the trail makes of directory events', () => {
  it("shows times in the tenant's own time zone, learnt from directory; Asia/Tokyo by default", async () => {
    const page = await kit.bus.request('musubi.audit.event.list.v1', { tenantId: tenant.id, limit: 1 }, asUser(tenant.id, undefined, ['auditor']));
    expect(page.timeZone).toBe('America/New_York');
    const e = page.items[0]!;
    const offset = e.occurredAtLocal.slice(-6);
    expect(['-04:00', '-05:00']).toContain(offset);
    expect(Date.parse(e.occurredAtLocal)).toBe(Date.parse(e.occurredAt));
    expect((await kit.bus.request('musubi.audit.event.list.v1', { tenantId: other.id, limit: 1 }, asUser(other.id, undefined, ['auditor']))).timeZone).toBe('Asia/Tokyo');
  });

  it("records an administrator's change with who, what, and each field before and after", async () => {
    const user = (await listAll(tenant.id)).find((e) => e.type === 'musubi.directory.user.created.v1')!;
    const userId = (user.payload as { user: { id: string } }).user.id;
    const admin = asUser(tenant.id, undefined, ['tenant_admin']);
    await kit.bus.request('musubi.directory.user.update.v1', { tenantId: tenant.id, userId, changes: { displayName: '山田 太郎' } }, admin);
    const [change] = await waitFor('the change in the trail', async () => {
      const found = await kit.bus.request('musubi.audit.event.list.v1', { tenantId: tenant.id, type: 'musubi.directory.user.updated.v1' }, asUser(tenant.id, undefined, ['auditor']));
      return found.items.length > 0 ? found.items : null;
    });
    expect(change).toMatchObject({
      category: 'admin',
      actor: { kind: 'user', userId: admin.caller.kind === 'user' ? admin.caller.userId : '' },
      target: { type: 'user', id: userId },
      targetUserId: userId,
    });
    expect(change!.changes).toEqual(expect.arrayContaining([{ path: 'displayName', op: 'changed', before: expect.any(String), after: '山田 太郎' }]));
    expect(change!.changes!.some((c) => c.path === 'version' || c.path === 'updatedAt')).toBe(false);
    done.push({ type: 'musubi.directory.user.updated.v1', about: userId });
  });
});

describe('redelivered events', () => {
  it('stores an event republished to JetStream under a new message id once', async () => {
    const original = (await streamMessages(kit, 'directory')).find((m) => m.envelope.tenantId === tenant.id && m.subject === 'musubi.directory.user.created.v1');
    expect(original).toBeDefined();
    expect(await rowsWithId(original!.envelope.id)).toBe(1);
    const before = (await listAll(tenant.id)).map((e) => e.id);

    // The stream's de-duplication window cannot catch this one: only the event id can.
    const ack = await jetstream(kit.nc).publish(original!.subject, original!.raw, { msgID: randomUUID() });
    expect(ack.duplicate).toBe(false);
    await consumedUpTo(ack.seq);

    expect(await rowsWithId(original!.envelope.id)).toBe(1);
    expect((await listAll(tenant.id)).map((e) => e.id)).toEqual(before);
  });

  it('stores nothing twice through the trail, even within one batch', async () => {
    const trail = audit.app.get(AuditTrail);
    const stored = (await streamMessages(kit, 'directory')).find((m) => m.envelope.tenantId === other.id)!.envelope;
    const fresh = { ...stored, id: randomUUID(), occurredAt: new Date().toISOString() };
    expect(await trail.record([stored, fresh, fresh])).toBe(1);
    expect(await trail.record([fresh])).toBe(0);
    expect(await rowsWithId(stored.id)).toBe(1);
    expect(await rowsWithId(fresh.id)).toBe(1);
  });
});
