import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { runSql } from '@musubi/platform/db';
import { CHAIN_COLUMNS, type ChainRow } from '../verification/chain.reader.js';
import { filterSql, type CheckedFilters } from './event-filters.js';

/**
 * Records past their tenant's retention are not shown, even in the days before the
 * purge drops their (weekly) partition: a partition named after day D goes once D has
 * passed, so a record expiring on D is shown through D, as long as the tenant keeps it.
 * Verification (bySeq) still reads them: the chain runs through them until the purge.
 */
const NOT_EXPIRED = `expires_on >= (now() AT TIME ZONE 'UTC')::date`;

/** The read side of the trail: searches (newest first) and ranges in chain order. */
@Injectable()
export class AuditEventRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Newest first, keyset-paginated on (occurred_at, id), in two steps: the page's keys
   * (time, id, expiry) from an index-only scan of one of the covering search indexes,
   * then just those records, each from the one partition its expiry names. Rows the
   * filters drop or the sort passes over are never read from the table.
   */
  async search(tenantId: string, filters: CheckedFilters, before: { at: string; id: string } | null, limit: number): Promise<{ rows: ChainRow[]; hasMore: boolean }> {
    const { clauses, params } = filterSql(filters, 2, 'occurred_at');
    const where = ['tenant_id = $1', NOT_EXPIRED, ...clauses];
    const all: unknown[] = [tenantId, ...params];
    if (before) {
      all.push(before.at, before.id);
      where.push(`(occurred_at, id) < ($${all.length - 1}::timestamptz, $${all.length}::uuid)`);
    }
    // The limit is written into the statement, not a parameter: with `LIMIT $n` the cached generic plan of
    // a prepared statement cannot know the limit is small, and sorts every record of the tenant (~200 ms
    // for 100,000) instead of merging the partitions' index scans (a few ms).
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > 1000) throw new Error(`bad limit ${limit}`);
    const rows = await runSql<ChainRow>(
      this.dataSource,
      undefined,
      `WITH page AS MATERIALIZED (
         SELECT occurred_at, id, expires_on FROM audit.events WHERE ${where.join(' AND ')} ORDER BY occurred_at DESC, id DESC LIMIT ${limit + 1}
       )
       SELECT r.* FROM page
       CROSS JOIN LATERAL (
         SELECT ${CHAIN_COLUMNS} FROM audit.events e
         WHERE e.tenant_id = $1 AND e.expires_on = page.expires_on AND e.occurred_at = page.occurred_at AND e.id = page.id
       ) r
       ORDER BY page.occurred_at DESC, page.id DESC`,
      all,
    );
    return { rows: rows.slice(0, limit), hasMore: rows.length > limit };
  }

  /** Records after `afterSeq` up to `toSeq` that match the filters (from/to on recordedAt), in chain order. */
  async bySeq(tenantId: string, filters: CheckedFilters, afterSeq: number, toSeq: number, limit: number): Promise<ChainRow[]> {
    const { clauses, params } = filterSql(filters, 5, 'recorded_at');
    return runSql<ChainRow>(
      this.dataSource,
      undefined,
      `SELECT ${CHAIN_COLUMNS} FROM audit.events WHERE tenant_id = $1 AND seq > $2 AND seq <= $3 ${clauses.map((c) => `AND ${c}`).join(' ')}
       ORDER BY seq LIMIT $4`,
      [tenantId, afterSeq, toSeq, limit, ...params],
    );
  }

  /** A user's last sign-ins (successful or not), newest first. */
  async logins(tenantId: string, userId: string, limit: number): Promise<ChainRow[]> {
    return runSql<ChainRow>(
      this.dataSource,
      undefined,
      `SELECT ${CHAIN_COLUMNS} FROM audit.events e
       WHERE tenant_id = $1 AND target_user_id IS NOT NULL AND target_user_id = $2::uuid AND category = 'login' AND ${NOT_EXPIRED}
       ORDER BY e.occurred_at DESC, e.id DESC LIMIT $3`,
      [tenantId, userId, limit],
    );
  }

  /** The devices (fingerprint, user agent) of a user's successful sign-ins before an instant. */
  async earlierDevices(tenantId: string, userId: string, before: string): Promise<Array<{ device: string | null; userAgent: string | null }>> {
    const rows = await runSql<{ device: string | null; user_agent: string | null }>(
      this.dataSource,
      undefined,
      `SELECT DISTINCT device, user_agent FROM audit.events
       WHERE tenant_id = $1 AND target_user_id IS NOT NULL AND target_user_id = $2::uuid AND category = 'login' AND result = 'success' AND occurred_at < $3::timestamptz`,
      [tenantId, userId, before],
    );
    return rows.map((r) => ({ device: r.device, userAgent: r.user_agent }));
  }
}
