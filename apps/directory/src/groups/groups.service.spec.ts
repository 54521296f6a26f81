import { randomUUID } from 'node:crypto';
import { describe, expect, it, jest } from '@jest/globals';
import type { CallContext } from '@musubi/contracts';
import type { OutboxWriter } from '@musubi/platform/bus';
import type { Tx, UnitOfWork } from '@musubi/platform/db';
import type { DomainError } from '@musubi/platform/errors';
import type { Tenant } from '../tenants/tenant.js';
import type { TenantRepository } from '../tenants/tenant.repository.js';
import type { Group } from './group.js';
import { encodeGroupCursor } from './group-cursor.js';
import type { GroupMembershipRepository } from './group-membership.repository.js';
import type { GroupRepository } from './group.repository.js';
import { GroupsService, judgeMembers, membersError } from './groups.service.js';

/** A double that fails on any call the test did not stub. */
function strict<T extends object>(stubs: Partial<T>, what: string): T {
  return new Proxy(stubs, {
    get(target, key) {
      if (key in target) return target[key as keyof T];
      if (key === 'then') return undefined;
      throw new Error(`unstubbed ${what} call: ${String(key)}`);
    },
  }) as T;
}

const asOperator: CallContext = { requestId: 'r', tenantId: null, caller: { kind: 'operator', id: 'bootstrap' } };
const tenantId = randomUUID();
const tx = {} as Tx;

const tenant: Tenant = {
  id: tenantId,
  slug: 'acme',
  displayName: 'Acme',
  status: 'active',
  timeZone: 'Asia/Tokyo',
  defaultLocale: 'ja-JP',
  userLimit: 10,
  groupLimit: 10,
  deletionRetentionDays: 30,
  syncedUsersReadOnly: true,
  suspendedAt: null,
  terminatedAt: null,
  createdAt: new Date('2026-01-01T00:00:00Z'),
  updatedAt: new Date('2026-01-01T00:00:00Z'),
  version: 1,
};

const group = (name: string): Group => ({
  id: randomUUID(),
  tenantId,
  name,
  email: null,
  description: null,
  type: 'security',
  createdAt: new Date('2026-01-01T00:00:00Z'),
  updatedAt: new Date('2026-01-01T00:00:00Z'),
  version: 1,
});

const serviceWith = (
  stubs: { groups?: Partial<GroupRepository>; memberships?: Partial<GroupMembershipRepository>; tenants?: Partial<TenantRepository>; outbox?: Partial<OutboxWriter> } = {},
  withTransactions = false,
) =>
  new GroupsService(
    strict<GroupRepository>(stubs.groups ?? {}, 'group repository'),
    strict<GroupMembershipRepository>(stubs.memberships ?? {}, 'membership repository'),
    strict<TenantRepository>(stubs.tenants ?? {}, 'tenant repository'),
    strict<UnitOfWork>(withTransactions ? { run: <T>(fn: (t: Tx) => Promise<T>) => fn(tx) } : {}, 'unit of work'),
    strict<OutboxWriter>(stubs.outbox ?? {}, 'outbox'),
  );

describe('judging the members of an addition', () => {
  const target = randomUUID();
  const [user, purged, nested, container] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
  const users = new Map([
    [user, 'active'],
    [purged, 'purged'],
  ]);
  const groups = new Set([nested, container, target]);
  const ancestors = new Set([target, container]);

  it('accepts users of the tenant that are not purged, and groups that do not contain the target', () => {
    expect(judgeMembers(target, [{ kind: 'user', id: user }, { kind: 'group', id: nested }], users, groups, ancestors)).toEqual([]);
  });

  it('names each member that cannot be added, by its position', () => {
    const problems = judgeMembers(
      target,
      [
        { kind: 'user', id: randomUUID() },
        { kind: 'user', id: purged },
        { kind: 'group', id: randomUUID() },
        { kind: 'group', id: target },
        { kind: 'group', id: container },
        { kind: 'user', id: nested },
      ],
      users,
      groups,
      ancestors,
    );
    expect(problems).toEqual([
      { index: 0, problem: 'no_such_user' },
      { index: 1, problem: 'user_purged' },
      { index: 2, problem: 'no_such_group' },
      { index: 3, problem: 'is_the_group' },
      { index: 4, problem: 'contains_the_group' },
      { index: 5, problem: 'no_such_user' },
    ]);
  });

  it('calls it a group cycle only when cycles are all that is wrong, and names every bad member either way', () => {
    const cycle = membersError([
      { index: 1, problem: 'is_the_group' },
      { index: 3, problem: 'contains_the_group' },
    ]).toBody();
    expect(cycle).toMatchObject({ code: 'group_cycle', details: [{ pointer: '/members/1' }, { pointer: '/members/3' }] });
    const mixed = membersError([
      { index: 0, problem: 'contains_the_group' },
      { index: 2, problem: 'no_such_user' },
    ]).toBody();
    expect(mixed).toMatchObject({ code: 'validation_failed', details: [{ pointer: '/members/0' }, { pointer: '/members/2' }] });
  });
});

describe('GroupsService', () => {
  it('refuses a blank name before opening a transaction', async () => {
    await expect(serviceWith().create({ tenantId, name: ' \t ' }, asOperator)).rejects.toMatchObject({ code: 'validation_failed', details: [{ pointer: '/name' }] });
  });

  it('refuses a member listed twice (ids compared whatever their case) before opening a transaction', async () => {
    const id = randomUUID();
    const err = await serviceWith()
      .addMembers({ tenantId, groupId: randomUUID(), members: [{ kind: 'user', id }, { kind: 'group', id }, { kind: 'user', id: id.toUpperCase() }] }, asOperator)
      .catch((e: unknown) => e);
    expect((err as DomainError).toBody()).toMatchObject({ code: 'validation_failed', details: [{ pointer: '/members/2' }] });
  });

  it("takes the tenant's graph lock before it reads the graph, and writes nothing when a member cannot be added", async () => {
    const target = group('target');
    const calls: string[] = [];
    const track =
      <R>(name: string, result: R) =>
      async () => {
        calls.push(name);
        return result;
      };
    const service = serviceWith(
      {
        memberships: {
          lockGraph: track('lockGraph', undefined),
          lockUsers: track('lockUsers', new Map<string, string>()),
          ancestorsOf: track('ancestorsOf', new Set([target.id])),
        },
        tenants: { findById: track('findTenant', tenant) },
        groups: { findById: track('findGroup', target), existingIds: track('existingIds', new Set([target.id])) },
      },
      true,
    );
    const err = await service.addMembers({ tenantId, groupId: target.id, members: [{ kind: 'group', id: target.id }] }, asOperator).catch((e: unknown) => e);
    expect((err as DomainError).code).toBe('group_cycle');
    expect(calls[0]).toBe('lockGraph');
    expect(calls).toEqual(expect.arrayContaining(['ancestorsOf', 'existingIds']));
  });

  it('refuses a forged cursor, or one of another list or order, before anything reaches the database', async () => {
    const service = serviceWith();
    const otherOrder = encodeGroupCursor('createdAt', { t: new Date().toISOString(), id: randomUUID() });
    const otherList = encodeGroupCursor('effective', { id: randomUUID() });
    for (const cursor of ['x', otherOrder, otherList, encodeGroupCursor('name', { n: '' })]) {
      await expect(service.list({ tenantId, cursor }, asOperator)).rejects.toMatchObject({ code: 'validation_failed', details: [{ pointer: '/cursor' }] });
    }
    await expect(service.listEffectiveUsers({ tenantId, groupId: randomUUID(), cursor: otherOrder }, asOperator)).rejects.toMatchObject({ code: 'validation_failed' });
  });

  it('continues a list after the key its cursor holds, in the same order', async () => {
    const items = [group('a'), group('b')];
    const list = jest.fn<GroupRepository['list']>().mockResolvedValue({ items, next: { nameKey: 'b' } });
    const service = serviceWith({ groups: { list }, tenants: { findById: async () => tenant } });
    const page = await service.list({ tenantId, limit: 2, sort: '-name', q: 'x' }, asOperator);
    await service.list({ tenantId, limit: 2, sort: '-name', q: 'x', cursor: page.nextCursor! }, asOperator);
    expect(list).toHaveBeenLastCalledWith(tenantId, { sort: '-name', q: 'x', prefix: null, type: null }, { nameKey: 'b' }, 2);
    await expect(service.list({ tenantId, sort: 'name', cursor: page.nextCursor! }, asOperator)).rejects.toMatchObject({ code: 'validation_failed' });
  });

  it("answers not_found for another tenant's group to a user of another tenant, before any query", async () => {
    const stranger: CallContext = { requestId: 'r', tenantId: randomUUID(), caller: { kind: 'user', userId: randomUUID(), tenantId: randomUUID(), roles: ['tenant_admin'] } };
    await expect(serviceWith().get({ tenantId, groupId: randomUUID() }, stranger)).rejects.toMatchObject({ code: 'not_found' });
    await expect(serviceWith().addMembers({ tenantId, groupId: randomUUID(), members: [{ kind: 'user', id: randomUUID() }] }, stranger)).rejects.toMatchObject({
      code: 'not_found',
    });
  });
});
