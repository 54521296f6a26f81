import { Injectable } from '@nestjs/common';
import type { AuthPolicyView, CallContext, ClientInfo, LockoutView, RequestOf } from '@musubi/contracts';
import { authorize } from '@musubi/platform/authz';
import { BusClient, OutboxWriter } from '@musubi/platform/bus';
import { UnitOfWork, type Tx } from '@musubi/platform/db';
import { LockoutRepository, type LockoutState } from './lockout.repository.js';

const view = (userId: string, s: LockoutState | null, now = Date.now()): LockoutView => {
  const until = s?.lockedUntil ?? null;
  const locked = until !== null && until.getTime() > now;
  // A lock that ran out counts from zero again.
  return { userId, locked, lockedUntil: locked ? until.toISOString() : null, consecutiveFailures: until === null || locked ? (s?.failures ?? 0) : 0 };
};

/**
 * Account lockout: consecutive failures per account across every session and
 * IP, counted in Postgres. The account locks at the tenant's threshold and
 * unlocks itself after the tenant's duration, or when an administrator or
 * helpdesk clears it, or by a password reset.
 */
@Injectable()
export class LockoutService {
  constructor(
    private readonly repo: LockoutRepository,
    private readonly uow: UnitOfWork,
    private readonly outbox: OutboxWriter,
    private readonly bus: BusClient,
  ) {}

  /**
   * Counts one failed password in the caller's transaction; returns the lock's end
   * when this failure locked the account (the caller sends the mail after commit).
   */
  async recordFailure(tx: Tx, tenantId: string, userId: string, policy: AuthPolicyView, client: ClientInfo, now = Date.now()): Promise<Date | null> {
    const current = await this.repo.find(tenantId, userId, tx, true);
    if (current?.lockedUntil && current.lockedUntil.getTime() > now) return null; // already locked: not counted, not extended
    const expired = !!current?.lockedUntil; // an earlier lock ran out: counting starts again
    const failures = (expired ? 0 : (current?.failures ?? 0)) + 1;
    const lockedUntil = failures >= policy.lockoutThreshold ? new Date(now + policy.lockoutMinutes * 60_000) : null;
    await this.repo.save(tx, tenantId, userId, { failures, lockedUntil });
    if (!lockedUntil) return null;
    await this.outbox.append(
      tx,
      'musubi.authn.lockout.locked.v1',
      { userId, lockedUntil: lockedUntil.toISOString(), failures, ip: client.ip, userAgent: client.userAgent, ...(client.deviceFingerprint ? { deviceFingerprint: client.deviceFingerprint } : {}) },
      { tenantId },
    );
    return lockedUntil;
  }

  private async assertUser(tenantId: string, userId: string, ctx: CallContext): Promise<void> {
    // not_found for a user of another tenant, or none.
    await this.bus.request('musubi.directory.user.get.v1', { tenantId, userId }, { ...ctx, tenantId, caller: { kind: 'service', service: 'authn' } });
  }

  async get(req: RequestOf<'musubi.authn.lockout.get.v1'>, ctx: CallContext): Promise<LockoutView> {
    authorize(ctx, req.tenantId, 'users:read');
    await this.assertUser(req.tenantId, req.userId, ctx);
    return view(req.userId, await this.repo.find(req.tenantId, req.userId));
  }

  async clear(req: RequestOf<'musubi.authn.lockout.clear.v1'>, ctx: CallContext): Promise<LockoutView> {
    authorize(ctx, req.tenantId, 'users:credentials');
    await this.assertUser(req.tenantId, req.userId, ctx);
    await this.uow.run(async (tx) => {
      if (await this.repo.clear(req.tenantId, req.userId, tx)) {
        await this.outbox.append(tx, 'musubi.authn.lockout.cleared.v1', { userId: req.userId, via: 'admin' }, { tenantId: req.tenantId });
      }
    });
    return view(req.userId, null);
  }
}
