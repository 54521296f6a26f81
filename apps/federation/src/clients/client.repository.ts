import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { runSql, type Tx } from '@musubi/platform/db';
import type { ClientSettings, OidcClient } from './client.js';

interface ClientRow {
  id: string;
  tenant_id: string;
  settings: ClientSettings;
  secret_hash: Buffer | null;
  secret_created_at: Date | null;
  created_at: Date;
  updated_at: Date;
  version: number;
}

const COLUMNS = 'id, tenant_id, settings, secret_hash, secret_created_at, created_at, updated_at, version';

const toClient = (r: ClientRow): OidcClient => ({
  id: r.id,
  tenantId: r.tenant_id,
  settings: r.settings,
  secretHash: r.secret_hash,
  secretCreatedAt: r.secret_created_at,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  version: r.version,
});

@Injectable()
export class ClientRepository {
  constructor(private readonly dataSource: DataSource) {}

  async insert(tx: Tx, c: OidcClient): Promise<void> {
    await runSql(this.dataSource, tx, `INSERT INTO oidc_clients (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, [
      c.id,
      c.tenantId,
      JSON.stringify(c.settings),
      c.secretHash,
      c.secretCreatedAt,
      c.createdAt,
      c.updatedAt,
      c.version,
    ]);
  }

  /** A client of the tenant; another tenant's id reads as none. */
  async findById(tenantId: string, id: string, tx?: Tx): Promise<OidcClient | null> {
    const rows = await runSql<ClientRow>(this.dataSource, tx, `SELECT ${COLUMNS} FROM oidc_clients WHERE id = $1 AND tenant_id = $2`, [id, tenantId]);
    return rows[0] ? toClient(rows[0]) : null;
  }

  async lockById(tx: Tx, tenantId: string, id: string): Promise<OidcClient | null> {
    const rows = await runSql<ClientRow>(this.dataSource, tx, `SELECT ${COLUMNS} FROM oidc_clients WHERE id = $1 AND tenant_id = $2 FOR UPDATE`, [id, tenantId]);
    return rows[0] ? toClient(rows[0]) : null;
  }

  async update(tx: Tx, c: OidcClient): Promise<void> {
    await runSql(this.dataSource, tx, 'UPDATE oidc_clients SET settings = $3, secret_hash = $4, secret_created_at = $5, updated_at = $6, version = $7 WHERE id = $1 AND tenant_id = $2', [
      c.id,
      c.tenantId,
      JSON.stringify(c.settings),
      c.secretHash,
      c.secretCreatedAt,
      c.updatedAt,
      c.version,
    ]);
  }

  async delete(tx: Tx, tenantId: string, id: string): Promise<void> {
    await runSql(this.dataSource, tx, 'DELETE FROM oidc_clients WHERE id = $1 AND tenant_id = $2', [id, tenantId]);
  }

  async list(tenantId: string, after: { createdAt: string; id: string } | null, limit: number): Promise<{ items: OidcClient[]; next: OidcClient | null }> {
    const rows = after
      ? await runSql<ClientRow>(
          this.dataSource,
          undefined,
          `SELECT ${COLUMNS} FROM oidc_clients WHERE tenant_id = $1 AND (created_at, id) > ($2, $3) ORDER BY created_at, id LIMIT $4`,
          [tenantId, after.createdAt, after.id, limit + 1],
        )
      : await runSql<ClientRow>(this.dataSource, undefined, `SELECT ${COLUMNS} FROM oidc_clients WHERE tenant_id = $1 ORDER BY created_at, id LIMIT $2`, [tenantId, limit + 1]);
    const items = rows.slice(0, limit).map(toClient);
    return { items, next: rows.length > limit ? (items[items.length - 1] ?? null) : null };
  }
}
