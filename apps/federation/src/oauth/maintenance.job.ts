import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { Logger } from '@musubi/platform/logging';
import { LOGGER } from '@musubi/platform/runtime';
import { SigningKeyRepository } from '../keys/signing-key.repository.js';
import { GrantRepository } from './grant.repository.js';

const EVERY_MS = 15 * 60_000;

/** Drops what nothing can use any more: expired revocations, assertion ids, held requests, grants and keys. */
@Injectable()
export class MaintenanceJob implements OnModuleInit, OnModuleDestroy {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly grants: GrantRepository,
    private readonly keys: SigningKeyRepository,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.run(), EVERY_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async run(): Promise<void> {
    try {
      const now = new Date();
      await this.grants.purgeExpired(now);
      await this.keys.purgeExpired(now);
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'OIDC maintenance failed; it runs again later');
    }
  }
}
