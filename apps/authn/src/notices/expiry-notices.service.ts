import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { BusClient } from '@musubi/platform/bus';
import type { Logger } from '@musubi/platform/logging';
import { CONFIG, LOGGER } from '@musubi/platform/runtime';
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
export class ExpiryNoticesService implements OnApplicationBootstrap, OnModuleDestroy {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly repo: ExpiryNoticesRepository,
    private readonly bus: BusClient,
    private readonly login: LoginService,
    private readonly mail: MailService,
    @Inject(CONFIG) private readonly config: AuthnConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      this.running ??= this.sweep()
        .catch((err: unknown) => this.logger.warn({ err: (err as Error).message }, 'expiry notices failed; will try again'))
        .finally(() => {
          this.running = undefined;
        });
    }, this.config.NOTICE_INTERVAL_SECONDS * 1000);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
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
