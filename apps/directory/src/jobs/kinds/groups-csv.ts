import { Injectable } from '@nestjs/common';
import { GroupCreateBody, type GroupMemberKind, type JobCounts } from '@musubi/contracts';
import { OutboxWriter, uuidv7 } from '@musubi/platform/bus';
import type { Tx } from '@musubi/platform/db';
import { DomainError } from '@musubi/platform/errors';
import { validate } from '@musubi/platform/validation';
import { DEFAULT_GROUP_TYPE, type Group, type MemberRef } from '../../groups/group.js';
import { GroupMembershipRepository } from '../../groups/group-membership.repository.js';
import { GroupRepository } from '../../groups/group.repository.js';
import { groupView } from '../../groups/groups.service.js';
import { TenantRepository } from '../../tenants/tenant.repository.js';
import type { Tenant } from '../../tenants/tenant.js';
import { UserRepository } from '../../users/user.repository.js';
import type { CsvExporter, CsvImporter, ImportSession, RowIssue } from '../kinds.js';
import { ACTION_COLUMN, actionOf, isIssue, issueOf, type RowAction } from './cells.js';

const GROUP_COLUMNS = [
  { name: 'name', aliases: ['グループ名'], required: true },
  { name: 'email', aliases: ['メールアドレス'] },
  { name: 'description', aliases: ['説明'] },
  { name: 'type', aliases: ['種別'] },
] as const;

const MEMBER_COLUMNS = [
  { name: 'group', aliases: ['グループ名'], required: true },
  { name: 'memberType', aliases: ['メンバー種別'] },
  { name: 'member', aliases: ['メンバー'], required: true },
] as const;

const MEMBER_KINDS: ReadonlyMap<string, GroupMemberKind> = new Map([
  ['', 'user'],
  ['user', 'user'],
  ['ユーザー', 'user'],
  ['group', 'group'],
  ['グループ', 'group'],
]);

/** Group names are unique in a tenant whatever their case (the database keys them by lower()). */
const keyOf = (name: string) => name.trim().toLowerCase();

interface GroupRowOp {
  readonly row: number;
  readonly action: RowAction;
  readonly name: string;
  /** Cells present in the file (empty ones clear). */
  readonly fields: { email?: string | null; description?: string | null; type?: Group['type'] };
}

interface MemberRowOp {
  readonly row: number;
  readonly action: RowAction;
  readonly group: string;
  readonly kind: GroupMemberKind;
  readonly member: string;
}

type GroupPlan =
  | { readonly kind: 'create'; readonly group: Group }
  | { readonly kind: 'update'; readonly before: Group; readonly after: Group }
  | { readonly kind: 'delete'; readonly before: Group }
  | { readonly kind: 'unchanged' };

type MemberPlan = { readonly kind: 'add' | 'remove'; readonly group: Group; readonly member: MemberRef } | { readonly kind: 'unchanged' };

/**
 * Groups and group members by CSV. Groups are matched by name; members name
 * their group, and a user by login ID or a group by name. A file that would
 * make a group contain itself, through any number of levels and counting the
 * file's own rows in order, is refused row by row like any other problem.
 */
@Injectable()
export class GroupsCsv {
  constructor(
    private readonly groups: GroupRepository,
    private readonly memberships: GroupMembershipRepository,
    private readonly users: UserRepository,
    private readonly tenants: TenantRepository,
    private readonly outbox: OutboxWriter,
  ) {}

  readonly groupsImporter: CsvImporter<GroupRowOp> = { kind: 'import_groups', columns: [ACTION_COLUMN, ...GROUP_COLUMNS], begin: (t) => this.beginGroups(t) };
  readonly membersImporter: CsvImporter<MemberRowOp> = { kind: 'import_group_members', columns: [ACTION_COLUMN, ...MEMBER_COLUMNS], begin: (t) => this.beginMembers(t) };

  readonly groupsExporter: CsvExporter = {
    kind: 'export_groups',
    columns: GROUP_COLUMNS.map((c) => c.name),
    rows: (tenant) => this.groupRows(tenant),
  };

  readonly membersExporter: CsvExporter = {
    kind: 'export_group_members',
    columns: MEMBER_COLUMNS.map((c) => c.name),
    rows: (tenant) => this.memberRows(tenant),
  };

  private async lockActiveTenant(tx: Tx, tenantId: string): Promise<Tenant> {
    const t = await this.tenants.lockById(tx, tenantId);
    if (!t || t.status !== 'active') throw new DomainError('conflict', 'The tenant is not active any more.');
    return t;
  }

  private async beginGroups(tenant: Tenant): Promise<ImportSession<GroupRowOp>> {
    const ops: GroupRowOp[] = [];
    const firstRowOf = new Map<string, number>();
    const plans: GroupPlan[] = [];

    const check = async (values: Readonly<Record<string, string>>, row: number) => {
      const issues: RowIssue[] = [];
      const action = actionOf(values);
      if (isIssue(action)) issues.push(action);
      const name = (values['name'] ?? '').trim();
      if (!name) issues.push({ column: 'name', message: 'is required' });
      else if (firstRowOf.has(keyOf(name))) issues.push({ column: 'name', message: `is also on row ${firstRowOf.get(keyOf(name))}` });
      else firstRowOf.set(keyOf(name), row);
      const fields: Record<string, string | null> = {};
      for (const k of ['email', 'description', 'type'] as const) {
        const v = values[k];
        if (v !== undefined) fields[k] = v.trim() === '' ? null : v.trim();
      }
      if (fields['type'] === null) fields['type'] = DEFAULT_GROUP_TYPE;
      const probe = Object.fromEntries(Object.entries({ name, ...fields }).filter(([, v]) => v !== null && v !== ''));
      const checked = validate(GroupCreateBody, probe);
      if (!checked.ok) issues.push(...checked.details.map(issueOf));
      if (issues.length || isIssue(action)) return { issues };
      const op: GroupRowOp = { row, action, name, fields };
      ops.push(op);
      return { op };
    };

    const finish = async () => {
      const issues: Array<RowIssue & { row: number }> = [];
      const existing = new Map((await this.groups.allInTenant(tenant.id)).map((g) => [keyOf(g.name), g]));
      const now = new Date();
      let total = existing.size;
      for (const op of ops) {
        const current = existing.get(keyOf(op.name));
        if (op.action === 'delete') {
          if (!current) issues.push({ row: op.row, column: 'name', message: 'is not a group of this tenant' });
          else plans.push({ kind: 'delete', before: current });
          continue;
        }
        if (!current) {
          if (++total > tenant.groupLimit) {
            issues.push({ row: op.row, column: 'name', message: `would be group ${total} of the tenant's limit of ${tenant.groupLimit}` });
            continue;
          }
          plans.push({
            kind: 'create',
            group: { id: uuidv7(now.getTime()), tenantId: tenant.id, name: op.name, email: op.fields.email ?? null, description: op.fields.description ?? null, type: op.fields.type ?? DEFAULT_GROUP_TYPE, createdAt: now, updatedAt: now, version: 1 },
          });
          continue;
        }
        const after: Group = {
          ...current,
          name: op.name,
          email: op.fields.email === undefined ? current.email : op.fields.email,
          description: op.fields.description === undefined ? current.description : op.fields.description,
          type: op.fields.type ?? current.type,
        };
        const same = after.name === current.name && after.email === current.email && after.description === current.description && after.type === current.type;
        plans.push(same ? { kind: 'unchanged' } : { kind: 'update', before: current, after: { ...after, updatedAt: now, version: current.version + 1 } });
      }
      return issues;
    };

    const apply = async (tx: Tx, _ops: readonly GroupRowOp[], progress: (done: number) => Promise<void>): Promise<Omit<JobCounts, 'rows' | 'exported'>> => {
      const counts = { created: 0, updated: 0, deleted: 0, unchanged: 0 };
      await this.memberships.lockGraph(tx, tenant.id);
      const locked = await this.lockActiveTenant(tx, tenant.id);
      const creating = plans.filter((p) => p.kind === 'create').length;
      const count = await this.groups.countInTenant(tx, tenant.id);
      if (count + creating > locked.groupLimit) throw new DomainError('limit_exceeded', `The import would bring the tenant to ${count + creating} groups; its limit is ${locked.groupLimit}.`);
      const opts = { tenantId: tenant.id };
      let done = 0;
      for (const plan of plans) {
        if (plan.kind === 'create') {
          await this.groups.insert(tx, plan.group);
          await this.memberships.insertSelf(tx, tenant.id, plan.group.id);
          await this.outbox.append(tx, 'musubi.directory.group.created.v1', { group: groupView(plan.group) }, opts);
          counts.created++;
        } else if (plan.kind === 'update') {
          if (!(await this.groups.update(tx, plan.before, plan.after))) throw new DomainError('conflict', `The group ${plan.before.name} changed while the file was being checked; import the file again.`);
          await this.outbox.append(tx, 'musubi.directory.group.updated.v1', { before: groupView(plan.before), after: groupView(plan.after) }, opts);
          counts.updated++;
        } else if (plan.kind === 'delete') {
          const { removedFrom, memberCount } = await this.memberships.detach(tx, tenant.id, plan.before.id);
          if (!(await this.groups.delete(tx, tenant.id, plan.before.id))) throw new DomainError('conflict', `The group ${plan.before.name} was deleted meanwhile.`);
          await this.outbox.append(tx, 'musubi.directory.group.deleted.v1', { group: groupView(plan.before), memberCount, removedFrom }, opts);
          counts.deleted++;
        } else counts.unchanged++;
        if (++done % 500 === 0) await progress(done);
      }
      await progress(done);
      return counts;
    };

    return { check, finish, apply };
  }

  private async beginMembers(tenant: Tenant): Promise<ImportSession<MemberRowOp>> {
    const ops: MemberRowOp[] = [];
    const seen = new Map<string, number>();
    const plans: MemberPlan[] = [];

    const check = async (values: Readonly<Record<string, string>>, row: number) => {
      const issues: RowIssue[] = [];
      const action = actionOf(values);
      if (isIssue(action)) issues.push(action);
      const group = (values['group'] ?? '').trim();
      const member = (values['member'] ?? '').trim();
      const kind = MEMBER_KINDS.get((values['memberType'] ?? '').normalize('NFKC').trim().toLowerCase());
      if (!group) issues.push({ column: 'group', message: 'is required' });
      if (!member) issues.push({ column: 'member', message: 'is required (a login ID, or a group name when memberType is group)' });
      if (!kind) issues.push({ column: 'memberType', message: 'must be user (ユーザー) or group (グループ)' });
      const key = `${keyOf(group)}\u0000${kind}\u0000${keyOf(member)}`;
      if (group && member && kind && seen.has(key)) issues.push({ column: 'member', message: `is also on row ${seen.get(key)}` });
      else seen.set(key, row);
      if (issues.length || isIssue(action) || !kind) return { issues };
      const op: MemberRowOp = { row, action, group, kind, member };
      ops.push(op);
      return { op };
    };

    const finish = async () => {
      const issues: Array<RowIssue & { row: number }> = [];
      const groups = new Map((await this.groups.allInTenant(tenant.id)).map((g) => [keyOf(g.name), g]));
      const users = await this.users.findByLoginIds(tenant.id, ops.filter((o) => o.kind === 'user').map((o) => o.member));
      const direct = new Set<string>();
      // The group-in-group edges, to follow the file's additions and removals in order.
      const children = new Map<string, Set<string>>();
      for (const m of await this.memberships.directMemberships(tenant.id)) {
        direct.add(`${m.groupId}:${m.kind}:${m.memberId}`);
        if (m.kind === 'group') (children.get(m.groupId) ?? children.set(m.groupId, new Set()).get(m.groupId)!).add(m.memberId);
      }
      const reaches = (from: string, to: string): boolean => {
        const stack = [from];
        const visited = new Set<string>();
        while (stack.length) {
          const g = stack.pop()!;
          if (g === to) return true;
          if (visited.has(g)) continue;
          visited.add(g);
          for (const c of children.get(g) ?? []) stack.push(c);
        }
        return false;
      };
      for (const op of ops) {
        const bad = (column: string, message: string) => issues.push({ row: op.row, column, message });
        const group = groups.get(keyOf(op.group));
        if (!group) {
          bad('group', 'is not a group of this tenant');
          continue;
        }
        let memberId: string;
        if (op.kind === 'user') {
          const u = users.get(op.member.toLowerCase());
          if (!u) {
            bad('member', 'is not a user of this tenant');
            continue;
          }
          memberId = u.id;
        } else {
          const g = groups.get(keyOf(op.member));
          if (!g) {
            bad('member', 'is not a group of this tenant');
            continue;
          }
          memberId = g.id;
        }
        const edge = `${group.id}:${op.kind}:${memberId}`;
        if (op.action === 'delete') {
          if (!direct.has(edge)) {
            bad('member', `is not a direct member of ${group.name}`);
            continue;
          }
          direct.delete(edge);
          if (op.kind === 'group') children.get(group.id)?.delete(memberId);
          plans.push({ kind: 'remove', group, member: { kind: op.kind, id: memberId } });
          continue;
        }
        if (direct.has(edge)) {
          plans.push({ kind: 'unchanged' });
          continue;
        }
        if (op.kind === 'group' && reaches(memberId, group.id)) {
          bad('member', memberId === group.id ? 'is the group itself; a group cannot contain itself' : `contains ${group.name} (directly or through nested groups), so it cannot also be in it`);
          continue;
        }
        direct.add(edge);
        if (op.kind === 'group') (children.get(group.id) ?? children.set(group.id, new Set()).get(group.id)!).add(memberId);
        plans.push({ kind: 'add', group, member: { kind: op.kind, id: memberId } });
      }
      return issues;
    };

    const apply = async (tx: Tx, _ops: readonly MemberRowOp[], progress: (done: number) => Promise<void>): Promise<Omit<JobCounts, 'rows' | 'exported'>> => {
      const counts = { created: 0, updated: 0, deleted: 0, unchanged: 0 };
      await this.memberships.lockGraph(tx, tenant.id);
      await this.lockActiveTenant(tx, tenant.id);
      const added = new Map<string, { group: Group; members: MemberRef[] }>();
      const removed = new Map<string, { group: Group; members: MemberRef[] }>();
      const note = (into: typeof added, group: Group, m: MemberRef) => (into.get(group.id) ?? into.set(group.id, { group, members: [] }).get(group.id)!).members.push(m);
      let done = 0;
      for (const plan of plans) {
        if (plan.kind === 'add') {
          if (plan.member.kind === 'group' && (await this.memberships.ancestorsOf(tx, plan.group.id)).has(plan.member.id)) {
            throw new DomainError('group_cycle', `Since the file was checked, ${plan.group.name} came into a group it would now contain; import the file again.`);
          }
          const inserted = await this.memberships.insertMembers(tx, tenant.id, plan.group.id, [plan.member], new Date());
          if (plan.member.kind === 'group' && inserted.length) await this.memberships.link(tx, tenant.id, plan.group.id, [plan.member.id]);
          if (inserted.length) {
            note(added, plan.group, plan.member);
            counts.created++;
          } else counts.unchanged++;
        } else if (plan.kind === 'remove') {
          if (await this.memberships.removeMember(tx, tenant.id, plan.group.id, plan.member)) {
            note(removed, plan.group, plan.member);
            counts.deleted++;
          } else counts.unchanged++;
        } else counts.unchanged++;
        if (++done % 500 === 0) await progress(done);
      }
      const opts = { tenantId: tenant.id };
      for (const { group, members } of added.values()) {
        await this.outbox.append(tx, 'musubi.directory.group.members-added.v1', { group: { id: group.id, name: group.name }, members }, opts);
      }
      for (const { group, members } of removed.values()) {
        await this.outbox.append(tx, 'musubi.directory.group.members-removed.v1', { group: { id: group.id, name: group.name }, members }, opts);
      }
      await progress(done);
      return counts;
    };

    return { check, finish, apply };
  }

  private async *groupRows(tenant: Tenant): AsyncIterable<readonly string[]> {
    for (const g of await this.groups.allInTenant(tenant.id)) yield [g.name, g.email ?? '', g.description ?? '', g.type];
  }

  private async *memberRows(tenant: Tenant): AsyncIterable<readonly string[]> {
    for (const g of await this.groups.allInTenant(tenant.id)) {
      for (const m of await this.memberships.exportMembers(g.id)) yield [g.name, m.kind, m.key];
    }
  }
}
