import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from '@musubi/platform/logging';
import { CONFIG, LOGGER, Periodic } from '@musubi/platform/runtime';
import type { DirectoryConfig } from '../config/env.schema.js';
import { UsersService } from './users.service.js';

/**
 * Purges users past their tenant's deletion retention every
 * PURGE_INTERVAL_MINUTES. Every replica runs one; the rounds share the due
 * users through row locks (see `UsersService.purgeDue`), so running several is
 * safe. Stops before the service closes its pool, letting a running round finish.
 */
@Injectable()
export class UserPurgeJob implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly periodic: Periodic;

  constructor(users: UsersService, @Inject(CONFIG) config: DirectoryConfig, @Inject(LOGGER) logger: Logger) {
    this.periodic = new Periodic({
      name: 'user purge',
      intervalMs: config.PURGE_INTERVAL_MINUTES * 60_000,
      logger,
      work: async () => {
        const r = await users.purgeDue();
        if (r.purged > 0) logger.info({ purged: r.purged }, 'users past their deletion retention purged');
      },
    });
  }

  onApplicationBootstrap(): void {
    this.periodic.start();
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.stop();
  }

  /** No further rounds; resolves when the running one (if any) has finished. */
  stop(): Promise<void> {
    return this.periodic.stop();
  }

  /** One round now (the timer's work), logged; never rejects. */
  runOnce(): Promise<void> {
    return this.periodic.runOnce();
  }
}
