import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from '@musubi/platform/logging';
import { LOGGER, Periodic } from '@musubi/platform/runtime';
import { SigningKeyRepository } from '../keys/signing-key.repository.js';
import { GrantRepository } from './grant.repository.js';

const EVERY_MS = 15 * 60_000;

/** Drops what nothing can use any more: expired revocations, assertion ids, held requests, grants and keys. */
@Injectable()
export class MaintenanceJob implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly periodic: Periodic;

  constructor(
    private readonly grants: GrantRepository,
    private readonly keys: SigningKeyRepository,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.periodic = new Periodic({ name: 'OIDC maintenance', intervalMs: EVERY_MS, work: () => this.run(), logger });
  }

  onApplicationBootstrap(): void {
    this.periodic.start();
  }

  /** Before the pool closes: a running round finishes first. */
  beforeApplicationShutdown(): Promise<void> {
    return this.periodic.stop();
  }

  async run(): Promise<void> {
    const now = new Date();
    await this.grants.purgeExpired(now);
    await this.keys.purgeExpired(now);
  }
}
