import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import type { CallContext, GroupMemberRef, GroupView, RequestOf, TenantView, UserView } from '@musubi/contracts';
import { RemoteError } from '@musubi/platform/errors';
import {
  asUser,
  createTenant,
  createUser,
  expectError,
  operator,
  outboxDrained,
  schemaOf,
  startKit,
  streamMessages,
  waitFor,
  type Kit,
} from '@musubi/platform/testing';
import { directoryService } from '../src/service.js';

// Groups through the directory service itself: real Postgres, NATS and JetStream.

let kit: Kit;

beforeAll(async () => {
  kit = await startKit({ schemas: [schemaOf(directoryService)] });
  await kit.start(directoryService);
  // This file needs purged users, not the users feature's rules about what a purged row keeps: relaxed here only.
  await kit.sql('ALTER TABLE directory.users DROP CONSTRAINT IF EXISTS users_status_check, DROP CONSTRAINT IF EXISTS users_lifecycle_check');
}, 60_000);

afterAll(async () => {
  await kit?.stop();
}, 30_000);

const createGroup = (tenant: TenantView, name: string, fields: Partial<RequestOf<'musubi.directory.group.create.v1'>> = {}, ctx: CallContext = operator()) =>
  kit.bus.request('musubi.directory.group.create.v1', { tenantId: tenant.id, name, ...fields }, ctx);
const getGroup = (tenant: TenantView, groupId: string, ctx: CallContext = operator()) => kit.bus.request('musubi.directory.group.get.v1', { tenantId: tenant.id, groupId }, ctx);
const addMembers = (tenant: TenantView, groupId: string, members: GroupMemberRef[], ctx: CallContext = operator()) =>
  kit.bus.request('musubi.directory.group.members-add.v1', { tenantId: tenant.id, groupId, members }, ctx);
const removeMember = (tenant: TenantView, groupId: string, member: GroupMemberRef, ctx: CallContext = operator()) =>
  kit.bus.request('musubi.directory.group.member-remove.v1', { tenantId: tenant.id, groupId, member }, ctx);
const deleteGroup = (tenant: TenantView, groupId: string, expectedVersion?: number, ctx: CallContext = operator()) =>
  kit.bus.request('musubi.directory.group.delete.v1', { tenantId: tenant.id, groupId, ...(expectedVersion ? { expectedVersion } : {}) }, ctx);
const u = (user: { id: string }): GroupMemberRef => ({ kind: 'user', id: user.id });
const g = (group: { id: string }): GroupMemberRef => ({ kind: 'group', id: group.id });

/** Every page of a list, following nextCursor. */
async function walk<T>(fetchPage: (cursor: string | undefined) => Promise<{ items: T[]; nextCursor: string | null }>, limit?: number): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 1000; pages++) {
    const page = await fetchPage(cursor);
    if (limit !== undefined && page.nextCursor !== null) expect(page.items).toHaveLength(limit);
    out.push(...page.items);
    if (page.nextCursor === null) return out;
    cursor = page.nextCursor;
  }
  throw new Error('more than 1000 pages');
}

const listGroups = (tenant: TenantView, query: Partial<RequestOf<'musubi.directory.group.list.v1'>> = {}, limit = 3) =>
  walk((cursor) => kit.bus.request('musubi.directory.group.list.v1', { tenantId: tenant.id, limit, ...query, ...(cursor ? { cursor } : {}) }, operator()), limit);
const effectiveUsers = (tenant: TenantView, groupId: string, limit = 50, ctx: CallContext = operator()) =>
  walk((cursor) => kit.bus.request('musubi.directory.group.effective-users-list.v1', { tenantId: tenant.id, groupId, limit, ...(cursor ? { cursor } : {}) }, ctx), limit);
const userGroups = (tenant: TenantView, userId: string, limit = 50, ctx: CallContext = operator()) =>
  walk((cursor) => kit.bus.request('musubi.directory.group.user-groups-list.v1', { tenantId: tenant.id, userId, limit, ...(cursor ? { cursor } : {}) }, ctx), limit);
const directMembers = (tenant: TenantView, groupId: string, limit = 50, kind?: 'user' | 'group') =>
  walk(
    (cursor) =>
      kit.bus.request('musubi.directory.group.members-list.v1', { tenantId: tenant.id, groupId, limit, ...(kind ? { kind } : {}), ...(cursor ? { cursor } : {}) }, operator()),
    limit,
  );

const eventsOf = async (subject: string, tenantId: string) => {
  await outboxDrained(kit, 'directory');
  return (await streamMessages(kit, 'directory')).filter((m) => m.subject === subject && m.envelope.tenantId === tenantId).map((m) => m.envelope.payload);
};

const memberRows = async (tenantId: string) =>
  (await kit.sql<{ r: string }>("SELECT group_id || '>' || member_kind || ':' || member_id AS r FROM directory.group_members WHERE tenant_id = $1 ORDER BY 1", [tenantId])).map((x) => x.r);

/** The closure as stored: "ancestor>descendant:depth", sorted. */
const closureRows = async (tenantId: string) =>
  (
    await kit.sql<{ r: string }>("SELECT ancestor_id || '>' || descendant_id || ':' || depth AS r FROM directory.group_closure WHERE tenant_id = $1 ORDER BY 1", [
      tenantId,
    ])
  ).map((x) => x.r);

/** The closure computed from scratch from `group_members`: a breadth-first search (shortest depth) from every group. */
async function bruteForceClosure(tenantId: string): Promise<string[]> {
  const groups = (await kit.sql<{ id: string }>('SELECT id FROM directory.groups WHERE tenant_id = $1', [tenantId])).map((r) => r.id);
  const edges = await kit.sql<{ p: string; c: string }>("SELECT group_id AS p, member_id AS c FROM directory.group_members WHERE tenant_id = $1 AND member_kind = 'group'", [tenantId]);
  const children = new Map<string, string[]>();
  for (const e of edges) children.set(e.p, [...(children.get(e.p) ?? []), e.c]);
  const out: string[] = [];
  for (const start of groups) {
    const depth = new Map([[start, 0]]);
    const queue = [start];
    while (queue.length > 0) {
      const at = queue.shift()!;
      for (const c of children.get(at) ?? []) {
        if (!depth.has(c)) {
          depth.set(c, depth.get(at)! + 1);
          queue.push(c);
        }
      }
    }
    for (const [d, n] of depth) out.push(`${start}>${d}:${n}`);
  }
  return out.sort();
}

const expectClosureCorrect = async (tenantId: string) => expect(await closureRows(tenantId)).toEqual(await bruteForceClosure(tenantId));

/** Depth of `descendant` under `ancestor` in the stored closure, or null when it is not nested there. */
const depthOf = async (ancestor: { id: string }, descendant: { id: string }) =>
  (await kit.sql<{ depth: number }>('SELECT depth FROM directory.group_closure WHERE ancestor_id = $1 AND descendant_id = $2', [ancestor.id, descendant.id]))[0]?.depth ??
  null;

describe('creating, reading, changing and deleting groups', () => {
  it('creates a group with defaults, trims what it keeps, and reads it back', async () => {
    const t = await createTenant(kit);
    const created = await createGroup(t, '  営業部  ', { email: 'sales@example.co.jp', description: ' 東京本社の営業 ' });
    expect(created).toMatchObject({ tenantId: t.id, name: '営業部', email: 'sales@example.co.jp', description: '東京本社の営業', type: 'security', version: 1 });
    expect(await getGroup(t, created.id)).toEqual(created);
    expect((await createGroup(t, 'All staff', { type: 'distribution' })).type).toBe('distribution');
    expect(await eventsOf('musubi.directory.group.created.v1', t.id)).toContainEqual({ group: created });
    // Its own closure row: every group contains itself at depth 0.
    expect(await closureRows(t.id)).toContain(`${created.id}>${created.id}:0`);
  });

  it('refuses a blank name, a bad email, an unknown type or field, and control characters, naming each, writing nothing', async () => {
    const t = await createTenant(kit);
    await expectError(createGroup(t, '   '), 'validation_failed', '/name');
    await expectError(createGroup(t, 'x', { email: 'not an email' }), 'validation_failed', '/email');
    await expectError(createGroup(t, 'x', { type: 'team' as 'security' }), 'validation_failed', '/type');
    await expectError(createGroup(t, 'line\nbreak'), 'validation_failed', '/name');
    await expectError(kit.bus.request('musubi.directory.group.create.v1', { tenantId: t.id, name: 'x', owner: 'me' } as never, operator()), 'validation_failed', '/owner');
    await expectError(createGroup(t, 'x'.repeat(201)), 'validation_failed', '/name');
    expect(await kit.sql('SELECT id FROM directory.groups WHERE tenant_id = $1', [t.id])).toEqual([]);
  });

  it('keeps names unique in the tenant whatever their case, and lets another tenant use the same name', async () => {
    const t = await createTenant(kit);
    const first = await createGroup(t, 'Engineering');
    for (const name of ['ENGINEERING', 'engineering', ' Engineering ']) await expectError(createGroup(t, name), 'conflict', '/name');
    await createGroup(t, 'ＡＢＣ');
    await expectError(createGroup(t, 'ａｂｃ'), 'conflict', '/name');
    const other = await createTenant(kit);
    expect((await createGroup(other, 'engineering')).name).toBe('engineering');
    // Renaming onto a taken name is refused too; a change of case of its own name is not.
    const second = await createGroup(t, 'Design');
    await expectError(kit.bus.request('musubi.directory.group.update.v1', { tenantId: t.id, groupId: second.id, changes: { name: 'engineering' } }, operator()), 'conflict', '/name');
    const recased = await kit.bus.request('musubi.directory.group.update.v1', { tenantId: t.id, groupId: first.id, changes: { name: 'ENGINEERING' } }, operator());
    expect(recased.name).toBe('ENGINEERING');
  });

  it('changes a group at the version it was read, refuses a stale one, clears with null, and records before and after', async () => {
    const t = await createTenant(kit);
    const group = await createGroup(t, 'Ops', { email: 'ops@example.com', description: 'Operations' });
    const update = (changes: RequestOf<'musubi.directory.group.update.v1'>['changes'], expectedVersion?: number) =>
      kit.bus.request('musubi.directory.group.update.v1', { tenantId: t.id, groupId: group.id, changes, ...(expectedVersion ? { expectedVersion } : {}) }, operator());
    const changed = await update({ name: 'Operations', email: null, type: 'organization' }, 1);
    expect(changed).toMatchObject({ name: 'Operations', email: null, description: 'Operations', type: 'organization', version: 2 });
    await expectError(update({ description: 'stale' }, 1), 'precondition_failed');
    await expectError(update({}), 'validation_failed');
    await expectError(update({ name: ' ' }), 'validation_failed', '/name');
    expect(await getGroup(t, group.id)).toEqual(changed);
    expect(await eventsOf('musubi.directory.group.updated.v1', t.id)).toEqual([{ before: group, after: changed }]);
    await expectError(
      kit.bus.request('musubi.directory.group.update.v1', { tenantId: t.id, groupId: randomUUID(), changes: { name: 'x' } }, operator()),
      'not_found',
    );
  });

  it('deletes a group at the version it was read, and then it is gone', async () => {
    const t = await createTenant(kit);
    const group = await createGroup(t, 'Temporary');
    await expectError(deleteGroup(t, group.id, 2), 'precondition_failed');
    expect(await deleteGroup(t, group.id, 1)).toEqual({});
    await expectError(getGroup(t, group.id), 'not_found');
    await expectError(deleteGroup(t, group.id), 'not_found');
    expect(await eventsOf('musubi.directory.group.deleted.v1', t.id)).toEqual([{ group, memberCount: 0, removedFrom: [] }]);
    expect(await closureRows(t.id)).toEqual([]);
  });
});

describe('listing groups', () => {
  let t: TenantView;
  const names = ['Alpha', 'beta', 'Gamma', 'Delta team', 'alphabet soup', 'Epsilon', 'zeta', 'Eta', '経理部', '営業部'];
  const made: GroupView[] = [];

  beforeAll(async () => {
    t = await createTenant(kit);
    for (const [i, name] of names.entries()) made.push(await createGroup(t, name, { type: i % 3 === 0 ? 'distribution' : 'security' }));
  });

  it('walks every group by name, whatever its case, across pages, both ways', async () => {
    const byName = [...names].sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1));
    expect((await listGroups(t)).map((x) => x.name)).toEqual(byName);
    expect((await listGroups(t, { sort: '-name' }, 4)).map((x) => x.name)).toEqual([...byName].reverse());
  });

  it('walks every group by creation, both ways', async () => {
    expect((await listGroups(t, { sort: 'createdAt' }, 4)).map((x) => x.id)).toEqual(made.map((x) => x.id));
    expect((await listGroups(t, { sort: '-createdAt' }, 3)).map((x) => x.id)).toEqual(made.map((x) => x.id).reverse());
  });

  it('finds groups by a fragment or a prefix of their name, whatever its case, and by type', async () => {
    expect((await listGroups(t, { q: 'ALPHA' }, 1)).map((x) => x.name)).toEqual(['Alpha', 'alphabet soup']);
    expect((await listGroups(t, { q: 'ta' })).map((x) => x.name)).toEqual(['beta', 'Delta team', 'Eta', 'zeta']);
    expect((await listGroups(t, { prefix: 'e' })).map((x) => x.name)).toEqual(['Epsilon', 'Eta']);
    expect((await listGroups(t, { prefix: 'alpha', sort: '-name' }, 1)).map((x) => x.name)).toEqual(['alphabet soup', 'Alpha']);
    expect((await listGroups(t, { q: '部' })).map((x) => x.name)).toEqual(['営業部', '経理部']);
    expect((await listGroups(t, { prefix: '%' })).map((x) => x.name)).toEqual([]);
    expect((await listGroups(t, { type: 'distribution', sort: 'createdAt' }, 10)).map((x) => x.name)).toEqual(['Alpha', 'Delta team', 'zeta', '営業部']);
  });

  it('refuses a forged cursor, or one of another order, at /cursor', async () => {
    const page = await kit.bus.request('musubi.directory.group.list.v1', { tenantId: t.id, limit: 2 }, operator());
    expect(page.nextCursor).not.toBeNull();
    await expectError(kit.bus.request('musubi.directory.group.list.v1', { tenantId: t.id, sort: 'createdAt', cursor: page.nextCursor! }, operator()), 'validation_failed', '/cursor');
    for (const cursor of ['junk', Buffer.from(JSON.stringify({ s: 'name', n: 7 })).toString('base64url'), Buffer.from(JSON.stringify({ s: 'createdAt', t: 'now', id: randomUUID() })).toString('base64url')]) {
      await expectError(kit.bus.request('musubi.directory.group.list.v1', { tenantId: t.id, cursor, sort: 'createdAt' }, operator()), 'validation_failed', '/cursor');
    }
  });

  it('answers not_found for a tenant that does not exist', async () => {
    await expectError(kit.bus.request('musubi.directory.group.list.v1', { tenantId: randomUUID() }, operator()), 'not_found');
  });
});

describe("the tenant's group limit", () => {
  it('refuses one more group with limit_exceeded and writes nothing', async () => {
    const t = await createTenant(kit, { limits: { groups: 2 } });
    await createGroup(t, 'one');
    await createGroup(t, 'two');
    await expectError(createGroup(t, 'three'), 'limit_exceeded');
    expect((await kit.sql('SELECT name FROM directory.groups WHERE tenant_id = $1 ORDER BY name', [t.id])).map((r) => r['name'])).toEqual(['one', 'two']);
    expect(await eventsOf('musubi.directory.group.created.v1', t.id)).toHaveLength(2);
  });

  it('lets exactly one of several concurrent creations take the last place', async () => {
    const t = await createTenant(kit, { limits: { groups: 2 } });
    await createGroup(t, 'first');
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => createGroup(t, `racer ${i}`)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason instanceof RemoteError ? r.reason.code : r.reason).toBe('limit_exceeded');
    expect(await kit.sql('SELECT id FROM directory.groups WHERE tenant_id = $1', [t.id])).toHaveLength(2);
  });
});

describe('members', () => {
  it('adds users and groups at once, leaves existing members alone, and lists direct members by page', async () => {
    const t = await createTenant(kit);
    const team = await createGroup(t, 'Team');
    const sub = await createGroup(t, 'Sub-team');
    const users = [await createUser(kit, t, 'taro', { displayName: '山田 太郎' }), await createUser(kit, t, 'hanako'), await createUser(kit, t, 'jiro')];
    const first = await addMembers(t, team.id, [u(users[0]!), g(sub)]);
    expect(first).toEqual({ added: [u(users[0]!), g(sub)], alreadyMembers: [] });
    const second = await addMembers(t, team.id, [u(users[0]!), u(users[1]!), u(users[2]!)]);
    expect(second).toEqual({ added: [u(users[1]!), u(users[2]!)], alreadyMembers: [u(users[0]!)] });

    const listed = await directMembers(t, team.id, 2);
    expect(listed.map((m) => `${m.kind}:${m.id}`)).toEqual([`group:${sub.id}`, ...users.map((x) => `user:${x.id}`).sort()]);
    expect(listed.find((m) => m.id === users[0]!.id)).toMatchObject({ name: '山田 太郎', loginId: users[0]!.loginId, status: 'active' });
    expect(listed[0]).toMatchObject({ kind: 'group', name: 'Sub-team', loginId: null, status: null });
    expect((await directMembers(t, team.id, 1, 'group')).map((m) => m.id)).toEqual([sub.id]);
    expect(await directMembers(t, team.id, 5, 'user')).toHaveLength(3);

    const added = await eventsOf('musubi.directory.group.members-added.v1', t.id);
    expect(added).toEqual([
      { group: { id: team.id, name: 'Team' }, members: [u(users[0]!), g(sub)] },
      { group: { id: team.id, name: 'Team' }, members: [u(users[1]!), u(users[2]!)] },
    ]);
  });

  it('adds nothing when one member cannot be added, naming every bad one', async () => {
    const t = await createTenant(kit);
    const other = await createTenant(kit);
    const team = await createGroup(t, 'Team');
    const good = await createUser(kit, t, 'good');
    const purged = await createUser(kit, t, 'purged');
    await kit.sql("UPDATE directory.users SET status = 'purged' WHERE id = $1", [purged.id]);
    const stranger = await createUser(kit, other, 'stranger');
    const foreignGroup = await createGroup(other, 'Foreign');
    const err = await expectError(
      addMembers(t, team.id, [u(good), { kind: 'user', id: randomUUID() }, u(stranger), g(foreignGroup), u(purged), { kind: 'group', id: good.id }]),
      'validation_failed',
    );
    expect(err.details.map((d) => d.pointer)).toEqual(['/members/1', '/members/2', '/members/3', '/members/4', '/members/5']);
    expect(err.details.find((d) => d.pointer === '/members/4')?.detail).toMatch(/purged/);
    expect(await memberRows(t.id)).toEqual([]);
    await expectError(addMembers(t, team.id, [u(good), { kind: 'user', id: good.id.toUpperCase() }]), 'validation_failed', '/members/1');
    await expectError(addMembers(t, randomUUID(), [u(good)]), 'not_found');
    await expectError(addMembers(t, team.id, []), 'validation_failed', '/members');
    expect(await memberRows(t.id)).toEqual([]);
    expect(await eventsOf('musubi.directory.group.members-added.v1', t.id)).toEqual([]);
  });

  it('removes one direct member, and says not_found for one that is not', async () => {
    const t = await createTenant(kit);
    const team = await createGroup(t, 'Team');
    const a = await createUser(kit, t, 'a');
    const b = await createUser(kit, t, 'b');
    await addMembers(t, team.id, [u(a), u(b)]);
    expect(await removeMember(t, team.id, u(a))).toEqual({});
    await expectError(removeMember(t, team.id, u(a)), 'not_found');
    await expectError(removeMember(t, team.id, { kind: 'group', id: b.id }), 'not_found');
    expect((await directMembers(t, team.id)).map((m) => m.id)).toEqual([b.id]);
    expect(await eventsOf('musubi.directory.group.members-removed.v1', t.id)).toEqual([{ group: { id: team.id, name: 'Team' }, members: [u(a)] }]);
  });
});

describe('nesting without cycles', () => {
  it('refuses a group in itself, in its own member, and in a group three levels down, writing nothing', async () => {
    const t = await createTenant(kit);
    const [a, b, c, d] = [await createGroup(t, 'A'), await createGroup(t, 'B'), await createGroup(t, 'C'), await createGroup(t, 'D')];
    await addMembers(t, a.id, [g(b)]);
    await addMembers(t, b.id, [g(c)]);
    await addMembers(t, c.id, [g(d)]);
    const e = await createGroup(t, 'E');
    const before = [await memberRows(t.id), await closureRows(t.id)];

    await expectError(addMembers(t, a.id, [g(a)]), 'group_cycle', '/members/0');
    await expectError(addMembers(t, b.id, [g(a)]), 'group_cycle', '/members/0');
    const deep = await expectError(addMembers(t, d.id, [g(a)]), 'group_cycle', '/members/0');
    expect(deep.details[0]!.detail).toMatch(/contains this group/);
    // Every bad member is named; the good one is not added either.
    const both = await expectError(addMembers(t, d.id, [g(e), g(b), g(d)]), 'group_cycle');
    expect(both.details.map((x) => x.pointer)).toEqual(['/members/1', '/members/2']);
    expect([await memberRows(t.id), await closureRows(t.id)]).toEqual(before);
    await expectClosureCorrect(t.id);
  });

  it('lets exactly one of two transactions racing to add A to B and B to A win, while both wait for the graph lock', async () => {
    const t = await createTenant(kit);
    const a = await createGroup(t, 'A');
    const b = await createGroup(t, 'B');
    // Hold the tenant's graph lock, so both requests are in flight together, waiting for it.
    const holder = new pg.Client({ connectionString: kit.db.adminUrl });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`musubi:directory:group-graph:${t.id}`]);
      const race = Promise.allSettled([addMembers(t, a.id, [g(b)]), addMembers(t, b.id, [g(a)])]);
      await waitFor('both additions to wait for the graph lock', async () => {
        const [row] = await kit.sql<{ n: number }>("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())");
        return row!.n === 2;
      });
      await holder.query('COMMIT');
      const results = await race;
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const lost = results.find((r) => r.status === 'rejected');
      expect(lost?.status === 'rejected' && lost.reason instanceof RemoteError ? lost.reason.code : lost).toBe('group_cycle');
    } finally {
      await holder.end();
    }
    expect(await memberRows(t.id)).toHaveLength(1);
    await expectClosureCorrect(t.id);
  });

  it('never lets both sides of a cycle in when many such races run freely', async () => {
    const t = await createTenant(kit);
    for (let round = 0; round < 15; round++) {
      const a = await createGroup(t, `A${round}`);
      const b = await createGroup(t, `B${round}`);
      const c = await createGroup(t, `C${round}`);
      // A three-group cycle, closed from three sides at once: at most two may win.
      const results = await Promise.allSettled([addMembers(t, a.id, [g(b)]), addMembers(t, b.id, [g(c)]), addMembers(t, c.id, [g(a)])]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
    }
    await expectClosureCorrect(t.id);
  });
});

describe('the closure', () => {
  it('keeps the other side of a diamond when one side is removed, with the depth of the way that is left', async () => {
    const t = await createTenant(kit);
    const [top, left, right, bottom, leaf] = [await createGroup(t, 'top'), await createGroup(t, 'left'), await createGroup(t, 'right'), await createGroup(t, 'bottom'), await createGroup(t, 'leaf')];
    const mid = await createGroup(t, 'mid');
    await addMembers(t, top.id, [g(left), g(right)]);
    await addMembers(t, left.id, [g(bottom)]);
    await addMembers(t, right.id, [g(mid)]);
    await addMembers(t, mid.id, [g(bottom)]);
    await addMembers(t, bottom.id, [g(leaf)]);
    expect(await depthOf(top, leaf)).toBe(3);
    await expectClosureCorrect(t.id);

    await removeMember(t, left.id, g(bottom));
    expect(await depthOf(top, bottom)).toBe(3); // top > right > mid > bottom
    expect(await depthOf(top, leaf)).toBe(4);
    expect(await depthOf(left, bottom)).toBeNull();
    await expectClosureCorrect(t.id);

    await removeMember(t, mid.id, g(bottom));
    expect(await depthOf(top, bottom)).toBeNull();
    expect(await depthOf(top, leaf)).toBeNull();
    expect(await depthOf(bottom, leaf)).toBe(1);
    await expectClosureCorrect(t.id);
  });

  it('cuts a chain where an edge is removed, and joins it again', async () => {
    const t = await createTenant(kit);
    const chain: GroupView[] = [];
    for (let i = 0; i < 6; i++) chain.push(await createGroup(t, `level ${i}`));
    for (let i = 0; i < 5; i++) await addMembers(t, chain[i]!.id, [g(chain[i + 1]!)]);
    expect(await depthOf(chain[0]!, chain[5]!)).toBe(5);
    await removeMember(t, chain[2]!.id, g(chain[3]!));
    expect(await depthOf(chain[0]!, chain[2]!)).toBe(2);
    expect(await depthOf(chain[0]!, chain[3]!)).toBeNull();
    expect(await depthOf(chain[3]!, chain[5]!)).toBe(2);
    await expectClosureCorrect(t.id);
    await addMembers(t, chain[0]!.id, [g(chain[4]!)]);
    expect(await depthOf(chain[0]!, chain[5]!)).toBe(2);
    await expectClosureCorrect(t.id);
  });

  it('matches a from-scratch computation after every step of a random sequence of additions, removals and deletions (seeded)', async () => {
    // mulberry32: a small PRNG, so a failure can be replayed from the seed.
    let seed = 0x6d757362;
    const random = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
      return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
    };
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const t = await createTenant(kit);
    let groups: GroupView[] = [];
    for (let i = 0; i < 12; i++) groups.push(await createGroup(t, `g${i}`));
    const counts = { added: 0, cycles: 0, removed: 0, deleted: 0 };
    let deepest = 0;
    for (let step = 0; step < 220; step++) {
      const roll = random();
      const edges = await kit.sql<{ p: string; c: string }>("SELECT group_id AS p, member_id AS c FROM directory.group_members WHERE tenant_id = $1 AND member_kind = 'group' ORDER BY 1, 2", [t.id]);
      if (roll < 0.65 || edges.length === 0) {
        // One to three groups into one parent; a cycle is expected exactly when one of them already contains the parent.
        const parent = pick(groups);
        const kids = [...new Set(Array.from({ length: 1 + Math.floor(random() * 3) }, () => pick(groups).id))];
        const closure = new Set(await bruteForceClosure(t.id).then((rows) => rows.map((r) => r.split(':')[0])));
        const cyclic = kids.some((k) => k === parent.id || closure.has(`${k}>${parent.id}`));
        const result = addMembers(t, parent.id, kids.map((id) => ({ kind: 'group', id })));
        if (cyclic) {
          await expectError(result, 'group_cycle');
          counts.cycles++;
        } else {
          await result;
          counts.added++;
        }
      } else if (roll < 0.93) {
        const e = pick(edges);
        await removeMember(t, e.p, { kind: 'group', id: e.c });
        counts.removed++;
      } else {
        const victim = pick(groups);
        await deleteGroup(t, victim.id);
        groups = groups.filter((x) => x.id !== victim.id);
        groups.push(await createGroup(t, `g-new-${step}`));
        counts.deleted++;
      }
      const closure = await closureRows(t.id);
      expect({ step, closure }).toEqual({ step, closure: await bruteForceClosure(t.id) });
      deepest = Math.max(deepest, ...closure.map((r) => Number(r.split(':')[1])));
    }
    // The sequence exercised every kind of step, and nested deeply enough to matter.
    expect(Math.min(counts.added, counts.cycles, counts.removed, counts.deleted)).toBeGreaterThan(3);
    expect(deepest).toBeGreaterThanOrEqual(4);
  }, 120_000);
});

describe('effective membership', () => {
  let t: TenantView;
  let top: GroupView;
  let left: GroupView;
  let right: GroupView;
  let bottom: GroupView;
  const people: Record<string, UserView> = {};

  beforeAll(async () => {
    // top ⊃ left ⊃ bottom, top ⊃ right ⊃ bottom; someone in several of them counts once, at their nearest.
    t = await createTenant(kit);
    [top, left, right, bottom] = [await createGroup(t, 'top'), await createGroup(t, 'left'), await createGroup(t, 'right'), await createGroup(t, 'bottom')];
    for (const name of ['boss', 'lefty', 'righty', 'deep', 'both', 'outsider', 'gone']) people[name] = await createUser(kit, t, name);
    await addMembers(t, top.id, [g(left), g(right), u(people['boss']!)]);
    await addMembers(t, left.id, [g(bottom), u(people['lefty']!), u(people['both']!)]);
    await addMembers(t, right.id, [g(bottom), u(people['righty']!)]);
    await addMembers(t, bottom.id, [u(people['deep']!), u(people['both']!), u(people['gone']!)]);
    // Purged after being added: no longer counted.
    await kit.sql("UPDATE directory.users SET status = 'purged' WHERE id = $1", [people['gone']!.id]);
  });

  it("lists a group's users through every level, each once, at its shortest depth, by page", async () => {
    for (const limit of [1, 2, 50]) {
      const users = await effectiveUsers(t, top.id, limit);
      expect(users.map((x) => [x.loginId.split('@')[0], x.depth, x.direct])).toEqual(
        (
          [
            ['boss', 0, true],
            ['lefty', 1, false],
            ['righty', 1, false],
            ['deep', 2, false],
            ['both', 1, false],
          ] as const
        )
          .map((row) => ({ row, id: people[row[0]]!.id }))
          .sort((a, b) => (a.id < b.id ? -1 : 1))
          .map((x) => [...x.row]),
      );
    }
    expect((await effectiveUsers(t, bottom.id)).map((x) => x.id).sort()).toEqual([people['deep']!.id, people['both']!.id].sort());
    // The contract query other features use gives the same set (purged users are left to the caller there).
    const contract = await kit.sql<{ member_id: string }>(
      "SELECT DISTINCT m.member_id FROM directory.group_closure c JOIN directory.group_members m ON m.group_id = c.descendant_id AND m.member_kind = 'user' WHERE c.ancestor_id = $1",
      [top.id],
    );
    expect(contract.map((r) => r.member_id).filter((id) => id !== people['gone']!.id).sort()).toEqual((await effectiveUsers(t, top.id)).map((x) => x.id).sort());
  });

  it("lists a user's groups, direct and through nesting, by name, with the depth", async () => {
    const groupsOf = async (name: string, limit = 50) => (await userGroups(t, people[name]!.id, limit)).map((m) => [m.group.name, m.depth, m.direct]);
    expect(await groupsOf('deep', 1)).toEqual([
      ['bottom', 0, true],
      ['left', 1, false],
      ['right', 1, false],
      ['top', 2, false],
    ]);
    expect(await groupsOf('both')).toEqual([
      ['bottom', 0, true],
      ['left', 0, true],
      ['right', 1, false],
      ['top', 1, false],
    ]);
    expect(await groupsOf('outsider')).toEqual([]);
    await expectError(kit.bus.request('musubi.directory.group.user-groups-list.v1', { tenantId: t.id, userId: randomUUID() }, operator()), 'not_found');
  });

  it('follows changes: a removed side of the diamond, a removed user', async () => {
    await removeMember(t, left.id, g(bottom));
    expect((await userGroups(t, people['deep']!.id)).map((m) => [m.group.name, m.depth])).toEqual([
      ['bottom', 0],
      ['right', 1],
      ['top', 2],
    ]);
    await removeMember(t, right.id, g(bottom));
    expect((await effectiveUsers(t, top.id)).map((x) => x.id)).not.toContain(people['deep']!.id);
    expect((await effectiveUsers(t, top.id)).find((x) => x.id === people['both']!.id)?.depth).toBe(1);
  });
});

describe('deleting a group with members', () => {
  it('removes its memberships in both directions and the nesting through it, in one transaction', async () => {
    const t = await createTenant(kit);
    const [parent, middle, child] = [await createGroup(t, 'parent'), await createGroup(t, 'middle'), await createGroup(t, 'child')];
    const other = await createGroup(t, 'other parent');
    const [x, y] = [await createUser(kit, t, 'x'), await createUser(kit, t, 'y')];
    await addMembers(t, parent.id, [g(middle)]);
    await addMembers(t, other.id, [g(middle), u(y)]);
    await addMembers(t, middle.id, [g(child), u(x), u(y)]);
    await addMembers(t, child.id, [u(y)]);
    expect((await effectiveUsers(t, parent.id)).map((e) => e.id).sort()).toEqual([x.id, y.id].sort());

    await deleteGroup(t, middle.id);
    const rows = await kit.sql('SELECT * FROM directory.group_members WHERE group_id = $1 OR member_id = $1', [middle.id]);
    expect(rows).toEqual([]);
    expect(await kit.sql('SELECT * FROM directory.group_closure WHERE ancestor_id = $1 OR descendant_id = $1', [middle.id])).toEqual([]);
    expect(await depthOf(parent, child)).toBeNull();
    expect(await effectiveUsers(t, parent.id)).toEqual([]);
    expect((await userGroups(t, y.id)).map((m) => m.group.name)).toEqual(['child', 'other parent']);
    await expectClosureCorrect(t.id);
    const [deleted] = await eventsOf('musubi.directory.group.deleted.v1', t.id);
    expect(deleted).toMatchObject({ group: { id: middle.id }, memberCount: 3, removedFrom: [parent.id, other.id].sort() });
  });

  it('deletes nothing when its event cannot be written', async () => {
    const t = await createTenant(kit);
    const [parent, middle] = [await createGroup(t, 'parent'), await createGroup(t, 'middle')];
    await addMembers(t, parent.id, [g(middle), u(await createUser(kit, t, 'z'))]);
    const before = [await memberRows(t.id), await closureRows(t.id)];
    await kit.sql("ALTER TABLE directory.outbox ADD CONSTRAINT test_refuse_events CHECK (subject = '') NOT VALID");
    try {
      await expectError(deleteGroup(t, middle.id), 'internal');
      await expectError(deleteGroup(t, parent.id), 'internal');
    } finally {
      await kit.sql('ALTER TABLE directory.outbox DROP CONSTRAINT test_refuse_events');
    }
    expect([await memberRows(t.id), await closureRows(t.id)]).toEqual(before);
    expect((await getGroup(t, middle.id)).id).toBe(middle.id);
  });
});

describe('who may read and change groups', () => {
  let t: TenantView;
  let team: GroupView;
  let member: UserView;
  let stranger: CallContext;

  beforeAll(async () => {
    t = await createTenant(kit);
    team = await createGroup(t, 'Team');
    member = await createUser(kit, t, 'member');
    await addMembers(t, team.id, [u(member)]);
    const other = await createTenant(kit);
    stranger = asUser(other.id, (await createUser(kit, other, 'boss', { roles: ['tenant_admin'] })).id, ['tenant_admin']);
  });

  const reads = (ctx: CallContext) => [
    getGroup(t, team.id, ctx),
    kit.bus.request('musubi.directory.group.list.v1', { tenantId: t.id }, ctx),
    kit.bus.request('musubi.directory.group.members-list.v1', { tenantId: t.id, groupId: team.id }, ctx),
    kit.bus.request('musubi.directory.group.effective-users-list.v1', { tenantId: t.id, groupId: team.id }, ctx),
    kit.bus.request('musubi.directory.group.user-groups-list.v1', { tenantId: t.id, userId: member.id }, ctx),
  ];
  const writes = (ctx: CallContext) => [
    createGroup(t, `by ${randomUUID()}`, {}, ctx),
    kit.bus.request('musubi.directory.group.update.v1', { tenantId: t.id, groupId: team.id, changes: { description: 'x' } }, ctx),
    addMembers(t, team.id, [g(team)], ctx),
    removeMember(t, team.id, u(member), ctx),
    deleteGroup(t, team.id, undefined, ctx),
  ];

  it('lets auditors and helpdesk read groups but not change them, and plain users neither', async () => {
    for (const role of ['auditor', 'helpdesk'] as const) {
      const ctx = asUser(t.id, undefined, [role]);
      await Promise.all(reads(ctx));
      for (const w of writes(ctx)) await expectError(w, 'forbidden');
    }
    for (const r of reads(asUser(t.id))) await expectError(r, 'forbidden');
    for (const w of writes(asUser(t.id))) await expectError(w, 'forbidden');
    expect(await getGroup(t, team.id)).toEqual(team);
  });

  it("answers not_found to another tenant's administrator, for every read and write", async () => {
    for (const r of reads(stranger)) await expectError(r, 'not_found');
    for (const w of writes(stranger)) await expectError(w, 'not_found');
    // Its own tenant id with this tenant's group: not found either.
    const strangerTenant = stranger.caller.kind === 'user' ? stranger.caller.tenantId : '';
    await expectError(kit.bus.request('musubi.directory.group.get.v1', { tenantId: strangerTenant, groupId: team.id }, stranger), 'not_found');
    expect(await getGroup(t, team.id)).toEqual(team);
  });

  it("lets the tenant's administrator do all of it", async () => {
    const admin = asUser(t.id, undefined, ['tenant_admin']);
    const made = await createGroup(t, 'By admin', {}, admin);
    await addMembers(t, made.id, [u(member)], admin);
    expect((await effectiveUsers(t, made.id, 50, admin)).map((x) => x.id)).toEqual([member.id]);
    await deleteGroup(t, made.id, made.version, admin);
  });

  it('refuses changes in a suspended tenant', async () => {
    const s = await createTenant(kit);
    const group = await createGroup(s, 'before');
    await kit.bus.request('musubi.directory.tenant.suspend.v1', { id: s.id }, operator());
    await expectError(createGroup(s, 'during'), 'conflict');
    await expectError(deleteGroup(s, group.id), 'conflict');
    expect(await getGroup(s, group.id)).toEqual(group);
  });
});
