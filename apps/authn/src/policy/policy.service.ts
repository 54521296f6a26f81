import { Inject, Injectable } from '@nestjs/common';
import type { AuthPolicyView, CallContext, ErrorDetail, ReplyOf, RequestOf } from '@musubi/contracts';
import { authorize } from '@musubi/platform/authz';
import { OutboxWriter } from '@musubi/platform/bus';
import { UnitOfWork } from '@musubi/platform/db';
import { DomainError, validationError } from '@musubi/platform/errors';
import { CONFIG } from '@musubi/platform/runtime';
import type { AuthnConfig } from '../config/env.schema.js';
import { parseCidr } from './cidr.js';
import { PolicyRepository } from './policy.repository.js';
import { TenantCheck } from './tenant-check.js';

/** NIST SP 800-63B rev 4: 15 characters when the password is the only factor, 8 with a second one. */
export const effectiveMinLength = (p: Pick<AuthPolicyView, 'passwordMinLength' | 'secondFactorRequired'>): number =>
  p.passwordMinLength ?? (p.secondFactorRequired ? 8 : 15);

const CACHE_MS = 5_000;

/**
 * A tenant's authentication policy. Read on every sign-in, so kept in memory
 * for five seconds (a change made through another replica takes effect within that).
 */
@Injectable()
export class PolicyService {
  private readonly cache = new Map<string, { policy: AuthPolicyView; until: number }>();

  constructor(
    private readonly repo: PolicyRepository,
    private readonly uow: UnitOfWork,
    private readonly outbox: OutboxWriter,
    private readonly tenants: TenantCheck,
    @Inject(CONFIG) private readonly config: AuthnConfig,
  ) {}

  defaults(tenantId: string): AuthPolicyView {
    return {
      tenantId,
      passwordMinLength: null,
      secondFactorRequired: false,
      passwordComplexity: false,
      passwordHistory: null,
      passwordExpiryDays: null,
      temporaryPasswordHours: this.config.TEMPORARY_PASSWORD_HOURS,
      lockoutThreshold: 10,
      lockoutMinutes: 15,
      sessionIdleMinutes: this.config.SESSION_IDLE_MINUTES,
      sessionAbsoluteHours: this.config.SESSION_ABSOLUTE_HOURS,
      resetMailsPerHour: 3,
      resetLockMinutes: 60,
      logoutUrl: null,
      adminAllowedCidrs: [],
      logoUrl: null,
      primaryColor: null,
      version: 1,
      updatedAt: new Date(0).toISOString(),
    };
  }

  /** The policy in force (cached). */
  async of(tenantId: string): Promise<AuthPolicyView> {
    const hit = this.cache.get(tenantId);
    if (hit && hit.until > Date.now()) return hit.policy;
    const policy = (await this.repo.find(tenantId)) ?? this.defaults(tenantId);
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(tenantId, { policy, until: Date.now() + CACHE_MS });
    return policy;
  }

  async get(req: RequestOf<'musubi.authn.policy.get.v1'>, ctx: CallContext): Promise<AuthPolicyView> {
    authorize(ctx, req.tenantId, 'tenant:read');
    await this.tenants.assertExists(req.tenantId, ctx);
    return (await this.repo.find(req.tenantId)) ?? this.defaults(req.tenantId);
  }

  async branding(req: RequestOf<'musubi.authn.policy.branding.v1'>): Promise<ReplyOf<'musubi.authn.policy.branding.v1'>> {
    const p = await this.of(req.tenantId);
    return { logoUrl: p.logoUrl, primaryColor: p.primaryColor, logoutUrl: p.logoutUrl, passwordMinLength: effectiveMinLength(p) };
  }

  async update(req: RequestOf<'musubi.authn.policy.update.v1'>, ctx: CallContext): Promise<AuthPolicyView> {
    authorize(ctx, req.tenantId, 'tenant:write');
    await this.tenants.assertExists(req.tenantId, ctx);
    const problems: ErrorDetail[] = [];
    (req.changes.adminAllowedCidrs ?? []).forEach((c, i) => {
      try {
        parseCidr(c);
      } catch (err) {
        problems.push({ pointer: `/changes/adminAllowedCidrs/${i}`, detail: (err as Error).message });
      }
    });
    if (problems.length > 0) throw validationError(problems);
    const after = await this.uow.run(async (tx) => {
      const before = (await this.repo.find(req.tenantId, tx, true)) ?? this.defaults(req.tenantId);
      if (req.expectedVersion !== undefined && req.expectedVersion !== before.version) {
        throw new DomainError('precondition_failed', 'The policy changed since it was read.');
      }
      const next: AuthPolicyView = { ...before, ...req.changes, tenantId: req.tenantId, version: before.version + 1, updatedAt: new Date().toISOString() };
      await this.repo.save(tx, next);
      await this.outbox.append(tx, 'musubi.authn.policy.updated.v1', { before, after: next, reason: null }, { tenantId: req.tenantId });
      return next;
    });
    this.cache.delete(req.tenantId);
    return after;
  }
}
