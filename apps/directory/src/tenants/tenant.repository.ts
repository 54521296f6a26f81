import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { pgError, runSql, type Tx } from '@musubi/platform/db';
import { DomainError } from '@musubi/platform/errors';
import type { Tenant } from './tenant.js';

interface TenantRow {
  id: string;
  slug: string;
  display_name: string;
  status: Tenant['status'];
  time_zone: string;
  default_locale: Tenant['defaultLocale'];
  user_limit: number;
  group_limit: number;
  deletion_retention_days: number;
  synced_users_read_only: boolean;
  suspended_at: Date | null;
  terminated_at: Date | null;
  created_at: Date;
  updated_at: Date;
  version: number;
}

const COLUMNS =
  'id, slug, display_name, status, time_zone, default_locale, user_limit, group_limit, deletion_retention_days, synced_users_read_only, suspended_at, terminated_at, created_at, updated_at, version';

const toDomain = (r: TenantRow): Tenant => ({
  id: r.id,
  slug: r.slug,
  displayName: r.display_name,
  status: r.status,
  timeZone: r.time_zone,
  defaultLocale: r.default_locale,
  userLimit: r.user_limit,
  groupLimit: r.group_limit,
  deletionRetentionDays: r.deletion_retention_days,
  syncedUsersReadOnly: r.synced_users_read_only,
  suspendedAt: r.suspended_at,
  terminatedAt: r.terminated_at,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  version: r.version,
});

@Injectable()
export class TenantRepository {
  constructor(private readonly dataSource: DataSource) {}

  async insert(tx: Tx, t: Tenant): Promise<void> {
    try {
      await runSql(
        this.dataSource,
        tx,
        `INSERT INTO tenants (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
        [
          t.id,
          t.slug,
          t.displayName,
          t.status,
          t.timeZone,
          t.defaultLocale,
          t.userLimit,
          t.groupLimit,
          t.deletionRetentionDays,
          t.syncedUsersReadOnly,
          t.suspendedAt,
          t.terminatedAt,
          t.createdAt,
          t.updatedAt,
          t.version,
        ],
      );
    } catch (err) {
      if (pgError(err)?.constraint === 'tenants_slug_key') {
        throw new DomainError('tenant_slug_taken', `The slug "${t.slug}" is already taken.`, [{ pointer: '/slug', detail: 'is already taken' }]);
      }
      throw err;
    }
  }

  /**
   * Writes the tenant's new state if its version is still `previous.version`
   * (optimistic concurrency); returns false when someone changed it meanwhile.
   */
  async update(tx: Tx, previous: Tenant, next: Tenant): Promise<boolean> {
    const rows = await runSql<{ id: string }>(
      this.dataSource,
      tx,
      `UPDATE tenants SET display_name = $3, status = $4, time_zone = $5, default_locale = $6, user_limit = $7, group_limit = $8,
         deletion_retention_days = $9, synced_users_read_only = $10, suspended_at = $11, terminated_at = $12, updated_at = $13, version = $14
       WHERE id = $1 AND version = $2 RETURNING id`,
      [
        next.id,
        previous.version,
        next.displayName,
        next.status,
        next.timeZone,
        next.defaultLocale,
        next.userLimit,
        next.groupLimit,
        next.deletionRetentionDays,
        next.syncedUsersReadOnly,
        next.suspendedAt,
        next.terminatedAt,
        next.updatedAt,
        next.version,
      ],
    );
    return rows.length === 1;
  }

  async findById(id: string, tx?: Tx): Promise<Tenant | null> {
    const rows = await runSql<TenantRow>(this.dataSource, tx, `SELECT ${COLUMNS} FROM tenants WHERE id = $1`, [id]);
    return rows[0] ? toDomain(rows[0]) : null;
  }

  /** Reads and locks the row until the transaction ends (serialises limit checks per tenant). */
  async lockById(tx: Tx, id: string): Promise<Tenant | null> {
    const rows = await runSql<TenantRow>(this.dataSource, tx, `SELECT ${COLUMNS} FROM tenants WHERE id = $1 FOR UPDATE`, [id]);
    return rows[0] ? toDomain(rows[0]) : null;
  }

  /** Every registered user, whatever their status (the user limit counts them all). */
  async countUsers(tx: Tx, tenantId: string): Promise<number> {
    const rows = await runSql<{ n: number }>(this.dataSource, tx, 'SELECT count(*)::int AS n FROM users WHERE tenant_id = $1', [tenantId]);
    return rows[0]?.n ?? 0;
  }

  async findBySlug(slug: string): Promise<Tenant | null> {
    const rows = await runSql<TenantRow>(this.dataSource, undefined, `SELECT ${COLUMNS} FROM tenants WHERE slug = $1`, [slug]);
    return rows[0] ? toDomain(rows[0]) : null;
  }

  /** Keyset page ordered by id (UUIDv7, so by creation). */
  async list(after: string | null, limit: number): Promise<{ items: Tenant[]; hasMore: boolean }> {
    const rows = after
      ? await runSql<TenantRow>(this.dataSource, undefined, `SELECT ${COLUMNS} FROM tenants WHERE id > $1 ORDER BY id LIMIT $2`, [after, limit + 1])
      : await runSql<TenantRow>(this.dataSource, undefined, `SELECT ${COLUMNS} FROM tenants ORDER BY id LIMIT $1`, [limit + 1]);
    return { items: rows.slice(0, limit).map(toDomain), hasMore: rows.length > limit };
  }
}
