import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { BusClient } from '@musubi/platform/bus';
import type { Logger } from '@musubi/platform/logging';
import { CONFIG, LOGGER, Periodic } from '@musubi/platform/runtime';
import type { AuthnConfig } from '../config/env.schema.js';
import { LoginService } from '../login/login.service.js';
import { langOfUser, MailService } from '../mail/mail.service.js';
import { ExpiryNoticesRepository } from './expiry-notices.repository.js';

/**
 * Mails users 14 days before their password expires (when their tenant makes
 * passwords expire) and before an API token of theirs expires (not for tokens
 * living under a day). Every NOTICE_INTERVAL_SECONDS; each notice goes once,
 * whichever replica claims it.
 */
@Injectable()
export class ExpiryNoticesService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly periodic: Periodic;

  constructor(
    private readonly repo: ExpiryNoticesRepository,
    private readonly bus: BusClient,
    private readonly login: LoginService,
    private readonly mail: MailService,
    @Inject(CONFIG) config: AuthnConfig,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.periodic = new Periodic({ name: 'expiry notices', intervalMs: config.NOTICE_INTERVAL_SECONDS * 1000, work: () => this.sweep(), logger });
  }

  onApplicationBootstrap(): void {
    this.periodic.start();
  }

  /** Before the pool closes: a running sweep finishes first. */
  beforeApplicationShutdown(): Promise<void> {
    return this.periodic.stop();
  }

  private async user(tenantId: string, userId: string) {
    try {
      const u = await this.bus.request('musubi.directory.user.get.v1', { tenantId, userId }, { requestId: `authn-notice-${userId}`, tenantId, caller: { kind: 'service', service: 'authn' } });
      return u.status === 'active' ? u : null;
    } catch {
      return null;
    }
  }

  async sweep(): Promise<void> {
    for (const due of await this.repo.claimPasswords()) {
      const user = await this.user(due.tenantId, due.userId);
      if (!user) continue;
      const tenant = await this.login.tenantName(due.tenantId);
      await this.mail.sendTo(user, 'password_expiring', langOfUser(user, 'ja'), {
        tenantName: tenant.displayName,
        expiresAt: due.expiresAt.toISOString(),
        loginUrl: this.mail.url(`/t/${tenant.slug}/login`),
      });
    }
    for (const due of await this.repo.claimTokens()) {
      const user = await this.user(due.tenantId, due.userId);
      if (!user) continue;
      const tenant = await this.login.tenantName(due.tenantId);
      await this.mail.sendTo(user, 'api_token_expiring', langOfUser(user, 'ja'), { tenantName: tenant.displayName, tokenName: due.name, expiresAt: due.expiresAt.toISOString() });
    }
  }
}
