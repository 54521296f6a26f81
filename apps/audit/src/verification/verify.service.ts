import type { KeyObject } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { AuditVerificationReport } from '@musubi/contracts';
import { ChainWalker, readPublicKey, type ChainFailure, type CheckpointData } from '../chain/offline-verifier.js';
import { CheckpointRepository } from '../checkpoints/checkpoint.repository.js';
import { ChainReader, chainRecordOf } from './chain.reader.js';

export interface VerifyRange {
  readonly fromSeq?: number | undefined;
  readonly toSeq?: number | undefined;
  /** recordedAt bounds (from inclusive, to exclusive). */
  readonly from?: string | undefined;
  readonly to?: string | undefined;
  /** Stop (incomplete) after this many records. */
  readonly maxRecords?: number;
  /** The keys to trust; by default every key audit has signed with. */
  readonly keys?: ReadonlyMap<string, KeyObject>;
}

const PAGE = 2000;

/**
 * Checks a range of one tenant's chain in the database: every record against its
 * hash and its predecessor, every signed checkpoint in the range against the
 * record it names, the last record against the chain head, and the start of
 * what is kept against what retention purged.
 */
@Injectable()
export class VerifyService {
  constructor(
    private readonly reader: ChainReader,
    private readonly checkpoints: CheckpointRepository,
  ) {}

  async trustedKeys(): Promise<Map<string, KeyObject>> {
    const keys = new Map<string, KeyObject>();
    for (const k of await this.checkpoints.keys()) keys.set(k.keyId, readPublicKey(k.publicKeyPem));
    return keys;
  }

  async verify(tenantId: string, range: VerifyRange = {}): Promise<AuditVerificationReport> {
    const keys = range.keys ?? (await this.trustedKeys());
    const head = await this.reader.head(tenantId);
    const purged = await this.reader.purgedThrough(tenantId);
    const report = (w: ChainWalker | null, extra: Partial<AuditVerificationReport>): AuditVerificationReport => {
      const failure: ChainFailure | null = extra.failure ?? w?.failure ?? null;
      const anchored = w?.anchoredThroughSeq ?? null;
      return {
        tenantId,
        ok: failure === null,
        fromSeq: w?.firstSeq ?? null,
        toSeq: w?.lastSeq ?? null,
        records: w?.records ?? 0,
        checkpoints: w?.checkpoints ?? 0,
        anchoredThroughSeq: anchored,
        unanchored: w?.lastSeq !== null && w?.lastSeq !== undefined ? w.lastSeq - Math.max(anchored ?? 0, (w.firstSeq ?? 1) - 1) : 0,
        purgedThroughSeq: purged > 0 ? purged : null,
        complete: true,
        nextFromSeq: null,
        ...extra,
        failure,
      };
    };
    if (!head) return report(null, {});
    const firstKept = await this.reader.firstSeq(tenantId);
    if (firstKept === null) {
      if (purged >= head.seq) return report(null, {});
      return report(null, { failure: { reason: 'missing_records', seq: purged + 1, eventId: null, detail: `records ${purged + 1} to ${head.seq} are missing and retention did not remove them` } });
    }
    if (firstKept > purged + 1) {
      return report(null, {
        failure: { reason: 'missing_records', seq: purged + 1, eventId: null, detail: `records ${purged + 1} to ${firstKept - 1} are missing and retention did not remove them` },
      });
    }

    let lo = range.fromSeq ?? (range.from ? await this.reader.firstSeqRecordedFrom(tenantId, range.from, await this.checkpoints.lastSeqBefore(tenantId, range.from)) : firstKept);
    let hi = range.toSeq ?? (range.to ? await this.reader.lastSeqRecordedBefore(tenantId, range.to) : head.seq);
    if (lo === null || hi === null) return report(null, {});
    lo = Math.max(lo, firstKept);
    hi = Math.min(hi, head.seq);
    if (lo > hi) return report(null, {});

    const walker = new ChainWalker(keys);
    const start = lo;
    if (lo > firstKept) {
      // The record before the range: what the first one is chained to.
      const [before] = await this.reader.records(tenantId, lo - 1, lo - 1, 1);
      if (before) walker.seedRecord(chainRecordOf(before));
    } else if (lo > 1) {
      // The oldest kept record follows purged ones: the checkpoint kept at the boundary (if any) anchors it.
      const [boundary] = await this.checkpoints.inRange(tenantId, lo - 1, lo - 1);
      if (boundary && !walker.seed(boundary)) return report(walker, {});
    }
    const cps: CheckpointData[] = await this.checkpoints.inRange(tenantId, start, hi);
    let next = 0;
    let cursor = start;
    const max = range.maxRecords ?? Number.MAX_SAFE_INTEGER;
    while (cursor <= hi) {
      const rows = await this.reader.records(tenantId, cursor, hi, PAGE);
      if (rows.length === 0) break;
      for (const row of rows) {
        const r = chainRecordOf(row);
        if (!walker.record(r)) return report(walker, {});
        while (next < cps.length && cps[next]!.seq <= r.record.seq) {
          if (!walker.checkpoint(cps[next]!)) return report(walker, {});
          next++;
        }
        if (walker.records >= max && r.record.seq < hi) return report(walker, { complete: false, nextFromSeq: r.record.seq + 1 });
      }
      cursor = Number(rows[rows.length - 1]!.seq) + 1;
    }
    const last = walker.lastSeq ?? start - 1;
    if (last < hi) {
      return report(walker, { failure: { reason: 'missing_records', seq: last + 1, eventId: null, detail: `records ${last + 1} to ${hi} are missing` } });
    }
    if (hi === head.seq && walker.lastHash && !walker.lastHash.equals(head.hash)) {
      return report(walker, { failure: { reason: 'head_mismatch', seq: hi, eventId: null, detail: `the chain head does not name the hash of record ${hi}` } });
    }
    return report(walker, {});
  }
}
