import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { EventEnvelope, EventPayloadOf, MailKind, UserView } from '@musubi/contracts';
import { BusClient } from '@musubi/platform/bus';
import { UnitOfWork } from '@musubi/platform/db';
import type { Logger } from '@musubi/platform/logging';
import { EventConsumers, LOGGER } from '@musubi/platform/runtime';
import { EventMailRepository } from './event-mail.repository.js';
import { langOfUser, MailService } from './mail.service.js';

export const ACCOUNT_MAIL_EVENTS = ['musubi.authn.temporary-password.issued.v1'] as const;

/** An event older than this is not mailed about (a consumer bound for the first time reads the stream from its start). */
const STALE_MS = 24 * 3_600_000;

/**
 * Tells a user by mail, in their language, to their notification address
 * (else their login ID), when an administrator issued them a one-time
 * password: "account issued" (login ID and sign-in page) the first time
 * they get one without ever having had a password of their own, and
 * "temporary password" (until when it works) every time. The password
 * itself is never in a mail nor an event: the administrator hands it over.
 *
 * Driven by authn's own durable `temporary-password.issued` event, so the
 * mail goes whoever issued the password and even if authn restarts
 * meanwhile; each event mails at most once (claimed in `event_mails`).
 */
@Injectable()
export class AccountMailsService implements OnModuleInit {
  constructor(
    private readonly repo: EventMailRepository,
    private readonly mail: MailService,
    private readonly bus: BusClient,
    private readonly uow: UnitOfWork,
    private readonly consumers: EventConsumers,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    this.consumers.register({ from: 'authn', subjects: [...ACCOUNT_MAIL_EVENTS], handle: (events) => this.onEvents(events) });
  }

  async onEvents(events: readonly EventEnvelope[]): Promise<void> {
    for (const e of events) {
      if (e.subject !== 'musubi.authn.temporary-password.issued.v1' || !e.tenantId) continue;
      await this.onTemporaryPassword(e.id, e.tenantId, e.occurredAt, e.payload as EventPayloadOf<'musubi.authn.temporary-password.issued.v1'>);
    }
  }

  private async onTemporaryPassword(eventId: string, tenantId: string, occurredAt: string, p: EventPayloadOf<'musubi.authn.temporary-password.issued.v1'>): Promise<void> {
    if (Date.now() - Date.parse(occurredAt) > STALE_MS || Date.parse(p.expiresAt) <= Date.now()) return;
    const ctx = { requestId: `authn-mail-${eventId}`, tenantId, caller: { kind: 'service', service: 'authn' } } as const;
    let user: UserView;
    let tenant: { displayName: string; slug: string; defaultLocale: string };
    try {
      user = await this.bus.request('musubi.directory.user.get.v1', { tenantId, userId: p.userId }, ctx);
      tenant = await this.bus.request('musubi.directory.tenant.get.v1', { id: tenantId }, ctx);
    } catch (err) {
      // A user or tenant gone since is nobody to mail; anything else (directory down) is tried again.
      if ((err as { code?: string }).code === 'not_found') return;
      throw err;
    }
    if (user.status !== 'active') return;
    const kinds: MailKind[] = await this.uow.run(async (tx) => {
      const out: MailKind[] = [];
      if ((await this.repo.accountIsNew(tx, tenantId, user.id)) && (await this.repo.claim(tx, eventId, 'account_issued', tenantId, user.id))) out.push('account_issued');
      if (await this.repo.claim(tx, eventId, 'temporary_password', tenantId, user.id)) out.push('temporary_password');
      return out;
    });
    // A user without a language of their own is written to in the tenant's.
    const lang = langOfUser(user, tenant.defaultLocale === 'en-US' ? 'en' : 'ja');
    const loginUrl = this.mail.url(`/t/${tenant.slug}/login`);
    for (const kind of kinds) {
      await this.mail.sendTo(user, kind, lang, { tenantName: tenant.displayName, loginUrl, ...(kind === 'temporary_password' ? { expiresAt: p.expiresAt } : {}) });
    }
    if (kinds.length > 0) this.logger.info({ tenantId, kinds }, 'mailed a user about a one-time password issued to them');
  }
}
