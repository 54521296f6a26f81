import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from '@musubi/platform/logging';
import { LOGGER, Periodic } from '@musubi/platform/runtime';
import { DomainsService } from './domains.service.js';

/** How often a replica looks for domains due for their periodic check (each is due DOMAIN_RECHECK_INTERVAL_MINUTES after its last). */
export const RECHECK_TICK_MS = 60_000;

/**
 * Runs the periodic re-check of verified and lost domains. Every replica runs
 * one; the rounds share the due domains through the database (see
 * `DomainsService.recheckDue`). Stops before the service closes its pool,
 * letting a running round finish.
 */
@Injectable()
export class DomainRecheckJob implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly periodic: Periodic;

  constructor(domains: DomainsService, @Inject(LOGGER) logger: Logger) {
    this.periodic = new Periodic({
      name: 'domain re-check',
      intervalMs: RECHECK_TICK_MS,
      logger,
      work: async () => {
        const r = await domains.recheckDue();
        if (r.checked > 0) logger.info({ ...r }, 'domains re-checked');
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
