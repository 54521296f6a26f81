import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { runSql } from '@musubi/platform/db';
import type { CheckpointData } from '../chain/offline-verifier.js';
import { isoFromPg } from '../trail/time.js';

interface CheckpointRow {
  tenant_id: string;
  seq: string;
  hash: string;
  recorded_at: string;
  issued_at: string;
  key_id: string;
  signature: string;
}

const TS = (col: string) => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
const COLS = `tenant_id, seq, encode(hash, 'hex') AS hash, ${TS('recorded_at')} AS recorded_at, ${TS('issued_at')} AS issued_at, key_id, encode(signature, 'base64') AS signature`;

const toData = (r: CheckpointRow): CheckpointData => ({
  tenantId: r.tenant_id,
  seq: Number(r.seq),
  hash: r.hash,
  recordedAt: isoFromPg(r.recorded_at),
  issuedAt: isoFromPg(r.issued_at),
  keyId: r.key_id,
  signature: Buffer.from(r.signature.replace(/\n/g, ''), 'base64').toString('base64url'),
});

export interface SigningKeyRow {
  readonly keyId: string;
  readonly publicKeyPem: string;
  readonly firstUsedAt: string;
}

@Injectable()
export class CheckpointRepository {
  constructor(private readonly dataSource: DataSource) {}

  async registerKey(keyId: string, publicKeyPem: string): Promise<void> {
    await runSql(this.dataSource, undefined, `INSERT INTO audit.signing_keys (key_id, algorithm, public_key) VALUES ($1, 'Ed25519', $2) ON CONFLICT DO NOTHING`, [keyId, publicKeyPem]);
  }

  async keys(): Promise<SigningKeyRow[]> {
    const rows = await runSql<{ key_id: string; public_key: string; first_used_at: Date }>(
      this.dataSource,
      undefined,
      'SELECT key_id, public_key, first_used_at FROM audit.signing_keys ORDER BY first_used_at, key_id',
    );
    return rows.map((r) => ({ keyId: r.key_id, publicKeyPem: r.public_key, firstUsedAt: r.first_used_at.toISOString() }));
  }

  /** Chains whose head moved since their last checkpoint: the head's seq, hash and time. */
  async dueHeads(limit: number): Promise<Array<{ tenantId: string; seq: number; hash: string; recordedAt: string }>> {
    const rows = await runSql<{ tenant_id: string; seq: string; hash: string; recorded_at: string }>(
      this.dataSource,
      undefined,
      `SELECT h.tenant_id, h.seq, encode(h.hash, 'hex') AS hash, ${TS('h.recorded_at')} AS recorded_at
       FROM audit.heads h
       WHERE h.seq > 0 AND h.seq > COALESCE((SELECT max(c.seq) FROM audit.checkpoints c WHERE c.tenant_id = h.tenant_id), 0)
       LIMIT $1`,
      [limit],
    );
    return rows.map((r) => ({ tenantId: r.tenant_id, seq: Number(r.seq), hash: r.hash, recordedAt: isoFromPg(r.recorded_at) }));
  }

  /** The stored hash and time of one record (to sign a checkpoint at it). */
  async recordAt(tenantId: string, seq: number): Promise<{ hash: string; recordedAt: string } | null> {
    const [r] = await runSql<{ hash: string; recorded_at: string }>(
      this.dataSource,
      undefined,
      `SELECT encode(hash, 'hex') AS hash, ${TS('recorded_at')} AS recorded_at FROM audit.events WHERE tenant_id = $1 AND seq = $2 LIMIT 1`,
      [tenantId, seq],
    );
    return r ? { hash: r.hash, recordedAt: isoFromPg(r.recorded_at) } : null;
  }

  async insert(cp: CheckpointData): Promise<void> {
    await runSql(
      this.dataSource,
      undefined,
      `INSERT INTO audit.checkpoints (tenant_id, seq, hash, recorded_at, issued_at, key_id, signature)
       VALUES ($1, $2, decode($3, 'hex'), $4, $5, $6, decode($7, 'base64')) ON CONFLICT DO NOTHING`,
      [cp.tenantId, cp.seq, cp.hash, cp.recordedAt, cp.issuedAt, cp.keyId, Buffer.from(cp.signature, 'base64url').toString('base64')],
    );
  }

  async at(tenantId: string, seq: number): Promise<CheckpointData | null> {
    const [r] = await runSql<CheckpointRow>(this.dataSource, undefined, `SELECT ${COLS} FROM audit.checkpoints WHERE tenant_id = $1 AND seq = $2`, [tenantId, seq]);
    return r ? toData(r) : null;
  }

  /** Checkpoints with fromSeq <= seq <= toSeq, in sequence order. */
  async inRange(tenantId: string, fromSeq: number, toSeq: number): Promise<CheckpointData[]> {
    const rows = await runSql<CheckpointRow>(
      this.dataSource,
      undefined,
      `SELECT ${COLS} FROM audit.checkpoints WHERE tenant_id = $1 AND seq BETWEEN $2 AND $3 ORDER BY seq`,
      [tenantId, fromSeq, toSeq],
    );
    return rows.map(toData);
  }

  /** Newest first, before a sequence number. */
  async page(tenantId: string, beforeSeq: number | null, limit: number): Promise<CheckpointData[]> {
    const rows = await runSql<CheckpointRow>(
      this.dataSource,
      undefined,
      `SELECT ${COLS} FROM audit.checkpoints WHERE tenant_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3`,
      [tenantId, beforeSeq ?? Number.MAX_SAFE_INTEGER, limit],
    );
    return rows.map(toData);
  }

  /** The last checkpoint recorded before an instant: a place to start looking for the first record after it. */
  async lastSeqBefore(tenantId: string, recordedBefore: string): Promise<number> {
    const [r] = await runSql<{ seq: string | null }>(
      this.dataSource,
      undefined,
      'SELECT max(seq) AS seq FROM audit.checkpoints WHERE tenant_id = $1 AND recorded_at < $2',
      [tenantId, recordedBefore],
    );
    return r?.seq ? Number(r.seq) : 0;
  }
}
