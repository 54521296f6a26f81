import { Injectable } from '@nestjs/common';
import type { Caller, CallContext } from '@musubi/contracts';
import { BusClient } from '@musubi/platform/bus';
import { DomainError } from '@musubi/platform/errors';

type UserCaller = Extract<Caller, { kind: 'user' }>;

const TTL_MS = 10_000;
const MAX_ENTRIES = 10_000;

/**
 * Turns a hosted-login session into the caller of an admin API request: the
 * session must be live and past its forced password change, and its user
 * and its tenant active; the caller carries the user's current roles.
 * The session itself is checked on every request (an ended session — signed
 * out, revoked, or its user disabled — stops working at once); the user's
 * roles and status and the tenant's status are kept ten seconds.
 */
@Injectable()
export class SessionAuthenticator {
  private readonly cache = new Map<string, { caller: UserCaller; until: number }>();

  constructor(private readonly bus: BusClient) {}

  async callerFor(sessionId: string, ctx: CallContext): Promise<UserCaller> {
    const internal: CallContext = { ...ctx, caller: { kind: 'service', service: 'gateway' } };
    let session;
    try {
      session = await this.bus.request('musubi.authn.session.get.v1', { sessionId }, internal);
    } catch (err) {
      if (err instanceof DomainError && err.code === 'unauthenticated') throw new DomainError('unauthenticated', 'The session has ended; sign in again.');
      throw err;
    }
    if (session.mustChangePassword) throw new DomainError('forbidden', 'Change your password first.');
    const key = `${session.tenantId}:${session.userId}`;
    const hit = this.cache.get(key);
    if (hit && hit.until > Date.now()) return hit.caller;
    const scoped = { ...internal, tenantId: session.tenantId };
    const [user, tenant] = await Promise.all([
      this.bus.request('musubi.directory.user.get.v1', { tenantId: session.tenantId, userId: session.userId }, scoped),
      this.bus.request('musubi.directory.tenant.get.v1', { id: session.tenantId }, scoped),
    ]);
    // A disabled user, or a suspended or terminated tenant, ends what a session may do.
    if (user.status !== 'active' || tenant.status !== 'active') throw new DomainError('unauthenticated', 'The session has ended; sign in again.');
    const caller: UserCaller = { kind: 'user', userId: user.id, tenantId: user.tenantId, roles: [...user.roles] };
    if (this.cache.size >= MAX_ENTRIES) this.cache.clear();
    this.cache.set(key, { caller, until: Date.now() + TTL_MS });
    return caller;
  }
}
