import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from '@musubi/platform/logging';
import { LOGGER } from '@musubi/platform/runtime';
import { DomainsService } from './domains.service.js';

/** How often a replica looks for domains due for their periodic check (each is due DOMAIN_RECHECK_INTERVAL_MINUTES after its last). */
export const RECHECK_TICK_MS = 60_000;

/**
 * Runs the periodic re-check of verified and lost domains on a timer, one
 * round at a time. Every replica runs one; the rounds share the due domains
 * through the database (see `DomainsService.recheckDue`). Stops before the
 * service closes its pool, letting a running round finish.
 */
@Injectable()
export class DomainRecheckJob implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly domains: DomainsService,
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
    this.round ??= this.domains
      .recheckDue()
      .then((r) => {
        if (r.checked > 0) this.logger.info({ ...r }, 'domains re-checked');
      })
      .catch((err: unknown) => this.logger.error({ err }, 'domain re-check round failed; the domains stay due'))
      .finally(() => {
        this.round = undefined;
      });
    return this.round;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.runOnce().then(() => this.schedule());
    }, RECHECK_TICK_MS);
    this.timer.unref();
  }
}
