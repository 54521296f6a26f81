import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from '@musubi/platform/logging';
import { CONFIG, LOGGER } from '@musubi/platform/runtime';
import type { DirectoryConfig } from '../config/env.schema.js';
import { UsersService } from './users.service.js';

/**
 * Purges users past their tenant's deletion retention every
 * PURGE_INTERVAL_MINUTES, one round at a time. Every replica runs one; the
 * rounds share the due users through row locks (see `UsersService.purgeDue`),
 * so running several is safe. Stops before the service closes its pool,
 * letting a running round finish.
 */
@Injectable()
export class UserPurgeJob implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly users: UsersService,
    @Inject(CONFIG) private readonly config: DirectoryConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.stopped = false;
    this.schedule();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  /** No further rounds; resolves when the running one (if any) has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.round;
  }

  /** One round now (the timer's work), logged; never rejects. */
  runOnce(): Promise<void> {
    this.round ??= this.users
      .purgeDue()
      .then((r) => {
        if (r.purged > 0) this.logger.info({ purged: r.purged }, 'users past their deletion retention purged');
      })
      .catch((err: unknown) => this.logger.error({ err }, 'user purge round failed; the users stay due'))
      .finally(() => {
        this.round = undefined;
      });
    return this.round;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.runOnce().then(() => this.schedule());
    }, this.config.PURGE_INTERVAL_MINUTES * 60_000);
    this.timer.unref();
  }
}
