import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { ApiTokenScope, ApiTokenView } from '@musubi/contracts';
import { runSql, type Tx } from '@musubi/platform/db';

interface Row {
  id: string;
  tenant_id: string;
  name: string;
  scopes: string[];
  prefix: string;
  created_by: string;
  created_at: Date;
  expires_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

const COLUMNS = 'id, tenant_id, name, scopes, prefix, created_by, created_at, expires_at, last_used_at, revoked_at';

const toView = (r: Row): ApiTokenView => ({
  id: r.id,
  tenantId: r.tenant_id,
  name: r.name,
  scopes: r.scopes as ApiTokenScope[],
  createdBy: r.created_by,
  createdAt: r.created_at.toISOString(),
  expiresAt: r.expires_at.toISOString(),
  lastUsedAt: r.last_used_at?.toISOString() ?? null,
  revokedAt: r.revoked_at?.toISOString() ?? null,
  prefix: r.prefix,
});

@Injectable()
export class ApiTokenRepository {
  constructor(private readonly dataSource: DataSource) {}

  async insert(tx: Tx, t: ApiTokenView, tokenHash: Buffer): Promise<void> {
    await runSql(
      this.dataSource,
      tx,
      `INSERT INTO api_tokens (id, tenant_id, name, scopes, token_hash, prefix, created_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [t.id, t.tenantId, t.name, t.scopes, tokenHash, t.prefix, t.createdBy, new Date(t.createdAt), new Date(t.expiresAt)],
    );
  }

  async list(tenantId: string, createdBy: string | null): Promise<ApiTokenView[]> {
    const rows = await runSql<Row>(
      this.dataSource,
      undefined,
      `SELECT ${COLUMNS} FROM api_tokens WHERE tenant_id = $1 AND ($2::uuid IS NULL OR created_by = $2) ORDER BY created_at DESC LIMIT 500`,
      [tenantId, createdBy],
    );
    return rows.map(toView);
  }

  async find(tenantId: string, id: string): Promise<ApiTokenView | null> {
    const rows = await runSql<Row>(this.dataSource, undefined, `SELECT ${COLUMNS} FROM api_tokens WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
    return rows[0] ? toView(rows[0]) : null;
  }

  async byHash(tokenHash: Buffer): Promise<ApiTokenView | null> {
    const rows = await runSql<Row>(this.dataSource, undefined, `SELECT ${COLUMNS} FROM api_tokens WHERE token_hash = $1`, [tokenHash]);
    return rows[0] ? toView(rows[0]) : null;
  }

  async revoke(tx: Tx, tenantId: string, id: string): Promise<ApiTokenView | null> {
    const rows = await runSql<Row>(
      this.dataSource,
      tx,
      `UPDATE api_tokens SET revoked_at = now() WHERE tenant_id = $1 AND id = $2 AND revoked_at IS NULL RETURNING ${COLUMNS}`,
      [tenantId, id],
    );
    return rows[0] ? toView(rows[0]) : null;
  }

  /** Written at most every five minutes per token. */
  async touch(id: string): Promise<void> {
    await runSql(this.dataSource, undefined, "UPDATE api_tokens SET last_used_at = now() WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '5 minutes')", [id]);
  }
}
