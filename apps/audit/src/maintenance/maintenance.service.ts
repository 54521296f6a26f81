import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from '@musubi/platform/logging';
import { CONFIG, LOGGER, Periodic } from '@musubi/platform/runtime';
import type { AuditConfig } from '../config/env.schema.js';
import { addDays, utcDay } from '../trail/time.js';
import { TrailRepository } from '../trail/trail.repository.js';

/**
 * Every AUDIT_MAINTENANCE_INTERVAL_MINUTES (and at start): creates the partitions
 * the next days' records will expire into (for every retention in use), so
 * ingest never waits for DDL, and drops the partitions whose day has passed. The
 * drop runs as the schema owner inside `audit.purge_expired()`; this role could
 * not delete a record itself.
 */
@Injectable()
export class MaintenanceService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly periodic: Periodic;

  constructor(
    private readonly repo: TrailRepository,
    @Inject(CONFIG) private readonly config: AuditConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.periodic = new Periodic({ name: 'audit maintenance', intervalMs: config.AUDIT_MAINTENANCE_INTERVAL_MINUTES * 60_000, work: () => this.runOnce(), logger, runAtStart: true });
  }

  onApplicationBootstrap(): void {
    this.periodic.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.periodic.stop();
  }

  async runOnce(): Promise<void> {
    await this.ensurePartitions();
    const dropped = await this.repo.purgeExpired();
    if (dropped.length > 0) this.logger.info({ partitions: dropped }, 'purged expired audit records');
  }

  /** Today's and the next two days' records, for every retention in use. */
  async ensurePartitions(now = new Date()): Promise<void> {
    const retentions = new Set([this.config.AUDIT_RETENTION_DAYS, ...(await this.repo.retentionsInUse())]);
    const today = utcDay(now);
    for (const r of retentions) {
      for (let d = 0; d <= 2; d++) {
        if (await this.repo.ensurePartition(addDays(today, r + d))) this.logger.info({ day: addDays(today, r + d) }, 'created an audit partition');
      }
    }
  }
}
