import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { GroupSort, GroupType } from '@musubi/contracts';
import { pgError, runSql, type Tx } from '@musubi/platform/db';
import { DomainError } from '@musubi/platform/errors';
import type { Group, KeysetPage } from './group.js';

interface GroupRow {
  id: string;
  tenant_id: string;
  name: string;
  name_key: string;
  email: string | null;
  description: string | null;
  type: GroupType;
  created_at: Date;
  updated_at: Date;
  version: number;
}

const COLUMNS = 'id, tenant_id, name, name_key, email, description, type, created_at, updated_at, version';

export const toGroup = (r: Omit<GroupRow, 'name_key'>): Group => ({
  id: r.id,
  tenantId: r.tenant_id,
  name: r.name,
  email: r.email,
  description: r.description,
  type: r.type,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  version: r.version,
});

const nameTaken = (err: unknown, name: string): unknown =>
  pgError(err)?.constraint === 'groups_tenant_name_key'
    ? new DomainError('conflict', `Another group of this tenant is already named "${name}" (names are compared whatever their case).`, [
        { pointer: '/name', detail: 'is already in use' },
      ])
    : err;

/** Where a list by name or creation continues: after this name key, or after this creation time and id. */
export type GroupListKey = { readonly nameKey: string } | { readonly createdAt: string; readonly id: string };

export interface GroupListFilters {
  readonly sort: GroupSort;
  /** Name contains this, whatever its case. */
  readonly q: string | null;
  /** Name starts with this, whatever its case. */
  readonly prefix: string | null;
  readonly type: GroupType | null;
}

/** The largest code point: every key that starts with a prefix sorts below prefix + this (code point order). */
const MAX_CHAR = String.fromCodePoint(0x10ffff);

@Injectable()
export class GroupRepository {
  constructor(private readonly dataSource: DataSource) {}

  async insert(tx: Tx, g: Group): Promise<void> {
    try {
      await runSql(
        this.dataSource,
        tx,
        'INSERT INTO groups (id, tenant_id, name, email, description, type, created_at, updated_at, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)',
        [g.id, g.tenantId, g.name, g.email, g.description, g.type, g.createdAt, g.updatedAt, g.version],
      );
    } catch (err) {
      throw nameTaken(err, g.name);
    }
  }

  /** Writes the group's new state if its version is still `previous.version`; false when someone changed it meanwhile. */
  async update(tx: Tx, previous: Group, next: Group): Promise<boolean> {
    try {
      const rows = await runSql<{ id: string }>(
        this.dataSource,
        tx,
        `UPDATE groups SET name = $4, email = $5, description = $6, type = $7, updated_at = $8, version = $9
         WHERE tenant_id = $1 AND id = $2 AND version = $3 RETURNING id`,
        [next.tenantId, next.id, previous.version, next.name, next.email, next.description, next.type, next.updatedAt, next.version],
      );
      return rows.length === 1;
    } catch (err) {
      throw nameTaken(err, next.name);
    }
  }

  /** Deletes the group; its memberships and closure rows go with it (ON DELETE CASCADE). */
  async delete(tx: Tx, tenantId: string, id: string): Promise<boolean> {
    const rows = await runSql<{ id: string }>(this.dataSource, tx, 'DELETE FROM groups WHERE tenant_id = $1 AND id = $2 RETURNING id', [tenantId, id]);
    return rows.length === 1;
  }

  async findById(tenantId: string, id: string, tx?: Tx): Promise<Group | null> {
    const rows = await runSql<GroupRow>(this.dataSource, tx, `SELECT ${COLUMNS} FROM groups WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
    return rows[0] ? toGroup(rows[0]) : null;
  }

  /**
   * Reads and locks the group until the transaction ends: for an update, in a
   * way that still lets memberships of it be written meanwhile (their foreign
   * key only needs the key to stay); for a delete, against everything.
   */
  async lockById(tx: Tx, tenantId: string, id: string, purpose: 'update' | 'delete'): Promise<Group | null> {
    const sql =
      purpose === 'update'
        ? `SELECT ${COLUMNS} FROM groups WHERE tenant_id = $1 AND id = $2 FOR NO KEY UPDATE`
        : `SELECT ${COLUMNS} FROM groups WHERE tenant_id = $1 AND id = $2 FOR UPDATE`;
    const rows = await runSql<GroupRow>(this.dataSource, tx, sql, [tenantId, id]);
    return rows[0] ? toGroup(rows[0]) : null;
  }

  /** Every group of the tenant by name (bulk CSV jobs; a tenant's groups are bounded by its group limit). */
  async allInTenant(tenantId: string, tx?: Tx): Promise<Group[]> {
    const rows = await runSql<GroupRow>(this.dataSource, tx, `SELECT ${COLUMNS} FROM groups WHERE tenant_id = $1 ORDER BY name_key`, [tenantId]);
    return rows.map(toGroup);
  }

  async countInTenant(tx: Tx, tenantId: string): Promise<number> {
    const rows = await runSql<{ n: number }>(this.dataSource, tx, 'SELECT count(*)::int AS n FROM groups WHERE tenant_id = $1', [tenantId]);
    return rows[0]?.n ?? 0;
  }

  /** Those of `ids` that are groups of the tenant. */
  async existingIds(tx: Tx, tenantId: string, ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await runSql<{ id: string }>(this.dataSource, tx, 'SELECT id FROM groups WHERE tenant_id = $1 AND id = ANY($2::uuid[])', [tenantId, [...ids]]);
    return new Set(rows.map((r) => r.id));
  }

  /**
   * A keyset page of the tenant's groups. The SQL is put together from fixed
   * fragments only (one text per combination of order and filters, each a
   * prepared statement with its own plan), so a prefix or a cursor is an index
   * range on (tenant_id, name_key) or (tenant_id, created_at, id), not a filter.
   */
  async list(tenantId: string, f: GroupListFilters, after: GroupListKey | null, limit: number): Promise<KeysetPage<Group, GroupListKey>> {
    const params: unknown[] = [tenantId];
    const at = (v: unknown) => `$${params.push(v)}`;
    const where = ['tenant_id = $1'];
    if (f.type) where.push(`type = ${at(f.type)}`);
    if (f.q) where.push(`strpos(name_key, lower(${at(f.q)})) > 0`);
    if (f.prefix) {
      const p = at(f.prefix);
      where.push(`name_key >= lower(${p}) AND name_key < (lower(${p}) || ${at(MAX_CHAR)}) AND starts_with(name_key, lower(${p}))`);
    }
    const desc = f.sort.startsWith('-');
    const byName = f.sort === 'name' || f.sort === '-name';
    if (after) {
      const cmp = desc ? '<' : '>';
      if ('nameKey' in after) where.push(`name_key ${cmp} ${at(after.nameKey)}`);
      else where.push(`(created_at, id) ${cmp} (${at(after.createdAt)}::timestamptz, ${at(after.id)}::uuid)`);
    }
    const dir = desc ? ' DESC' : '';
    const order = byName ? `name_key${dir}` : `created_at${dir}, id${dir}`;
    const sql = `SELECT ${COLUMNS} FROM groups WHERE ${where.join(' AND ')} ORDER BY ${order} LIMIT ${at(limit + 1)}`;
    const rows = await runSql<GroupRow>(this.dataSource, undefined, sql, params);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    const next: GroupListKey | null = rows.length > limit && last ? (byName ? { nameKey: last.name_key } : { createdAt: last.created_at.toISOString(), id: last.id }) : null;
    return { items: page.map(toGroup), next };
  }
}
