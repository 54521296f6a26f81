import { Injectable } from '@nestjs/common';
import type { CallContext, ErrorDetail, ReplyOf, RequestOf, UserView } from '@musubi/contracts';
import { OutboxWriter, uuidv7 } from '@musubi/platform/bus';
import { UnitOfWork, type Tx } from '@musubi/platform/db';
import { DomainError, assertUnreachable, validationError } from '@musubi/platform/errors';
import { authorize, authorizeInternal } from '@musubi/platform/authz';
import { TenantRepository } from '../tenants/tenant.repository.js';
import type { Tenant } from '../tenants/tenant.js';
import { TenantDomains } from '../domains/tenant-domains.js';
import { defaultDisplayName, domainOf, normalizeKana, type LiveStatus, type User, type UserListFilter, type UserProfile } from './user.js';
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

type Changes = RequestOf<'musubi.directory.user.update.v1'>['changes'];
type ProfileInput = Partial<Omit<RequestOf<'musubi.directory.user.create.v1'>, 'tenantId'>> | Changes;

/** Fields compared to tell a change from a no-op (and a roles-only change from others). */
const PROFILE_KEYS = [
  'loginId',
  'displayName',
  'familyName',
  'givenName',
  'familyNameKana',
  'givenNameKana',
  'email',
  'department',
  'title',
  'locale',
  'extraEmails',
  'phones',
  'ims',
  'entitlements',
  'personalEmail',
  'personalMobile',
  'externalId',
  'appLinkingId',
  'roles',
] as const satisfies ReadonlyArray<keyof UserProfile>;

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** The fields that differ between two versions of a profile. */
export function changedFields(before: UserProfile, after: UserProfile): Array<keyof UserProfile> {
  return PROFILE_KEYS.filter((k) => !same(before[k], after[k]));
}

const trimmed = (v: string | null | undefined): string | null | undefined => (typeof v === 'string' ? v.trim() : v);
const kana = (v: string | null | undefined): string | null | undefined => (typeof v === 'string' ? normalizeKana(v) : v);

/**
 * Applies the fields present in `input` to `base` (PATCH semantics: absent
 * means unchanged, null clears), normalised the way they are stored: names
 * trimmed, kana in full-width katakana, contact labels trimmed.
 */
export function applyProfile(base: UserProfile, input: ProfileInput): UserProfile {
  const pick = <K extends keyof UserProfile>(k: K, map: (v: never) => UserProfile[K] | undefined = (v) => v): UserProfile[K] => {
    const raw = (input as Record<string, unknown>)[k];
    if (raw === undefined) return base[k];
    const mapped = map(raw as never);
    return mapped === undefined ? base[k] : mapped;
  };
  const contact = <T extends { name?: string | null | undefined; value: string; type: string }>(list: readonly T[]) =>
    list.map((c) => ({ ...c, name: c.name?.trim() || null, value: c.value.trim() }));
  return {
    loginId: pick('loginId', (v: string) => v.trim()),
    displayName: pick('displayName', (v: string) => v.trim()),
    familyName: pick('familyName', trimmed),
    givenName: pick('givenName', trimmed),
    familyNameKana: pick('familyNameKana', kana),
    givenNameKana: pick('givenNameKana', kana),
    email: pick('email'),
    department: pick('department', trimmed),
    title: pick('title', trimmed),
    locale: pick('locale'),
    extraEmails: pick('extraEmails'),
    phones: pick('phones', contact),
    ims: pick('ims', contact),
    entitlements: pick('entitlements', (v: string[]) => v.map((e) => e.trim())),
    personalEmail: pick('personalEmail'),
    personalMobile: pick('personalMobile'),
    externalId: pick('externalId', trimmed),
    appLinkingId: pick('appLinkingId', trimmed),
    roles: pick('roles'),
  };
}

/** Rules the schemas cannot say: kana that is still katakana after normalising, no blank name after trimming. */
function checkProfile(p: UserProfile, where: ProfileInput): void {
  const problems: ErrorDetail[] = [];
  for (const k of ['familyNameKana', 'givenNameKana'] as const) {
    const v = p[k];
    if (k in where && v !== null && !/^[ァ-ヿ]+(?: [ァ-ヿ]+)*$/u.test(v)) problems.push({ pointer: `/${k}`, detail: 'must be katakana' });
  }
  for (const k of ['displayName', 'familyName', 'givenName', 'department', 'title', 'externalId', 'appLinkingId'] as const) {
    if (k in where && p[k] === '') problems.push({ pointer: `/${k}`, detail: 'must not be blank' });
  }
  if (problems.length > 0) throw validationError(problems, 'Some fields are invalid.');
}

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
    const domain = domainOf(loginId);
    const allowed = await this.domains.allowedFor(tx, tenant);
    if (!allowed.includes(domain)) {
      throw new DomainError('validation_failed', `The login ID's domain "${domain}" is not a verified domain of this tenant.`, [
        { pointer: '/loginId', detail: `must be in one of the tenant's domains (${allowed.join(', ')})` },
      ]);
    }
  }

  async create(req: RequestOf<'musubi.directory.user.create.v1'>, ctx: CallContext): Promise<UserView> {
    authorize(ctx, req.tenantId, 'users:write');
    if (req.roles?.length) authorize(ctx, req.tenantId, 'roles:write');
    const blank: UserProfile = {
      loginId: req.loginId,
      displayName: '',
      familyName: null,
      givenName: null,
      familyNameKana: null,
      givenNameKana: null,
      email: null,
      department: null,
      title: null,
      locale: 'ja-JP',
      extraEmails: [],
      phones: [],
      ims: [],
      entitlements: [],
      personalEmail: null,
      personalMobile: null,
      externalId: null,
      appLinkingId: null,
      roles: [],
    };
    const { tenantId: _tenantId, ...input } = req;
    const profile = applyProfile(blank, input);
    checkProfile(profile, input);
    const now = new Date();
    const user = await this.uow.run(async (tx) => {
      // Locking the tenant row serialises concurrent creations, so the limit check below cannot be raced.
      const tenant = await this.tenantRepo.lockById(tx, req.tenantId);
      if (!tenant) throw new DomainError('not_found', 'No such tenant.');
      if (tenant.status !== 'active') throw new DomainError('conflict', `The tenant is ${tenant.status}.`);
      if (profile.externalId !== null && this.readOnlyFor(ctx, tenant, profile)) {
        throw new DomainError('read_only', 'External IDs come from the directory sync; administrators cannot set them in this tenant.', [
          { pointer: '/externalId', detail: 'is set by the directory sync' },
        ]);
      }
      await this.checkDomain(tx, tenant, profile.loginId);
      const count = await this.users.countInTenant(tx, tenant.id);
      if (count >= tenant.userLimit) {
        throw new DomainError('limit_exceeded', `The tenant already has ${count} of its ${tenant.userLimit} users.`);
      }
      const u: User = {
        ...profile,
        id: uuidv7(now.getTime()),
        tenantId: tenant.id,
        displayName: profile.displayName || defaultDisplayName(profile.familyName, profile.givenName, profile.loginId),
        locale: input.locale ?? tenant.defaultLocale,
        status: 'active',
        restoreStatus: null,
        createdAt: now,
        updatedAt: now,
        lastSignInAt: null,
        passwordChangedAt: null,
        deletedAt: null,
        version: 1,
      };
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
      if (fields.includes('externalId') && this.readOnlyFor(ctx, tenant, profile)) {
        throw new DomainError('read_only', 'External IDs come from the directory sync; administrators cannot set them in this tenant.', [
          { pointer: '/externalId', detail: 'is set by the directory sync' },
        ]);
      }
      if (fields.includes('loginId') && domainOf(profile.loginId) !== domainOf(current.loginId)) await this.checkDomain(tx, tenant, profile.loginId);
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
