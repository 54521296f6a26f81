import { Injectable } from '@nestjs/common';
import type {
  CallContext,
  ErrorDetail,
  GroupEffectiveUserView,
  GroupMemberView,
  GroupView,
  ReplyOf,
  RequestOf,
  UserGroupMembershipView,
} from '@musubi/contracts';
import { authorize } from '@musubi/platform/authz';
import { OutboxWriter, uuidv7 } from '@musubi/platform/bus';
import { UnitOfWork, type Tx } from '@musubi/platform/db';
import { DomainError } from '@musubi/platform/errors';
import { TenantRepository } from '../tenants/tenant.repository.js';
import { DEFAULT_GROUP_TYPE, UNADDABLE_USER_STATUSES, type EffectiveUser, type Group, type Member, type MemberRef } from './group.js';
import { decodeGroupCursor, encodeGroupCursor } from './group-cursor.js';
import { GroupMembershipRepository } from './group-membership.repository.js';
import { GroupRepository, type GroupListKey } from './group.repository.js';

export const groupView = (g: Group): GroupView => ({
  id: g.id,
  tenantId: g.tenantId,
  name: g.name,
  email: g.email,
  description: g.description,
  type: g.type,
  createdAt: g.createdAt.toISOString(),
  updatedAt: g.updatedAt.toISOString(),
  version: g.version,
});

const memberView = (m: Member): GroupMemberView => ({ kind: m.kind, id: m.id, name: m.name, loginId: m.loginId, status: m.status, addedAt: m.addedAt.toISOString() });
const effectiveUserView = (u: EffectiveUser): GroupEffectiveUserView => ({ ...u, direct: u.depth === 0 });

/** What is wrong with one member of an addition, or null when it may be added. */
export type MemberProblem = 'no_such_user' | 'no_such_group' | 'user_purged' | 'is_the_group' | 'contains_the_group';

const PROBLEM_TEXT: Record<MemberProblem, string> = {
  no_such_user: 'is not a user of this tenant',
  no_such_group: 'is not a group of this tenant',
  user_purged: 'is a purged user',
  is_the_group: 'is the group itself; a group cannot contain itself',
  contains_the_group: 'contains this group (directly or through nested groups), so it cannot also be in it',
};

/**
 * Judges every member of an addition against what the transaction read: the
 * tenant's users among them (with their status), its groups among them, and
 * the groups that contain the target group (itself included). Adding a group
 * that contains the target would close a cycle. Only new edges from the
 * target are added at once, so checking each against the graph as it was is
 * enough: a cycle through two of them would pass through the target twice.
 */
export function judgeMembers(
  groupId: string,
  members: readonly MemberRef[],
  users: ReadonlyMap<string, string>,
  groups: ReadonlySet<string>,
  ancestors: ReadonlySet<string>,
): Array<{ index: number; problem: MemberProblem }> {
  const out: Array<{ index: number; problem: MemberProblem }> = [];
  members.forEach((m, index) => {
    let problem: MemberProblem | null = null;
    if (m.kind === 'user') {
      const status = users.get(m.id);
      if (status === undefined) problem = 'no_such_user';
      else if (UNADDABLE_USER_STATUSES.has(status)) problem = 'user_purged';
    } else if (m.id === groupId) problem = 'is_the_group';
    else if (!groups.has(m.id)) problem = 'no_such_group';
    else if (ancestors.has(m.id)) problem = 'contains_the_group';
    if (problem) out.push({ index, problem });
  });
  return out;
}

/** One error naming every bad member: group_cycle when cycles are all that is wrong, validation_failed otherwise. */
export function membersError(problems: ReadonlyArray<{ index: number; problem: MemberProblem }>): DomainError {
  const details: ErrorDetail[] = problems.map((p) => ({ pointer: `/members/${p.index}`, detail: PROBLEM_TEXT[p.problem] }));
  const cycles = problems.every((p) => p.problem === 'is_the_group' || p.problem === 'contains_the_group');
  return cycles
    ? new DomainError('group_cycle', `${problems.length === 1 ? 'This member' : 'These members'} would make a group contain itself; nothing was added.`, details)
    : new DomainError('validation_failed', `${problems.length} of the members cannot be added; nothing was added.`, details);
}

/** Trimmed text, or a validation error at `pointer` when only blanks are left. */
function nonBlank(value: string, pointer: string): string {
  const v = value.trim();
  if (!v) throw new DomainError('validation_failed', 'A field is blank.', [{ pointer, detail: 'must not be blank' }]);
  return v;
}

/** Optional text: trimmed, and blank means none. */
const optionalText = (value: string | null | undefined): string | null => (value == null ? null : value.trim() || null);

@Injectable()
export class GroupsService {
  constructor(
    private readonly groups: GroupRepository,
    private readonly memberships: GroupMembershipRepository,
    private readonly tenants: TenantRepository,
    private readonly uow: UnitOfWork,
    private readonly outbox: OutboxWriter,
  ) {}

  /** Writes go to active tenants only, as for users. */
  private async activeTenant(tx: Tx, tenantId: string, lock: boolean) {
    const tenant = lock ? await this.tenants.lockById(tx, tenantId) : await this.tenants.findById(tenantId, tx);
    if (!tenant) throw new DomainError('not_found', 'No such tenant.');
    if (tenant.status !== 'active') throw new DomainError('conflict', `The tenant is ${tenant.status}.`);
    return tenant;
  }

  private async existing(tenantId: string, groupId: string, tx?: Tx): Promise<Group> {
    const g = await this.groups.findById(tenantId, groupId, tx);
    if (!g) throw new DomainError('not_found', 'No such group.');
    return g;
  }

  async create(req: RequestOf<'musubi.directory.group.create.v1'>, ctx: CallContext): Promise<GroupView> {
    authorize(ctx, req.tenantId, 'groups:write');
    const name = nonBlank(req.name, '/name');
    const now = new Date();
    const group = await this.uow.run(async (tx) => {
      // Locking the tenant row serialises creations in the tenant, so the limit cannot be raced.
      const tenant = await this.activeTenant(tx, req.tenantId, true);
      const count = await this.groups.countInTenant(tx, tenant.id);
      if (count >= tenant.groupLimit) throw new DomainError('limit_exceeded', `The tenant already has ${count} of its ${tenant.groupLimit} groups.`);
      const g: Group = {
        id: uuidv7(now.getTime()),
        tenantId: tenant.id,
        name,
        email: optionalText(req.email),
        description: optionalText(req.description),
        type: req.type ?? DEFAULT_GROUP_TYPE,
        createdAt: now,
        updatedAt: now,
        version: 1,
      };
      await this.groups.insert(tx, g);
      await this.memberships.insertSelf(tx, g.tenantId, g.id);
      await this.outbox.append(tx, 'musubi.directory.group.created.v1', { group: groupView(g) }, { tenantId: g.tenantId });
      return g;
    });
    return groupView(group);
  }

  async get(req: RequestOf<'musubi.directory.group.get.v1'>, ctx: CallContext): Promise<GroupView> {
    authorize(ctx, req.tenantId, 'groups:read');
    return groupView(await this.existing(req.tenantId, req.groupId));
  }

  async list(req: RequestOf<'musubi.directory.group.list.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.directory.group.list.v1'>> {
    authorize(ctx, req.tenantId, 'groups:read');
    const sort = req.sort ?? 'name';
    let after: GroupListKey | null = null;
    if (sort === 'name' || sort === '-name') {
      const key = decodeGroupCursor(req.cursor, sort);
      after = key && { nameKey: key.n };
    } else {
      const key = decodeGroupCursor(req.cursor, sort);
      after = key && { createdAt: key.t, id: key.id };
    }
    if (!(await this.tenants.findById(req.tenantId))) throw new DomainError('not_found', 'No such tenant.');
    const page = await this.groups.list(req.tenantId, { sort, q: req.q ?? null, prefix: req.prefix ?? null, type: req.type ?? null }, after, req.limit ?? 50);
    let nextCursor: string | null = null;
    if (page.next) {
      nextCursor =
        'nameKey' in page.next
          ? encodeGroupCursor(sort === '-name' ? '-name' : 'name', { n: page.next.nameKey })
          : encodeGroupCursor(sort === '-createdAt' ? '-createdAt' : 'createdAt', { t: page.next.createdAt, id: page.next.id });
    }
    return { items: page.items.map(groupView), nextCursor };
  }

  async update(req: RequestOf<'musubi.directory.group.update.v1'>, ctx: CallContext): Promise<GroupView> {
    authorize(ctx, req.tenantId, 'groups:write');
    const c = req.changes;
    const name = c.name === undefined ? undefined : nonBlank(c.name, '/name');
    return this.uow.run(async (tx) => {
      await this.activeTenant(tx, req.tenantId, false);
      const current = await this.groups.lockById(tx, req.tenantId, req.groupId, 'update');
      if (!current) throw new DomainError('not_found', 'No such group.');
      if (req.expectedVersion !== undefined && req.expectedVersion !== current.version) {
        throw new DomainError('precondition_failed', 'The group changed since you read it; read it again.');
      }
      const next: Group = {
        ...current,
        name: name ?? current.name,
        email: c.email === undefined ? current.email : optionalText(c.email),
        description: c.description === undefined ? current.description : optionalText(c.description),
        type: c.type ?? current.type,
        updatedAt: new Date(),
        version: current.version + 1,
      };
      if (!(await this.groups.update(tx, current, next))) throw new DomainError('precondition_failed', 'The group changed meanwhile; read it again.');
      const view = groupView(next);
      await this.outbox.append(tx, 'musubi.directory.group.updated.v1', { before: groupView(current), after: view }, { tenantId: next.tenantId });
      return view;
    });
  }

  /** Deletes the group and every membership it had, in both directions, in one transaction. */
  async delete(req: RequestOf<'musubi.directory.group.delete.v1'>, ctx: CallContext): Promise<Record<string, never>> {
    authorize(ctx, req.tenantId, 'groups:write');
    await this.uow.run(async (tx) => {
      await this.memberships.lockGraph(tx, req.tenantId);
      await this.activeTenant(tx, req.tenantId, false);
      const current = await this.groups.lockById(tx, req.tenantId, req.groupId, 'delete');
      if (!current) throw new DomainError('not_found', 'No such group.');
      if (req.expectedVersion !== undefined && req.expectedVersion !== current.version) {
        throw new DomainError('precondition_failed', 'The group changed since you read it; read it again.');
      }
      const { removedFrom, memberCount } = await this.memberships.detach(tx, current.tenantId, current.id);
      await this.groups.delete(tx, current.tenantId, current.id);
      await this.outbox.append(tx, 'musubi.directory.group.deleted.v1', { group: groupView(current), memberCount, removedFrom }, { tenantId: current.tenantId });
    });
    return {};
  }

  /**
   * Adds users and groups to a group, all or none: every one must be a user
   * (not purged) or a group of the same tenant, and no group may contain the
   * target already. Members already in it are left as they are.
   */
  async addMembers(req: RequestOf<'musubi.directory.group.members-add.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.directory.group.members-add.v1'>> {
    authorize(ctx, req.tenantId, 'groups:write');
    const members = req.members.map((m) => ({ kind: m.kind, id: m.id.toLowerCase() }));
    const firstAt = new Map<string, number>();
    const duplicates: number[] = [];
    members.forEach((m, i) => {
      const k = `${m.kind}:${m.id}`;
      if (firstAt.has(k)) duplicates.push(i);
      else firstAt.set(k, i);
    });
    if (duplicates.length > 0) {
      throw new DomainError('validation_failed', 'A member is listed twice.', duplicates.map((i) => ({ pointer: `/members/${i}`, detail: 'is listed twice' })));
    }
    const groupId = req.groupId.toLowerCase();
    return this.uow.run(async (tx) => {
      await this.memberships.lockGraph(tx, req.tenantId);
      await this.activeTenant(tx, req.tenantId, false);
      const group = await this.existing(req.tenantId, groupId, tx);
      const userIds = members.filter((m) => m.kind === 'user').map((m) => m.id);
      const groupIds = members.filter((m) => m.kind === 'group').map((m) => m.id);
      const users = await this.memberships.lockUsers(tx, group.tenantId, userIds);
      const groups = await this.groups.existingIds(tx, group.tenantId, groupIds);
      const ancestors = groupIds.length > 0 ? await this.memberships.ancestorsOf(tx, group.id) : new Set<string>();
      const problems = judgeMembers(group.id, members, users, groups, ancestors);
      if (problems.length > 0) throw membersError(problems);
      const added = await this.memberships.insertMembers(tx, group.tenantId, group.id, members, new Date());
      await this.memberships.link(
        tx,
        group.tenantId,
        group.id,
        added.filter((m) => m.kind === 'group').map((m) => m.id),
      );
      const addedKeys = new Set(added.map((m) => `${m.kind}:${m.id}`));
      if (added.length > 0) {
        await this.outbox.append(tx, 'musubi.directory.group.members-added.v1', { group: { id: group.id, name: group.name }, members: added }, { tenantId: group.tenantId });
      }
      return { added, alreadyMembers: members.filter((m) => !addedKeys.has(`${m.kind}:${m.id}`)) };
    });
  }

  async removeMember(req: RequestOf<'musubi.directory.group.member-remove.v1'>, ctx: CallContext): Promise<Record<string, never>> {
    authorize(ctx, req.tenantId, 'groups:write');
    const member: MemberRef = { kind: req.member.kind, id: req.member.id.toLowerCase() };
    await this.uow.run(async (tx) => {
      await this.memberships.lockGraph(tx, req.tenantId);
      await this.activeTenant(tx, req.tenantId, false);
      const group = await this.existing(req.tenantId, req.groupId, tx);
      if (!(await this.memberships.removeMember(tx, group.tenantId, group.id, member))) {
        throw new DomainError('not_found', `No such ${member.kind} among the group's direct members.`);
      }
      await this.outbox.append(tx, 'musubi.directory.group.members-removed.v1', { group: { id: group.id, name: group.name }, members: [member] }, { tenantId: group.tenantId });
    });
    return {};
  }

  async listMembers(req: RequestOf<'musubi.directory.group.members-list.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.directory.group.members-list.v1'>> {
    authorize(ctx, req.tenantId, 'groups:read');
    const key = decodeGroupCursor(req.cursor, 'members');
    const group = await this.existing(req.tenantId, req.groupId);
    const page = await this.memberships.listMembers(group.id, req.kind ?? null, key && { kind: key.k === 'user' ? 'user' : 'group', id: key.id }, req.limit ?? 50);
    return { items: page.items.map(memberView), nextCursor: page.next && encodeGroupCursor('members', { k: page.next.kind, id: page.next.id }) };
  }

  async listEffectiveUsers(
    req: RequestOf<'musubi.directory.group.effective-users-list.v1'>,
    ctx: CallContext,
  ): Promise<ReplyOf<'musubi.directory.group.effective-users-list.v1'>> {
    authorize(ctx, req.tenantId, 'groups:read');
    const key = decodeGroupCursor(req.cursor, 'effective');
    const group = await this.existing(req.tenantId, req.groupId);
    const page = await this.memberships.effectiveUsers(group.id, key?.id ?? null, req.limit ?? 50);
    return { items: page.items.map(effectiveUserView), nextCursor: page.next && encodeGroupCursor('effective', { id: page.next }) };
  }

  async listUserGroups(
    req: RequestOf<'musubi.directory.group.user-groups-list.v1'>,
    ctx: CallContext,
  ): Promise<ReplyOf<'musubi.directory.group.user-groups-list.v1'>> {
    authorize(ctx, req.tenantId, 'groups:read');
    const key = decodeGroupCursor(req.cursor, 'user-groups');
    const status = await this.memberships.userStatus(req.tenantId, req.userId);
    if (status === null) throw new DomainError('not_found', 'No such user.');
    const page = await this.memberships.userGroups(req.tenantId, req.userId, key?.n ?? null, req.limit ?? 50);
    const items: UserGroupMembershipView[] = page.items.map((m) => ({ group: groupView(m.group), depth: m.depth, direct: m.depth === 0 }));
    return { items, nextCursor: page.next && encodeGroupCursor('user-groups', { n: page.next }) };
  }
}
