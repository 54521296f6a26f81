import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from '@musubi/platform/logging';
import { CONFIG, LOGGER, Periodic } from '@musubi/platform/runtime';
import type { CheckpointData } from '../chain/offline-verifier.js';
import type { AuditConfig } from '../config/env.schema.js';
import { VerifyService } from '../verification/verify.service.js';
import { CheckpointRepository } from './checkpoint.repository.js';
import { CheckpointSigner } from './signer.js';

/** Chains checkpointed per round; the rest wait for the next round. */
const ROUND_LIMIT = 2000;

/**
 * Signs checkpoints: every AUDIT_CHECKPOINT_INTERVAL_SECONDS at the head of each
 * chain that moved, and on demand (the last record of an export). A checkpoint is
 * signed only after the records since the previous one verified, so a signature
 * never vouches for a record that was changed before it was signed. Replicas may
 * race for one head: the checkpoint (tenant, seq) is stored once.
 */
@Injectable()
export class CheckpointService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly periodic: Periodic;

  constructor(
    private readonly repo: CheckpointRepository,
    private readonly signer: CheckpointSigner,
    private readonly verifier: VerifyService,
    @Inject(CONFIG) config: AuditConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.periodic = new Periodic({ name: 'checkpoint', intervalMs: config.AUDIT_CHECKPOINT_INTERVAL_SECONDS * 1000, work: () => this.issueDue().then(() => undefined), logger, runAtStart: true });
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.signer.ephemeral) {
      this.logger.warn({ keyId: this.signer.keyId }, 'AUDIT_SIGNING_KEY is not set: checkpoints are signed with a throwaway key made at start (set it in production)');
    }
    await this.repo.registerKey(this.signer.keyId, this.signer.publicKeyPem);
    this.periodic.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.periodic.stop();
  }

  /** One round: a checkpoint at the head of every chain that moved. Returns how many were signed. */
  async issueDue(): Promise<number> {
    let signed = 0;
    for (const h of await this.repo.dueHeads(ROUND_LIMIT)) {
      if (await this.at(h.tenantId, h.seq)) signed++;
    }
    if (signed > 0) this.logger.debug({ checkpoints: signed }, 'signed checkpoints');
    return signed;
  }

  /** The checkpoint at a record, signing one now (after verifying since the previous one) if there is none. */
  async at(tenantId: string, seq: number): Promise<CheckpointData | null> {
    const [previous] = await this.repo.page(tenantId, seq + 1, 1);
    if (previous?.seq === seq) return previous;
    const report = await this.verifier.verify(tenantId, { fromSeq: previous?.seq, toSeq: seq });
    if (!report.ok || report.toSeq !== seq) {
      this.logger.error({ tenantId, seq, failure: report.failure }, 'the audit chain does not verify: no checkpoint is signed over it');
      return null;
    }
    const record = await this.repo.recordAt(tenantId, seq);
    if (!record) return null;
    await this.repo.insert(this.signer.sign({ tenantId, seq, hash: record.hash, recordedAt: record.recordedAt, issuedAt: new Date().toISOString() }));
    return this.repo.at(tenantId, seq);
  }
}
