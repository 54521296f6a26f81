import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { pgError, runSql, type Tx } from '@musubi/platform/db';
import { DomainError } from '@musubi/platform/errors';
import type { CheckOutcome, Domain, DomainStatus } from './domain.js';

interface DomainRow {
  id: string;
  tenant_id: string;
  name: string;
  status: DomainStatus;
  token: string;
  verified_at: Date | null;
  lost_at: Date | null;
  last_checked_at: Date | null;
  last_check_outcome: CheckOutcome | null;
  last_check_message: string | null;
  failed_checks: number;
  next_check_at: Date | null;
  created_at: Date;
  updated_at: Date;
  version: number;
}

const COLUMNS =
  'id, tenant_id, name, status, token, verified_at, lost_at, last_checked_at, last_check_outcome, last_check_message, failed_checks, next_check_at, created_at, updated_at, version';

const toDomain = (r: DomainRow): Domain => ({
  id: r.id,
  tenantId: r.tenant_id,
  name: r.name,
  status: r.status,
  token: r.token,
  verifiedAt: r.verified_at,
  lostAt: r.lost_at,
  lastCheckedAt: r.last_checked_at,
  lastCheckOutcome: r.last_check_outcome,
  lastCheckMessage: r.last_check_message,
  failedChecks: r.failed_checks,
  nextCheckAt: r.next_check_at,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  version: r.version,
});

/** The tenant as the domains feature needs it. */
export interface DomainTenant {
  readonly id: string;
  readonly slug: string;
  readonly status: 'active' | 'suspended' | 'terminated';
}

/** Raised by Postgres when a second tenant's domain would hold a name another already holds. */
const CLAIM_INDEX = 'domains_claimed_name_key';
const TENANT_NAME_KEY = 'domains_tenant_name_key';

@Injectable()
export class DomainRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Reads the tenant and locks it against concurrent user creations (which
   * lock it FOR UPDATE) and other domain changes of the tenant until the
   * transaction ends; foreign-key checks (KEY SHARE) are not blocked.
   */
  async lockTenant(tx: Tx, tenantId: string): Promise<DomainTenant | null> {
    const rows = await runSql<DomainTenant>(this.dataSource, tx, 'SELECT id, slug, status FROM tenants WHERE id = $1 FOR NO KEY UPDATE', [tenantId]);
    return rows[0] ?? null;
  }

  async findTenant(tenantId: string): Promise<DomainTenant | null> {
    const rows = await runSql<DomainTenant>(this.dataSource, undefined, 'SELECT id, slug, status FROM tenants WHERE id = $1', [tenantId]);
    return rows[0] ?? null;
  }

  async insert(tx: Tx, d: Domain): Promise<void> {
    try {
      await runSql(
        this.dataSource,
        tx,
        `INSERT INTO domains (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
        [
          d.id,
          d.tenantId,
          d.name,
          d.status,
          d.token,
          d.verifiedAt,
          d.lostAt,
          d.lastCheckedAt,
          d.lastCheckOutcome,
          d.lastCheckMessage,
          d.failedChecks,
          d.nextCheckAt,
          d.createdAt,
          d.updatedAt,
          d.version,
        ],
      );
    } catch (err) {
      if (pgError(err)?.constraint === TENANT_NAME_KEY) {
        throw new DomainError('conflict', `The tenant has already registered ${d.name}.`, [{ pointer: '/name', detail: 'is already registered by this tenant' }]);
      }
      throw err;
    }
  }

  /**
   * Writes the domain's new state if its version is still `previous.version`;
   * returns false when someone changed it meanwhile. A domain becoming
   * verified while another tenant's holds the name fails on the unique index,
   * whichever transaction commits first: `domain_claimed`, naming nobody.
   */
  async update(tx: Tx, previous: Domain, next: Domain): Promise<boolean> {
    try {
      const rows = await runSql<{ id: string }>(
        this.dataSource,
        tx,
        `UPDATE domains SET status = $3, verified_at = $4, lost_at = $5, last_checked_at = $6, last_check_outcome = $7, last_check_message = $8,
           failed_checks = $9, next_check_at = $10, updated_at = $11, version = $12
         WHERE id = $1 AND version = $2 RETURNING id`,
        [
          next.id,
          previous.version,
          next.status,
          next.verifiedAt,
          next.lostAt,
          next.lastCheckedAt,
          next.lastCheckOutcome,
          next.lastCheckMessage,
          next.failedChecks,
          next.nextCheckAt,
          next.updatedAt,
          next.version,
        ],
      );
      return rows.length === 1;
    } catch (err) {
      if (pgError(err)?.constraint === CLAIM_INDEX) throw claimed();
      throw err;
    }
  }

  async delete(tx: Tx, d: Domain): Promise<boolean> {
    const rows = await runSql<{ id: string }>(this.dataSource, tx, 'DELETE FROM domains WHERE id = $1 AND version = $2 RETURNING id', [d.id, d.version]);
    return rows.length === 1;
  }

  async findById(tenantId: string, id: string): Promise<Domain | null> {
    const rows = await runSql<DomainRow>(this.dataSource, undefined, `SELECT ${COLUMNS} FROM domains WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
    return rows[0] ? toDomain(rows[0]) : null;
  }

  async lockById(tx: Tx, tenantId: string, id: string): Promise<Domain | null> {
    const rows = await runSql<DomainRow>(this.dataSource, tx, `SELECT ${COLUMNS} FROM domains WHERE tenant_id = $1 AND id = $2 FOR UPDATE`, [tenantId, id]);
    return rows[0] ? toDomain(rows[0]) : null;
  }

  /** Whether a tenant other than `tenantId` holds the name (verified or lost). */
  async claimedByAnother(tx: Tx | undefined, name: string, tenantId: string): Promise<boolean> {
    const rows = await runSql<{ one: number }>(
      this.dataSource,
      tx,
      `SELECT 1 AS one FROM domains WHERE name = $1 AND tenant_id <> $2 AND status IN ('verified', 'lost') LIMIT 1`,
      [name, tenantId],
    );
    return rows.length > 0;
  }

  async countInTenant(tx: Tx, tenantId: string): Promise<number> {
    const rows = await runSql<{ n: number }>(this.dataSource, tx, 'SELECT count(*)::int AS n FROM domains WHERE tenant_id = $1', [tenantId]);
    return rows[0]?.n ?? 0;
  }

  /** Users of the tenant, whatever their status, whose login ID is `…@name` (case-insensitively). */
  async countUsersIn(tx: Tx, tenantId: string, name: string): Promise<number> {
    const rows = await runSql<{ n: number }>(
      this.dataSource,
      tx,
      `SELECT count(*)::int AS n FROM users WHERE tenant_id = $1 AND right(lower(login_id), length($2::text) + 1) = '@' || $2::text`,
      [tenantId, name],
    );
    return rows[0]?.n ?? 0;
  }

  /** The tenant's verified domain names, sorted. */
  async verifiedNames(tx: Tx | undefined, tenantId: string): Promise<string[]> {
    const rows = await runSql<{ name: string }>(this.dataSource, tx, `SELECT name FROM domains WHERE tenant_id = $1 AND status = 'verified' ORDER BY name`, [
      tenantId,
    ]);
    return rows.map((r) => r.name);
  }

  /** Keyset page of a tenant's domains ordered by id (UUIDv7, so by registration). */
  async list(tenantId: string, after: string | null, limit: number): Promise<{ items: Domain[]; hasMore: boolean }> {
    const rows = after
      ? await runSql<DomainRow>(this.dataSource, undefined, `SELECT ${COLUMNS} FROM domains WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3`, [
          tenantId,
          after,
          limit + 1,
        ])
      : await runSql<DomainRow>(this.dataSource, undefined, `SELECT ${COLUMNS} FROM domains WHERE tenant_id = $1 ORDER BY id LIMIT $2`, [tenantId, limit + 1]);
    return { items: rows.slice(0, limit).map(toDomain), hasMore: rows.length > limit };
  }

  /**
   * Takes up to `limit` verified or lost domains due for a check at `now` and
   * leases them until `leaseUntil` (their next check moves there), in one
   * statement that commits at once: rows another replica is leasing right now
   * are skipped (SKIP LOCKED), and a leased row is not due for anyone else
   * until the lease ends, so no two replicas check a domain at the same time,
   * and a replica that dies mid-check only delays that domain to the lease's end.
   */
  async leaseDue(now: Date, leaseUntil: Date, limit: number): Promise<Domain[]> {
    const rows = await runSql<DomainRow>(
      this.dataSource,
      undefined,
      `UPDATE domains SET next_check_at = $2
       WHERE id IN (SELECT id FROM domains WHERE status IN ('verified', 'lost') AND next_check_at <= $1 ORDER BY next_check_at LIMIT $3 FOR UPDATE SKIP LOCKED)
       RETURNING ${COLUMNS}`,
      [now, leaseUntil, limit],
    );
    return rows.map(toDomain);
  }
}

export const claimed = (): DomainError =>
  new DomainError('domain_claimed', 'Another tenant has already proved it owns this domain.', [{ pointer: '/name', detail: 'is claimed by another tenant' }]);
