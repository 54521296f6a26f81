import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { SERVICE_NAMES, type EventEnvelope } from '@musubi/contracts';
import { eventSubjectsOf } from '@musubi/platform/bus';
import type { Logger } from '@musubi/platform/logging';
import { EventConsumers, LOGGER } from '@musubi/platform/runtime';
import { AuditTrail } from '../trail/audit-trail.js';

/** Events per transaction: large batches are what keep ingest above 5,000 events/s on two cores. */
export const INGEST_BATCH = 500;

/**
 * Audit reads every producing service's stream with its own durable consumer
 * (explicit acks: a batch is acknowledged only after its transaction committed,
 * so a crash redelivers it, and the trail recognises what it already has).
 */
@Injectable()
export class IngestService implements OnModuleInit {
  constructor(
    private readonly trail: AuditTrail,
    private readonly consumers: EventConsumers,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    for (const owner of SERVICE_NAMES) {
      if (eventSubjectsOf(owner).length === 0) continue;
      this.consumers.register({ from: owner, maxBatch: INGEST_BATCH, handle: (batch) => this.ingest(batch) });
    }
  }

  async ingest(batch: readonly EventEnvelope[]): Promise<void> {
    const stored = await this.trail.record(batch);
    if (stored < batch.length) this.logger.debug({ duplicates: batch.length - stored }, 'skipped redelivered events');
  }
}
