import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { runSql, type Tx } from '@musubi/platform/db';

@Injectable()
export class ResetRepository {
  constructor(private readonly dataSource: DataSource) {}

  async create(tenantId: string, userId: string, tokenHash: Buffer, expiresAt: Date): Promise<void> {
    await runSql(this.dataSource, undefined, 'INSERT INTO password_resets (token_hash, tenant_id, user_id, created_at, expires_at) VALUES ($1, $2, $3, now(), $4)', [
      tokenHash,
      tenantId,
      userId,
      expiresAt,
    ]);
  }

  async findUsable(tenantId: string, tokenHash: Buffer): Promise<{ userId: string; expiresAt: Date } | null> {
    const rows = await runSql<{ user_id: string; expires_at: Date }>(
      this.dataSource,
      undefined,
      'SELECT user_id, expires_at FROM password_resets WHERE token_hash = $1 AND tenant_id = $2 AND used_at IS NULL AND expires_at > now()',
      [tokenHash, tenantId],
    );
    return rows[0] ? { userId: rows[0].user_id, expiresAt: rows[0].expires_at } : null;
  }

  /** Spends a link (only one caller can) and every other open link of the same user. */
  async spend(tx: Tx, tenantId: string, tokenHash: Buffer): Promise<string | null> {
    const rows = await runSql<{ user_id: string }>(
      this.dataSource,
      tx,
      'UPDATE password_resets SET used_at = now() WHERE token_hash = $1 AND tenant_id = $2 AND used_at IS NULL AND expires_at > now() RETURNING user_id',
      [tokenHash, tenantId],
    );
    const userId = rows[0]?.user_id ?? null;
    if (userId) await runSql(this.dataSource, tx, 'UPDATE password_resets SET used_at = now() WHERE tenant_id = $1 AND user_id = $2 AND used_at IS NULL', [tenantId, userId]);
    return userId;
  }
}
