import { Injectable } from '@nestjs/common';
import type { CallContext, JobCounts } from '@musubi/contracts';
import { OutboxWriter } from '@musubi/platform/bus';
import type { Tx } from '@musubi/platform/db';
import { DomainError } from '@musubi/platform/errors';
import { TenantDomains } from '../../domains/tenant-domains.js';
import { TenantRepository } from '../../tenants/tenant.repository.js';
import type { Tenant } from '../../tenants/tenant.js';
import { loginDomainProblem, newUser, parseUserCreate, parseUserUpdate, type User, type UserProfile } from '../../users/user.js';
import { UserRepository } from '../../users/user.repository.js';
import { userView } from '../../users/users.service.js';
import type { ColumnSpec } from '../csv/reader.js';
import type { CsvExporter, CsvImporter, ImportSession, RowIssue } from '../kinds.js';
import { ACTION_COLUMN, actionOf, contacts, isIssue, issueOf, joinContacts, joinList, splitList } from './cells.js';

/** Profile columns: the API's field names, and the Japanese headers administrators write. */
const PROFILE_COLUMNS: readonly ColumnSpec[] = [
  { name: 'loginId', aliases: ['ログインID', 'login_id', 'ログイン ID'], required: true },
  { name: 'displayName', aliases: ['表示名'] },
  { name: 'familyName', aliases: ['姓'] },
  { name: 'givenName', aliases: ['名'] },
  { name: 'familyNameKana', aliases: ['姓カナ', '姓(カナ)', 'セイ'] },
  { name: 'givenNameKana', aliases: ['名カナ', '名(カナ)', 'メイ'] },
  { name: 'email', aliases: ['メールアドレス', '通知用メールアドレス'] },
  { name: 'department', aliases: ['部署'] },
  { name: 'title', aliases: ['役職'] },
  { name: 'locale', aliases: ['言語'] },
  { name: 'extraEmails', aliases: ['追加通知用メールアドレス'] },
  { name: 'phones', aliases: ['電話番号'] },
  { name: 'ims', aliases: ['IM'] },
  { name: 'entitlements', aliases: ['エンタイトルメント'] },
  { name: 'personalEmail', aliases: ['個人メールアドレス'] },
  { name: 'personalMobile', aliases: ['個人携帯電話番号'] },
  { name: 'externalId', aliases: ['外部ID'] },
  { name: 'appLinkingId', aliases: ['アプリ連携ID'] },
  { name: 'status', aliases: ['状態'] },
];

const LIST_FIELDS = new Set(['extraEmails', 'entitlements']);
const CONTACT_FIELDS = new Set(['phones', 'ims']);
/** Fields an empty cell cannot clear; it leaves them as they are. */
const KEEP_WHEN_EMPTY = new Set(['loginId', 'displayName', 'locale']);

const STATUSES: ReadonlyMap<string, 'active' | 'disabled'> = new Map([
  ['active', 'active'],
  ['有効', 'active'],
  ['disabled', 'disabled'],
  ['無効', 'disabled'],
]);

type UserRowOp =
  | { readonly row: number; readonly action: 'delete'; readonly loginId: string }
  | {
      readonly row: number;
      readonly action: 'upsert';
      readonly loginId: string;
      /** The profile of a new user (already checked against the schema). */
      readonly profile: UserProfile;
      /** The row as a PATCH of an existing user: empty cells clear. */
      readonly patch: Record<string, unknown>;
      readonly status: 'active' | 'disabled' | null;
    };

type Plan =
  | { readonly kind: 'create'; readonly user: User }
  | { readonly kind: 'update'; readonly before: User; readonly after: User; readonly profileChanged: boolean }
  | { readonly kind: 'delete'; readonly before: User }
  | { readonly kind: 'unchanged' };

/** The row's cells as values of the API's fields: `forCreate` leaves empty cells out; otherwise they clear. */
function fieldsOf(values: Readonly<Record<string, string>>, forCreate: boolean): { fields: Record<string, unknown>; issues: RowIssue[] } {
  const fields: Record<string, unknown> = {};
  const issues: RowIssue[] = [];
  for (const [column, raw] of Object.entries(values)) {
    if (column === 'action' || column === 'status') continue;
    const cell = raw.trim();
    if (cell === '') {
      if (!forCreate && !KEEP_WHEN_EMPTY.has(column)) fields[column] = LIST_FIELDS.has(column) || CONTACT_FIELDS.has(column) ? [] : null;
      continue;
    }
    if (LIST_FIELDS.has(column)) fields[column] = splitList(cell);
    else if (CONTACT_FIELDS.has(column)) {
      const list = contacts(cell);
      if (isIssue(list)) issues.push({ ...list, column });
      else fields[column] = list;
    } else fields[column] = cell;
  }
  return { fields, issues };
}

/**
 * Users by CSV: a row adds the user of its login ID or changes it (only the
 * columns in the file), `status` enables or disables it, and `action=delete`
 * deletes it (pending deletion, restorable). Every row is checked against the
 * same rules as the API (domain, uniqueness, limit, sync ownership) before
 * anything is written.
 */
@Injectable()
export class UsersCsv {
  constructor(
    private readonly users: UserRepository,
    private readonly tenants: TenantRepository,
    private readonly domains: TenantDomains,
    private readonly outbox: OutboxWriter,
  ) {}

  readonly importer: CsvImporter<UserRowOp> = {
    kind: 'import_users',
    columns: [ACTION_COLUMN, ...PROFILE_COLUMNS],
    begin: (tenant, ctx) => this.begin(tenant, ctx),
  };

  readonly exporter: CsvExporter = {
    kind: 'export_users',
    columns: PROFILE_COLUMNS.map((c) => c.name),
    rows: (tenant) => this.rows(tenant),
  };

  private async begin(tenant: Tenant, ctx: CallContext): Promise<ImportSession<UserRowOp>> {
    const allowed = await this.domains.allowedFor(undefined, tenant);
    // Where the tenant says so, administrators may not touch what the directory sync owns.
    const syncOwned = ctx.caller.kind === 'user' && tenant.syncedUsersReadOnly;
    const ops: UserRowOp[] = [];
    const firstRowOf = new Map<string, number>();
    const plans: Plan[] = [];

    const check = async (values: Readonly<Record<string, string>>, row: number) => {
      const issues: RowIssue[] = [];
      const action = actionOf(values);
      if (isIssue(action)) issues.push(action);
      const loginId = (values['loginId'] ?? '').trim();
      const key = loginId.toLowerCase();
      if (!loginId) issues.push({ column: 'loginId', message: 'is required' });
      else if (firstRowOf.has(key)) issues.push({ column: 'loginId', message: `is also on row ${firstRowOf.get(key)}` });
      else firstRowOf.set(key, row);
      if (action === 'delete' || isIssue(action)) {
        if (issues.length) return { issues };
        const op: UserRowOp = { row, action: 'delete', loginId };
        ops.push(op);
        return { op };
      }
      let status: 'active' | 'disabled' | null = null;
      const rawStatus = (values['status'] ?? '').trim().toLowerCase();
      if (rawStatus) {
        status = STATUSES.get(rawStatus) ?? null;
        if (!status) issues.push({ column: 'status', message: 'must be active (有効) or disabled (無効); delete a user with action=delete' });
      }
      const created = fieldsOf(values, true);
      issues.push(...created.issues);
      if (syncOwned && created.fields['externalId'] !== undefined) issues.push({ column: 'externalId', message: 'is set by the directory sync in this tenant' });
      const parsed = parseUserCreate(created.fields, tenant.defaultLocale);
      if (!parsed.ok) issues.push(...parsed.details.map(issueOf));
      else {
        const domain = loginDomainProblem(parsed.profile.loginId, allowed);
        if (domain) issues.push(issueOf(domain));
      }
      if (issues.length || !parsed.ok) return { issues };
      const op: UserRowOp = { row, action: 'upsert', loginId, profile: parsed.profile, patch: fieldsOf(values, false).fields, status };
      ops.push(op);
      return { op };
    };

    const finish = async () => {
      const issues: Array<RowIssue & { row: number }> = [];
      const existing = await this.users.findByLoginIds(tenant.id, ops.map((o) => o.loginId));
      const now = new Date();
      let creates = 0;
      const count = await this.users.countInTenant(undefined, tenant.id);
      for (const op of ops) {
        const current = existing.get(op.loginId.toLowerCase());
        const bad = (column: string | null, message: string) => issues.push({ row: op.row, column, message });
        if (current && syncOwned && current.externalId !== null) {
          bad('loginId', 'belongs to a user from the directory sync; change it there');
          continue;
        }
        if (op.action === 'delete') {
          if (!current) bad('loginId', 'is not a user of this tenant');
          else if (current.status === 'pending_deletion') plans.push({ kind: 'unchanged' });
          else plans.push({ kind: 'delete', before: current });
          continue;
        }
        if (!current) {
          creates++;
          if (count + creates > tenant.userLimit) {
            bad('loginId', `would be user ${count + creates} of the tenant's limit of ${tenant.userLimit}`);
            continue;
          }
          const user = newUser(op.profile, tenant.id, now);
          plans.push({ kind: 'create', user: op.status === 'disabled' ? { ...user, status: 'disabled' } : user });
          continue;
        }
        if (current.status === 'pending_deletion') {
          bad('loginId', 'is held by a user pending deletion: restore that user first, or wait until it is purged');
          continue;
        }
        const { loginId: _sameLogin, ...patch } = op.patch;
        const changed = Object.keys(patch).length ? parseUserUpdate(current, patch) : { ok: true as const, profile: current as UserProfile, changed: [] };
        if (!changed.ok) {
          for (const d of changed.details) bad(issueOf(d).column, issueOf(d).message);
          continue;
        }
        const status = op.status ?? current.status;
        if (changed.changed.length === 0 && status === current.status) {
          plans.push({ kind: 'unchanged' });
          continue;
        }
        const after: User = { ...current, ...changed.profile, status, updatedAt: now, version: current.version + 1 };
        plans.push({ kind: 'update', before: current, after, profileChanged: changed.changed.length > 0 });
      }
      return issues;
    };

    const apply = async (tx: Tx, _ops: readonly UserRowOp[], progress: (done: number) => Promise<void>): Promise<Omit<JobCounts, 'rows' | 'exported'>> => {
      const counts = { created: 0, updated: 0, deleted: 0, unchanged: 0 };
      // The tenant row lock serialises this with single creations, so the limit holds.
      const locked = await this.tenants.lockById(tx, tenant.id);
      if (!locked || locked.status !== 'active') throw new DomainError('conflict', 'The tenant is not active any more.');
      const creating = plans.filter((p) => p.kind === 'create').length;
      const count = await this.users.countInTenant(tx, tenant.id);
      if (count + creating > locked.userLimit) throw new DomainError('limit_exceeded', `The import would bring the tenant to ${count + creating} users; its limit is ${locked.userLimit}.`);
      const opts = { tenantId: tenant.id };
      let done = 0;
      for (const plan of plans) {
        switch (plan.kind) {
          case 'create':
            await this.users.insert(tx, plan.user);
            await this.outbox.append(tx, 'musubi.directory.user.created.v1', { user: userView(plan.user) }, opts);
            counts.created++;
            break;
          case 'update': {
            await this.write(tx, plan.before, plan.after);
            const before = userView(plan.before);
            // A profile change and a status change are two events, as through the API: the first leaves the status as it was.
            if (plan.profileChanged) {
              await this.outbox.append(tx, 'musubi.directory.user.updated.v1', { before, after: userView({ ...plan.after, status: plan.before.status }), reason: 'CSV import' }, opts);
            }
            if (plan.after.status !== plan.before.status) {
              const subject = plan.after.status === 'disabled' ? 'musubi.directory.user.disabled.v1' : 'musubi.directory.user.enabled.v1';
              await this.outbox.append(tx, subject, { before, after: userView(plan.after), reason: 'CSV import' }, opts);
            }
            counts.updated++;
            break;
          }
          case 'delete': {
            const after: User = {
              ...plan.before,
              status: 'pending_deletion',
              restoreStatus: plan.before.status === 'disabled' ? 'disabled' : 'active',
              deletedAt: new Date(),
              updatedAt: new Date(),
              version: plan.before.version + 1,
            };
            await this.write(tx, plan.before, after);
            await this.outbox.append(tx, 'musubi.directory.user.deleted.v1', { before: userView(plan.before), after: userView(after), reason: 'CSV import' }, opts);
            counts.deleted++;
            break;
          }
          case 'unchanged':
            counts.unchanged++;
            break;
        }
        if (++done % 1000 === 0) await progress(done);
      }
      await progress(done);
      return counts;
    };

    return { check, finish, apply };
  }

  private async write(tx: Tx, before: User, after: User): Promise<void> {
    if (!(await this.users.update(tx, before, after))) {
      throw new DomainError('conflict', `The user ${before.loginId} changed while the file was being checked; import the file again.`);
    }
  }

  private async *rows(tenant: Tenant): AsyncIterable<readonly string[]> {
    let after = '';
    for (;;) {
      const page = await this.users.exportPage(tenant.id, after, 1000);
      for (const u of page) {
        yield [
          u.loginId,
          u.displayName,
          u.familyName ?? '',
          u.givenName ?? '',
          u.familyNameKana ?? '',
          u.givenNameKana ?? '',
          u.email ?? '',
          u.department ?? '',
          u.title ?? '',
          u.locale,
          joinList(u.extraEmails),
          joinContacts(u.phones),
          joinContacts(u.ims),
          joinList(u.entitlements),
          u.personalEmail ?? '',
          u.personalMobile ?? '',
          u.externalId ?? '',
          u.appLinkingId ?? '',
          u.status,
        ];
      }
      if (page.length < 1000) return;
      after = page[page.length - 1]!.loginId.toLowerCase();
    }
  }
}
