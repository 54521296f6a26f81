import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { CallContext, EventEnvelope, ReplyOf, RequestOf } from '@musubi/contracts';
import { authorize } from '@musubi/platform/authz';
import { BusClient, OutboxWriter } from '@musubi/platform/bus';
import { UnitOfWork } from '@musubi/platform/db';
import { DomainError } from '@musubi/platform/errors';
import type { Logger } from '@musubi/platform/logging';
import { EventConsumers, LOGGER } from '@musubi/platform/runtime';
import { handleOf, SessionStore } from './session.store.js';

/** Directory events after which a user may no longer have sessions. */
export const ENDING_USER_EVENTS = ['musubi.directory.user.disabled.v1', 'musubi.directory.user.deleted.v1', 'musubi.directory.user.purged.v1'] as const;

/**
 * Sessions as their users and administrators see them: list and end one's
 * own, end all of a user's; and every session of a user ends as soon as the
 * directory says the user was disabled or deleted.
 */
@Injectable()
export class SessionsService implements OnModuleInit {
  constructor(
    private readonly store: SessionStore,
    private readonly bus: BusClient,
    private readonly uow: UnitOfWork,
    private readonly outbox: OutboxWriter,
    private readonly consumers: EventConsumers,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    this.consumers.register({ from: 'directory', subjects: [...ENDING_USER_EVENTS], handle: (events) => this.onUserEvents(events) });
  }

  /** Idempotent: ending sessions that are already gone ends nothing. */
  async onUserEvents(events: readonly EventEnvelope[]): Promise<void> {
    for (const e of events) {
      const p = e.payload as { after?: { id: string; tenantId: string }; user?: { id: string } };
      const userId = p.after?.id ?? p.user?.id;
      const tenantId = p.after?.tenantId ?? e.tenantId;
      if (!userId || !tenantId) continue;
      const count = await this.store.deleteAll(tenantId, userId);
      if (count > 0) {
        await this.uow.run((tx) => this.outbox.append(tx, 'musubi.authn.session.revoked.v1', { userId, count, reason: 'user_disabled' }, { tenantId, actor: { kind: 'service', service: 'authn' } }));
        this.logger.info({ tenantId, count, event: e.subject }, 'ended the sessions of a user who may no longer sign in');
      }
    }
  }

  private async own(sessionId: string) {
    const s = await this.store.get(sessionId);
    if (!s) throw new DomainError('unauthenticated', 'The session has ended.');
    return s;
  }

  async list(req: RequestOf<'musubi.authn.session.list.v1'>): Promise<ReplyOf<'musubi.authn.session.list.v1'>> {
    const s = await this.own(req.sessionId);
    const current = handleOf(req.sessionId);
    const items = (await this.store.list(s.tenantId, s.userId)).map(({ handle, record }) => ({
      handle,
      createdAt: new Date(record.createdAt).toISOString(),
      lastSeenAt: new Date(record.lastSeenAt).toISOString(),
      ip: record.ip,
      userAgent: record.userAgent,
      method: record.method,
      current: handle === current,
    }));
    return { items };
  }

  async revoke(req: RequestOf<'musubi.authn.session.revoke.v1'>): Promise<Record<string, never>> {
    const s = await this.own(req.sessionId);
    const mine = await this.store.list(s.tenantId, s.userId);
    // Another user's handle is simply not one of mine: not_found either way.
    if (!mine.some((m) => m.handle === req.handle)) throw new DomainError('not_found', 'No such session.');
    await this.store.deleteByHandle(req.handle);
    await this.uow.run((tx) => this.outbox.append(tx, 'musubi.authn.session.revoked.v1', { userId: s.userId, count: 1, reason: 'self' }, { tenantId: s.tenantId }));
    return {};
  }

  async revokeAll(req: RequestOf<'musubi.authn.session.revoke-all.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.authn.session.revoke-all.v1'>> {
    authorize(ctx, req.tenantId, 'users:credentials');
    await this.bus.request('musubi.directory.user.get.v1', { tenantId: req.tenantId, userId: req.userId }, { ...ctx, tenantId: req.tenantId, caller: { kind: 'service', service: 'authn' } });
    const revoked = await this.store.deleteAll(req.tenantId, req.userId);
    await this.uow.run((tx) => this.outbox.append(tx, 'musubi.authn.session.revoked.v1', { userId: req.userId, count: revoked, reason: 'admin' }, { tenantId: req.tenantId }));
    return { revoked };
  }
}
