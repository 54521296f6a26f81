import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { runSql } from '@musubi/platform/db';
import type { ChainRecord, ChainedRecord, Json } from '../chain/offline-verifier.js';
import { isoFromPg } from '../trail/time.js';

export interface ChainRow {
  tenant_id: string;
  seq: string;
  id: string;
  format: number;
  type: string;
  category: string;
  occurred_at: string;
  recorded_at: string;
  expires_on: string;
  request_id: string | null;
  actor: Json;
  actor_id: string | null;
  target_type: string | null;
  target_id: string | null;
  target_user_id: string | null;
  result: string | null;
  method: string | null;
  ip: string | null;
  user_agent: string | null;
  device: string | null;
  application: string | null;
  changes: Json;
  payload: Json;
  prev_hash: Buffer;
  hash: Buffer;
}

const TS = (col: string) => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** Every column, timestamps as exact text (a microsecond someone added must not vanish in a JS Date). */
export const CHAIN_COLUMNS = `tenant_id, seq, id, format, type, category, ${TS('occurred_at')} AS occurred_at, ${TS('recorded_at')} AS recorded_at,
  expires_on::text AS expires_on, request_id, actor, actor_id, target_type, target_id, target_user_id, result, method, ip, user_agent, device,
  application, changes, payload, prev_hash, hash`;

/** A stored row as the chain sees it: exactly the fields AuditTrail hashed. */
export function chainRecordOf(r: ChainRow): ChainedRecord {
  const record: ChainRecord = {
    v: r.format,
    tenantId: r.tenant_id,
    seq: Number(r.seq),
    id: r.id,
    type: r.type,
    category: r.category,
    occurredAt: isoFromPg(r.occurred_at),
    recordedAt: isoFromPg(r.recorded_at),
    expiresOn: r.expires_on,
    requestId: r.request_id,
    actor: r.actor,
    actorId: r.actor_id,
    targetType: r.target_type,
    targetId: r.target_id,
    targetUserId: r.target_user_id,
    result: r.result,
    method: r.method,
    ip: r.ip,
    userAgent: r.user_agent,
    device: r.device,
    application: r.application,
    changes: r.changes,
    payload: r.payload,
  };
  return { record, prevHash: r.prev_hash, hash: r.hash };
}

/** Reads one tenant's chain in sequence order. */
@Injectable()
export class ChainReader {
  constructor(private readonly dataSource: DataSource) {}

  /** Records with fromSeq <= seq <= toSeq, at most `limit`, in sequence order. */
  async records(tenantId: string, fromSeq: number, toSeq: number, limit: number): Promise<ChainRow[]> {
    return runSql<ChainRow>(
      this.dataSource,
      undefined,
      `SELECT ${CHAIN_COLUMNS} FROM audit.events WHERE tenant_id = $1 AND seq >= $2 AND seq <= $3 ORDER BY seq LIMIT $4`,
      [tenantId, fromSeq, toSeq, limit],
    );
  }

  async head(tenantId: string): Promise<{ seq: number; hash: Buffer } | null> {
    const [r] = await runSql<{ seq: string; hash: Buffer }>(this.dataSource, undefined, 'SELECT seq, hash FROM audit.heads WHERE tenant_id = $1', [tenantId]);
    return r && Number(r.seq) > 0 ? { seq: Number(r.seq), hash: r.hash } : null;
  }

  /** The lowest sequence number still stored. */
  async firstSeq(tenantId: string): Promise<number | null> {
    const [r] = await runSql<{ seq: string }>(this.dataSource, undefined, 'SELECT seq FROM audit.events WHERE tenant_id = $1 ORDER BY seq LIMIT 1', [tenantId]);
    return r ? Number(r.seq) : null;
  }

  /** How far retention has removed this chain (0: nothing purged). */
  async purgedThrough(tenantId: string): Promise<number> {
    const [r] = await runSql<{ seq: string | null }>(this.dataSource, undefined, 'SELECT max(through_seq) AS seq FROM audit.purges WHERE tenant_id = $1', [tenantId]);
    return r?.seq ? Number(r.seq) : 0;
  }

  /**
   * The first record audit recorded at or after an instant. recordedAt grows with
   * seq, so the search starts at the last checkpoint before the instant.
   */
  async firstSeqRecordedFrom(tenantId: string, from: string, afterSeq: number): Promise<number | null> {
    const [r] = await runSql<{ seq: string }>(
      this.dataSource,
      undefined,
      'SELECT seq FROM audit.events WHERE tenant_id = $1 AND seq > $2 AND recorded_at >= $3 ORDER BY seq LIMIT 1',
      [tenantId, afterSeq, from],
    );
    return r ? Number(r.seq) : null;
  }

  /** The last record audit recorded before an instant. */
  async lastSeqRecordedBefore(tenantId: string, before: string): Promise<number | null> {
    const [cp] = await runSql<{ seq: string | null }>(
      this.dataSource,
      undefined,
      'SELECT min(seq) AS seq FROM audit.checkpoints WHERE tenant_id = $1 AND recorded_at >= $2',
      [tenantId, before],
    );
    const below = cp?.seq ? Number(cp.seq) : Number.MAX_SAFE_INTEGER;
    const [r] = await runSql<{ seq: string }>(
      this.dataSource,
      undefined,
      'SELECT seq FROM audit.events WHERE tenant_id = $1 AND seq <= $2 AND recorded_at < $3 ORDER BY seq DESC LIMIT 1',
      [tenantId, below, before],
    );
    return r ? Number(r.seq) : null;
  }
}
