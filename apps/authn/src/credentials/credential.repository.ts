import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { runSql, type Tx } from '@musubi/platform/db';

export interface Credential {
  readonly tenantId: string;
  readonly userId: string;
  readonly passwordHash: string;
  readonly temporary: boolean;
  readonly expiresAt: Date | null;
  readonly changedAt: Date;
}

interface Row {
  tenant_id: string;
  user_id: string;
  password_hash: string;
  temporary: boolean;
  expires_at: Date | null;
  changed_at: Date;
}

const toDomain = (r: Row): Credential => ({
  tenantId: r.tenant_id,
  userId: r.user_id,
  passwordHash: r.password_hash,
  temporary: r.temporary,
  expiresAt: r.expires_at,
  changedAt: r.changed_at,
});

@Injectable()
export class CredentialRepository {
  constructor(private readonly dataSource: DataSource) {}

  async find(tenantId: string, userId: string): Promise<Credential | null> {
    const rows = await runSql<Row>(
      this.dataSource,
      undefined,
      'SELECT tenant_id, user_id, password_hash, temporary, expires_at, changed_at FROM credentials WHERE tenant_id = $1 AND user_id = $2',
      [tenantId, userId],
    );
    return rows[0] ? toDomain(rows[0]) : null;
  }

  async upsert(tx: Tx, c: Credential): Promise<void> {
    await runSql(
      this.dataSource,
      tx,
      `INSERT INTO credentials (tenant_id, user_id, password_hash, temporary, expires_at, changed_at)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (tenant_id, user_id) DO UPDATE
         SET password_hash = EXCLUDED.password_hash, temporary = EXCLUDED.temporary,
             expires_at = EXCLUDED.expires_at, changed_at = EXCLUDED.changed_at`,
      [c.tenantId, c.userId, c.passwordHash, c.temporary, c.expiresAt, c.changedAt],
    );
  }

  /** Replaces only the hash (parameter upgrade at sign-in); nothing else about the password changes. */
  async rehash(tenantId: string, userId: string, oldHash: string, newHash: string): Promise<void> {
    await runSql(this.dataSource, undefined, 'UPDATE credentials SET password_hash = $4 WHERE tenant_id = $1 AND user_id = $2 AND password_hash = $3', [
      tenantId,
      userId,
      oldHash,
      newHash,
    ]);
  }
}
