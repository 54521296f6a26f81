import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { pgError, runSql, type Tx } from '@musubi/platform/db';
import type { ChainedRecord } from '../chain/offline-verifier.js';

/** A chain's last record, locked for this transaction, with the tenant's settings. */
export interface LockedHead {
  readonly tenantId: string;
  readonly seq: number;
  readonly hash: Buffer;
  readonly recordedAt: Date;
  /** YYYY-MM-DD */
  readonly expiresOn: string;
  readonly timeZone: string | null;
  readonly retentionDays: number | null;
  /** The database's clock once the lock was held. */
  readonly clock: Date;
}

export interface SettingsRow {
  readonly tenantId: string;
  readonly timeZone: string | null;
  readonly retentionDays: number | null;
  readonly source: string;
}

/** The error Postgres raises for a row whose partition does not exist (yet). */
export const isMissingPartition = (err: unknown): boolean => pgError(err)?.code === '23514' && /no partition of relation/i.test((err as Error).message);

/** The write side of the trail: every statement goes through the owner's SECURITY DEFINER functions. */
@Injectable()
export class TrailRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Marks event ids as received; returns those not received before (the rest are redeliveries). */
  async claim(tx: Tx, ids: readonly string[]): Promise<Set<string>> {
    const rows = await runSql<{ id: string }>(this.dataSource, tx, 'SELECT audit.claim($1::uuid[]) AS id', [ids]);
    return new Set(rows.map((r) => r.id));
  }

  async lockHeads(tx: Tx, tenantIds: readonly string[]): Promise<Map<string, LockedHead>> {
    const rows = await runSql<{
      tenant_id: string;
      seq: string;
      hash: Buffer;
      recorded_at: Date;
      expires_on: string;
      time_zone: string | null;
      retention_days: number | null;
      clock: Date;
    }>(
      this.dataSource,
      tx,
      'SELECT tenant_id, seq, hash, recorded_at, expires_on::text AS expires_on, time_zone, retention_days, clock FROM audit.lock_heads($1::uuid[])',
      [tenantIds],
    );
    return new Map(
      rows.map((r) => [
        r.tenant_id,
        {
          tenantId: r.tenant_id,
          seq: Number(r.seq),
          hash: r.hash,
          recordedAt: r.recorded_at,
          expiresOn: r.expires_on,
          timeZone: r.time_zone,
          retentionDays: r.retention_days,
          clock: r.clock,
        },
      ]),
    );
  }

  /** Appends chained records (heads locked by `lockHeads` in the same transaction). */
  async append(tx: Tx, records: readonly ChainedRecord[]): Promise<number> {
    const rows = records.map(({ record: r, prevHash, hash }) => ({
      tenant_id: r.tenantId,
      seq: r.seq,
      id: r.id,
      format: r.v,
      type: r.type,
      category: r.category,
      occurred_at: r.occurredAt,
      recorded_at: r.recordedAt,
      expires_on: r.expiresOn,
      request_id: r.requestId,
      actor: r.actor,
      actor_id: r.actorId,
      target_type: r.targetType,
      target_id: r.targetId,
      target_user_id: r.targetUserId,
      result: r.result,
      method: r.method,
      ip: r.ip,
      user_agent: r.userAgent,
      device: r.device,
      application: r.application,
      changes: r.changes,
      payload: r.payload,
      prev_hash_hex: prevHash.toString('hex'),
      hash_hex: hash.toString('hex'),
    }));
    const [row] = await runSql<{ n: number }>(this.dataSource, tx, 'SELECT audit.append($1::jsonb) AS n', [JSON.stringify(rows)]);
    return row?.n ?? 0;
  }

  async insertSettings(tx: Tx, rows: readonly SettingsRow[]): Promise<void> {
    if (rows.length === 0) return;
    await runSql(
      this.dataSource,
      tx,
      `INSERT INTO audit.tenant_settings (tenant_id, time_zone, retention_days, source)
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::int[], $4::text[])`,
      [rows.map((r) => r.tenantId), rows.map((r) => r.timeZone), rows.map((r) => r.retentionDays), rows.map((r) => r.source)],
    );
  }

  /** Creates the partition (its ISO week) of records expiring on `day` (YYYY-MM-DD); true when it was missing. */
  async ensurePartition(day: string): Promise<boolean> {
    const [row] = await runSql<{ created: boolean }>(this.dataSource, undefined, 'SELECT audit.ensure_partition($1::date) AS created', [day]);
    return row?.created ?? false;
  }

  /** Drops every partition whose last day has passed. */
  async purgeExpired(): Promise<Array<{ partition: string; records: number }>> {
    const rows = await runSql<{ partition: string; records: string }>(this.dataSource, undefined, 'SELECT partition, records FROM audit.purge_expired()');
    return rows.map((r) => ({ partition: r.partition, records: Number(r.records) }));
  }

  /** Retention values in use (for creating the coming days' partitions). */
  async retentionsInUse(): Promise<number[]> {
    const rows = await runSql<{ days: number }>(
      this.dataSource,
      undefined,
      `SELECT DISTINCT s.retention_days AS days FROM (
         SELECT DISTINCT ON (tenant_id) retention_days FROM audit.tenant_settings WHERE retention_days IS NOT NULL ORDER BY tenant_id, version DESC
       ) s`,
    );
    return rows.map((r) => r.days);
  }
}
