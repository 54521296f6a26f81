import { Injectable } from '@nestjs/common';
import type { CallContext, ReplyOf, RequestOf, UserView } from '@musubi/contracts';
import { OutboxWriter } from '@musubi/platform/bus';
import { UnitOfWork, type Tx } from '@musubi/platform/db';
import { DomainError, assertUnreachable, validationError } from '@musubi/platform/errors';
import { authorize, authorizeInternal } from '@musubi/platform/authz';
import { TenantRepository } from '../tenants/tenant.repository.js';
import type { Tenant } from '../tenants/tenant.js';
import { TenantDomains } from '../domains/tenant-domains.js';
import { applyProfile, changedFields, checkProfile, domainOf, emptyProfile, loginDomainProblem, newUser, withDefaults, type LiveStatus, type User, type UserListFilter } from './user.js';
import { decodeUserCursor, encodeUserCursor } from './user-cursor.js';
import { UserRepository } from './user.repository.js';

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export const userView = (u: User): UserView => ({
  id: u.id,
  tenantId: u.tenantId,
  loginId: u.loginId,
  displayName: u.displayName,
  familyName: u.familyName,
  givenName: u.givenName,
  email: u.email,
  roles: [...u.roles],
  status: u.status,
  createdAt: u.createdAt.toISOString(),
  updatedAt: u.updatedAt.toISOString(),
  version: u.version,
  familyNameKana: u.familyNameKana,
  givenNameKana: u.givenNameKana,
  department: u.department,
  title: u.title,
  locale: u.locale,
  extraEmails: [...u.extraEmails],
  phones: u.phones.map((p) => ({ name: p.name, value: p.value, type: p.type })),
  ims: u.ims.map((i) => ({ name: i.name, value: i.value, type: i.type })),
  entitlements: [...u.entitlements],
  personalEmail: u.personalEmail,
  personalMobile: u.personalMobile,
  externalId: u.externalId,
  appLinkingId: u.appLinkingId,
  lastSignInAt: iso(u.lastSignInAt),
  passwordChangedAt: iso(u.passwordChangedAt),
  deletedAt: iso(u.deletedAt),
});

/** Users purged per transaction. */
export const PURGE_BATCH = 100;

type LifecycleSubject = 'musubi.directory.user.disabled.v1' | 'musubi.directory.user.enabled.v1' | 'musubi.directory.user.deleted.v1' | 'musubi.directory.user.restored.v1';

@Injectable()
export class UsersService {
  constructor(
    private readonly users: UserRepository,
    private readonly tenantRepo: TenantRepository,
    private readonly domains: TenantDomains,
    private readonly uow: UnitOfWork,
    private readonly outbox: OutboxWriter,
  ) {}

  /** Administrators (signed-in users) may not change what a directory sync owns, where the tenant says so; the operator and services may. */
  private readOnlyFor(ctx: CallContext, tenant: Tenant, user: Pick<User, 'externalId'>): boolean {
    return ctx.caller.kind === 'user' && tenant.syncedUsersReadOnly && user.externalId !== null;
  }

  private async checkDomain(tx: Tx, tenant: Tenant, loginId: string): Promise<void> {
    const problem = loginDomainProblem(loginId, await this.domains.allowedFor(tx, tenant));
    if (problem) throw new DomainError('validation_failed', `The login ID's domain "${domainOf(loginId)}" is not a verified domain of this tenant.`, [problem]);
  }

  /** A login ID held by another user, with what the caller can do about it (a user pending deletion keeps its login ID until purged). */
  private async checkLoginIdFree(tx: Tx, tenantId: string, loginId: string, self: string | null): Promise<void> {
    const holder = await this.users.findByLoginId(tenantId, loginId, tx);
    if (!holder || holder.id === self) return;
    throw new DomainError(
      'login_id_taken',
      holder.status === 'pending_deletion'
        ? 'A user pending deletion still holds this login ID: restore that user, or wait until it is purged.'
        : 'Another user of this tenant already has this login ID.',
      [{ pointer: '/loginId', detail: holder.status === 'pending_deletion' ? 'is held by a user pending deletion' : 'is already in use' }],
    );
  }

  private static externalIdReadOnly(): DomainError {
    return new DomainError('read_only', 'External IDs come from the directory sync; administrators cannot set them in this tenant.', [
      { pointer: '/externalId', detail: 'is set by the directory sync' },
    ]);
  }

  async create(req: RequestOf<'musubi.directory.user.create.v1'>, ctx: CallContext): Promise<UserView> {
    authorize(ctx, req.tenantId, 'users:write');
    if (req.roles?.length) authorize(ctx, req.tenantId, 'roles:write');
    const { tenantId: _tenantId, ...input } = req;
    // The locale is settled inside the transaction (the tenant's default when none was given).
    const profile = applyProfile(emptyProfile(req.loginId, input.locale ?? 'ja-JP'), input);
    checkProfile(profile, input);
    const now = new Date();
    const user = await this.uow.run(async (tx) => {
      // Locking the tenant row serialises concurrent creations, so the limit check below cannot be raced.
      const tenant = await this.tenantRepo.lockById(tx, req.tenantId);
      if (!tenant) throw new DomainError('not_found', 'No such tenant.');
      if (tenant.status !== 'active') throw new DomainError('conflict', `The tenant is ${tenant.status}.`);
      if (profile.externalId !== null && this.readOnlyFor(ctx, tenant, profile)) throw UsersService.externalIdReadOnly();
      await this.checkDomain(tx, tenant, profile.loginId);
      await this.checkLoginIdFree(tx, tenant.id, profile.loginId, null);
      const count = await this.users.countInTenant(tx, tenant.id);
      if (count >= tenant.userLimit) {
        throw new DomainError('limit_exceeded', `The tenant already has ${count} of its ${tenant.userLimit} users.`);
      }
      const u = newUser(withDefaults({ ...profile, locale: input.locale ?? tenant.defaultLocale }), tenant.id, now);
      await this.users.insert(tx, u);
      await this.outbox.append(tx, 'musubi.directory.user.created.v1', { user: userView(u) }, { tenantId: tenant.id });
      return u;
    });
    return userView(user);
  }

  async get(req: RequestOf<'musubi.directory.user.get.v1'>, ctx: CallContext): Promise<UserView> {
    authorize(ctx, req.tenantId, 'users:read');
    const u = await this.users.findById(req.tenantId, req.userId);
    if (!u) throw new DomainError('not_found', 'No such user.');
    return userView(u);
  }

  async list(req: RequestOf<'musubi.directory.user.list.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.directory.user.list.v1'>> {
    authorize(ctx, req.tenantId, 'users:read');
    const q = req.q?.trim() || null;
    if (q !== null && !/[\p{L}\p{N}]/u.test(q)) throw validationError([{ pointer: '/q', detail: 'must contain a letter or a digit' }]);
    const filter: UserListFilter = { status: req.status ?? null, domain: req.domain?.toLowerCase() ?? null, groupId: req.groupId?.toLowerCase() ?? null, q };
    const sort = req.sort ?? 'loginId';
    const descending = req.order === 'desc';
    const after = decodeUserCursor(req.cursor, sort, descending, filter);
    const page = await this.users.list({ tenantId: req.tenantId, sort, descending, filter, after, limit: req.limit ?? 50 });
    return { items: page.items.map(userView), nextCursor: page.next ? encodeUserCursor(sort, descending, filter, page.next) : null };
  }

  /**
   * Applies a change to a user in one transaction, if the caller's
   * `expectedVersion` (from its ETag) is still current, and records the event
   * with the user before and after.
   */
  private async change(
    req: { tenantId: string; userId: string; expectedVersion?: number | undefined },
    ctx: CallContext,
    subject: LifecycleSubject | 'musubi.directory.user.updated.v1',
    reason: string | null,
    apply: (current: User, tenant: Tenant, tx: Tx) => Promise<User | null>,
  ): Promise<UserView> {
    return this.uow.run(async (tx) => {
      const tenant = await this.tenantRepo.findById(req.tenantId, tx);
      if (!tenant) throw new DomainError('not_found', 'No such user.');
      const current = await this.users.lockById(tx, req.tenantId, req.userId);
      if (!current) throw new DomainError('not_found', 'No such user.');
      if (req.expectedVersion !== undefined && req.expectedVersion !== current.version) {
        throw new DomainError('precondition_failed', 'The user changed since you read it; read it again.');
      }
      if (tenant.status === 'terminated') throw new DomainError('conflict', 'The tenant is terminated.');
      const changed = await apply(current, tenant, tx);
      // Nothing to change: no new version, no event.
      if (!changed) return userView(current);
      const next: User = { ...changed, version: current.version + 1, updatedAt: new Date() };
      if (!(await this.users.update(tx, current, next))) throw new DomainError('precondition_failed', 'The user changed meanwhile; read it again.');
      const after = userView(next);
      await this.outbox.append(tx, subject, { before: userView(current), after, reason }, { tenantId: tenant.id });
      return after;
    });
  }

  async update(req: RequestOf<'musubi.directory.user.update.v1'>, ctx: CallContext): Promise<UserView> {
    authorize(ctx, req.tenantId, 'users:write');
    return this.change(req, ctx, 'musubi.directory.user.updated.v1', null, async (current, tenant, tx) => {
      if (current.status === 'pending_deletion') throw new DomainError('conflict', 'The user is pending deletion; restore it first.');
      const profile = applyProfile(current, req.changes);
      checkProfile(profile, req.changes);
      const fields = changedFields(current, profile);
      if (fields.length === 0) return null;
      if (fields.includes('roles')) authorize(ctx, req.tenantId, 'roles:write');
      // Roles are Musubi's own (who administers what), not the synchronised directory's: they stay editable.
      if (fields.some((f) => f !== 'roles') && this.readOnlyFor(ctx, tenant, current)) {
        throw new DomainError('read_only', 'This user comes from a directory sync; change it there.');
      }
      if (fields.includes('externalId') && this.readOnlyFor(ctx, tenant, profile)) throw UsersService.externalIdReadOnly();
      if (fields.includes('loginId')) {
        // Moving within a domain that has since lost its proof is allowed; moving into one is not.
        if (domainOf(profile.loginId) !== domainOf(current.loginId)) await this.checkDomain(tx, tenant, profile.loginId);
        await this.checkLoginIdFree(tx, tenant.id, profile.loginId, current.id);
      }
      return { ...current, ...profile };
    });
  }

  private lifecycle(
    req: RequestOf<'musubi.directory.user.disable.v1'>,
    ctx: CallContext,
    subject: LifecycleSubject,
    next: (u: User) => Pick<User, 'status' | 'restoreStatus' | 'deletedAt'>,
  ): Promise<UserView> {
    authorize(ctx, req.tenantId, 'users:write');
    return this.change(req, ctx, subject, req.reason ?? null, async (current, tenant) => {
      if (this.readOnlyFor(ctx, tenant, current)) throw new DomainError('read_only', 'This user comes from a directory sync; change it there.');
      return { ...current, ...next(current) };
    });
  }

  private refuseSelf(req: { userId: string }, ctx: CallContext, what: string): void {
    if (ctx.caller.kind === 'user' && ctx.caller.userId === req.userId) throw new DomainError('conflict', `You cannot ${what} yourself.`);
  }

  private static expect(u: User, wanted: LiveStatus, what: string): void {
    if (u.status !== wanted) throw new DomainError('conflict', `The user is ${u.status.replace('_', ' ')}; only ${wanted.replace('_', ' ')} users can be ${what}.`);
  }

  disable(req: RequestOf<'musubi.directory.user.disable.v1'>, ctx: CallContext): Promise<UserView> {
    this.refuseSelf(req, ctx, 'disable');
    return this.lifecycle(req, ctx, 'musubi.directory.user.disabled.v1', (u) => {
      UsersService.expect(u, 'active', 'disabled');
      return { status: 'disabled', restoreStatus: null, deletedAt: null };
    });
  }

  enable(req: RequestOf<'musubi.directory.user.enable.v1'>, ctx: CallContext): Promise<UserView> {
    return this.lifecycle(req, ctx, 'musubi.directory.user.enabled.v1', (u) => {
      UsersService.expect(u, 'disabled', 'enabled');
      return { status: 'active', restoreStatus: null, deletedAt: null };
    });
  }

  /** Soft: the user is pending deletion, keeps its login ID and can be restored until the tenant's retention has passed. */
  delete(req: RequestOf<'musubi.directory.user.delete.v1'>, ctx: CallContext): Promise<UserView> {
    this.refuseSelf(req, ctx, 'delete');
    return this.lifecycle(req, ctx, 'musubi.directory.user.deleted.v1', (u) => {
      switch (u.status) {
        case 'active':
        case 'disabled':
          return { status: 'pending_deletion', restoreStatus: u.status, deletedAt: new Date() };
        case 'pending_deletion':
          throw new DomainError('conflict', 'The user is already pending deletion.');
        default:
          return assertUnreachable(u.status, 'user status');
      }
    });
  }

  /** Back to the status it had when it was deleted (a disabled user stays disabled). */
  restore(req: RequestOf<'musubi.directory.user.restore.v1'>, ctx: CallContext): Promise<UserView> {
    return this.lifecycle(req, ctx, 'musubi.directory.user.restored.v1', (u) => {
      UsersService.expect(u, 'pending_deletion', 'restored');
      return { status: u.restoreStatus ?? 'active', restoreStatus: null, deletedAt: null };
    });
  }

  /**
   * Purges every user whose tenant's deletion retention has passed since it
   * was deleted, in batches of PURGE_BATCH per transaction: the row keeps only
   * its id, tenant and dates, its group memberships go, and `user.purged`
   * carries the tombstone. Replicas running rounds at once share the work
   * (rows another replica holds are skipped), and a user restored meanwhile is
   * not touched (it is no longer pending deletion when its row is locked).
   */
  async purgeDue(now: Date = new Date()): Promise<{ purged: number }> {
    let purged = 0;
    for (;;) {
      const batch = await this.uow.run(async (tx) => {
        const due = await this.users.claimPurgeDue(tx, now, PURGE_BATCH);
        const at = new Date();
        for (const { user } of due) {
          if (!(await this.users.purge(tx, user, at))) continue;
          const tombstone = { id: user.id, status: 'purged' as const, deletedAt: (user.deletedAt ?? at).toISOString(), purgedAt: at.toISOString() };
          await this.outbox.append(tx, 'musubi.directory.user.purged.v1', { user: tombstone }, { tenantId: user.tenantId });
          purged++;
        }
        return due.length;
      });
      if (batch < PURGE_BATCH) return { purged };
    }
  }

  /**
   * Internal lookup for authn: answers only other services, never end users
   * directly. A disabled user is found (authn refuses it by its status); a
   * user pending deletion is not there for signing in.
   */
  async findByLoginId(req: RequestOf<'musubi.directory.user.find-by-login-id.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.directory.user.find-by-login-id.v1'>> {
    authorizeInternal(ctx);
    // Nobody of a suspended or terminated tenant signs in: to authn they are not there.
    const tenant = await this.tenantRepo.findById(req.tenantId);
    if (tenant?.status !== 'active') return { user: null };
    const u = await this.users.findByLoginId(req.tenantId, req.loginId.trim());
    return { user: u && u.status !== 'pending_deletion' ? userView(u) : null };
  }
}
