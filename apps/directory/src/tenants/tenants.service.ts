import { Injectable } from '@nestjs/common';
import type { CallContext, ReplyOf, RequestOf, TenantView } from '@musubi/contracts';
import { OutboxWriter, uuidv7 } from '@musubi/platform/bus';
import { UnitOfWork, type Tx } from '@musubi/platform/db';
import { DomainError } from '@musubi/platform/errors';
import { TenantDomains } from '../domains/tenant-domains.js';
import { authorize, authorizeInternal, authorizeOperator } from '@musubi/platform/authz';
import { decodeCursor, encodeCursor } from '@musubi/platform/db';
import { DEFAULT_DELETION_RETENTION_DAYS, DEFAULT_GROUP_LIMIT, DEFAULT_USER_LIMIT, RESERVED_SLUGS, canonicalTimeZone, type Tenant } from './tenant.js';
import { TenantRepository } from './tenant.repository.js';

@Injectable()
export class TenantsService {
  constructor(
    private readonly tenants: TenantRepository,
    private readonly uow: UnitOfWork,
    private readonly outbox: OutboxWriter,
    private readonly domains: TenantDomains,
  ) {}


  view(t: Tenant): TenantView {
    return {
      id: t.id,
      slug: t.slug,
      displayName: t.displayName,
      status: t.status,
      timeZone: t.timeZone,
      defaultLocale: t.defaultLocale,
      limits: { users: t.userLimit, groups: t.groupLimit },
      settings: { deletionRetentionDays: t.deletionRetentionDays, syncedUsersReadOnly: t.syncedUsersReadOnly },
      platformDomain: this.domains.platformDomainOf(t.slug),
      createdAt: t.createdAt.toISOString(),
      updatedAt: t.updatedAt.toISOString(),
      version: t.version,
    };
  }

  async create(req: RequestOf<'musubi.directory.tenant.create.v1'>, ctx: CallContext): Promise<TenantView> {
    authorizeOperator(ctx);
    if (RESERVED_SLUGS.has(req.slug)) {
      throw new DomainError('validation_failed', `The slug "${req.slug}" is reserved.`, [{ pointer: '/slug', detail: 'is reserved' }]);
    }
    const timeZone = canonicalTimeZone(req.timeZone ?? 'Asia/Tokyo');
    if (!timeZone) {
      throw new DomainError('validation_failed', `"${req.timeZone}" is not an IANA time zone.`, [{ pointer: '/timeZone', detail: 'is not an IANA time zone' }]);
    }
    const displayName = req.displayName.trim();
    if (!displayName) throw new DomainError('validation_failed', 'The display name is blank.', [{ pointer: '/displayName', detail: 'must not be blank' }]);
    const now = new Date();
    const tenant: Tenant = {
      id: uuidv7(now.getTime()),
      slug: req.slug,
      displayName,
      status: 'active',
      timeZone,
      defaultLocale: req.defaultLocale ?? 'ja-JP',
      userLimit: req.limits?.users ?? DEFAULT_USER_LIMIT,
      groupLimit: req.limits?.groups ?? DEFAULT_GROUP_LIMIT,
      deletionRetentionDays: DEFAULT_DELETION_RETENTION_DAYS,
      syncedUsersReadOnly: true,
      suspendedAt: null,
      terminatedAt: null,
      createdAt: now,
      updatedAt: now,
      version: 1,
    };
    const view = this.view(tenant);
    await this.uow.run(async (tx) => {
      await this.tenants.insert(tx, tenant);
      await this.outbox.append(tx, 'musubi.directory.tenant.created.v1', { tenant: view }, { tenantId: tenant.id });
    });
    return view;
  }

  /**
   * Applies `change` to the tenant in one transaction, if the caller's
   * `expectedVersion` (from its ETag) is still current, and records the event
   * with the tenant before and after.
   */
  private async transition(
    id: string,
    expectedVersion: number | undefined,
    subject: 'musubi.directory.tenant.updated.v1' | 'musubi.directory.tenant.suspended.v1' | 'musubi.directory.tenant.resumed.v1' | 'musubi.directory.tenant.terminated.v1',
    reason: string | null,
    change: (t: Tenant, tx: Tx) => Promise<Omit<Tenant, 'version' | 'updatedAt'>>,
  ): Promise<TenantView> {
    return this.uow.run(async (tx) => {
      const current = await this.tenants.lockById(tx, id);
      if (!current) throw new DomainError('not_found', 'No such tenant.');
      if (expectedVersion !== undefined && expectedVersion !== current.version) {
        throw new DomainError('precondition_failed', 'The tenant changed since you read it; read it again.');
      }
      const changed = await change(current, tx);
      const next: Tenant = { ...changed, version: current.version + 1, updatedAt: new Date() };
      if (!(await this.tenants.update(tx, current, next))) throw new DomainError('precondition_failed', 'The tenant changed meanwhile; read it again.');
      const view = this.view(next);
      await this.outbox.append(tx, subject, { before: this.view(current), after: view, reason }, { tenantId: id });
      return view;
    });
  }

  async update(req: RequestOf<'musubi.directory.tenant.update.v1'>, ctx: CallContext): Promise<TenantView> {
    authorize(ctx, req.id, 'tenant:write');
    const c = req.changes;
    if (c.limits) authorizeOperator(ctx);
    const timeZone = c.timeZone === undefined ? undefined : canonicalTimeZone(c.timeZone);
    if (timeZone === null) throw new DomainError('validation_failed', `"${c.timeZone}" is not an IANA time zone.`, [{ pointer: '/timeZone', detail: 'is not an IANA time zone' }]);
    const displayName = c.displayName?.trim();
    if (displayName === '') throw new DomainError('validation_failed', 'The display name is blank.', [{ pointer: '/displayName', detail: 'must not be blank' }]);
    return this.transition(req.id, req.expectedVersion, 'musubi.directory.tenant.updated.v1', null, async (t, tx) => {
      if (t.status === 'terminated') throw new DomainError('conflict', 'The tenant is terminated.');
      const userLimit = c.limits?.users ?? t.userLimit;
      if (userLimit < t.userLimit) {
        const users = await this.tenants.countUsers(tx, t.id);
        if (userLimit < users) {
          throw new DomainError('validation_failed', `The tenant has ${users} users; the limit cannot go below that.`, [{ pointer: '/limits/users', detail: `must be at least ${users}` }]);
        }
      }
      return {
        ...t,
        displayName: displayName ?? t.displayName,
        timeZone: timeZone ?? t.timeZone,
        defaultLocale: c.defaultLocale ?? t.defaultLocale,
        userLimit,
        groupLimit: c.limits?.groups ?? t.groupLimit,
        deletionRetentionDays: c.settings?.deletionRetentionDays ?? t.deletionRetentionDays,
        syncedUsersReadOnly: c.settings?.syncedUsersReadOnly ?? t.syncedUsersReadOnly,
      };
    });
  }

  async suspend(req: RequestOf<'musubi.directory.tenant.suspend.v1'>, ctx: CallContext): Promise<TenantView> {
    authorizeOperator(ctx);
    return this.transition(req.id, req.expectedVersion, 'musubi.directory.tenant.suspended.v1', req.reason ?? null, async (t) => {
      if (t.status !== 'active') throw new DomainError('conflict', `The tenant is ${t.status}, not active.`);
      return { ...t, status: 'suspended', suspendedAt: new Date() };
    });
  }

  async resume(req: RequestOf<'musubi.directory.tenant.resume.v1'>, ctx: CallContext): Promise<TenantView> {
    authorizeOperator(ctx);
    return this.transition(req.id, req.expectedVersion, 'musubi.directory.tenant.resumed.v1', req.reason ?? null, async (t) => {
      if (t.status !== 'suspended') throw new DomainError('conflict', `The tenant is ${t.status}, not suspended.`);
      return { ...t, status: 'active', suspendedAt: null };
    });
  }

  /** For good: a terminated tenant is never active again (its data is deleted on billing's schedule). */
  async terminate(req: RequestOf<'musubi.directory.tenant.terminate.v1'>, ctx: CallContext): Promise<TenantView> {
    authorizeOperator(ctx);
    return this.transition(req.id, req.expectedVersion, 'musubi.directory.tenant.terminated.v1', req.reason ?? null, async (t) => {
      if (t.status === 'terminated') throw new DomainError('conflict', 'The tenant is already terminated.');
      return { ...t, status: 'terminated', terminatedAt: new Date() };
    });
  }

  async get(id: string, ctx: CallContext): Promise<TenantView> {
    authorize(ctx, id, 'tenant:read');
    const t = await this.tenants.findById(id);
    if (!t) throw new DomainError('not_found', 'No such tenant.');
    return this.view(t);
  }

  /** Internal: the gateway resolves /t/{slug} with it. Limits and ids are not for anyone else. */
  async getBySlug(slug: string, ctx: CallContext): Promise<TenantView> {
    authorizeInternal(ctx);
    const t = await this.tenants.findBySlug(slug.toLowerCase());
    if (!t) throw new DomainError('not_found', 'No such tenant.');
    return this.view(t);
  }

  async list(req: RequestOf<'musubi.directory.tenant.list.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.directory.tenant.list.v1'>> {
    authorizeOperator(ctx);
    const after = decodeCursor(req.cursor, { id: 'uuid' });
    const limit = req.limit ?? 50;
    const page = await this.tenants.list(after?.id ?? null, limit);
    const last = page.items[page.items.length - 1];
    return { items: page.items.map((t) => this.view(t)), nextCursor: page.hasMore && last ? encodeCursor({ id: last.id }) : null };
  }
}
