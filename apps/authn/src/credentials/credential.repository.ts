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

/** A credential with the account's lockout state, read together at sign-in (one round trip). */
export interface CredentialWithLockout extends Credential {
  readonly failures: number;
  readonly lockedUntil: Date | null;
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

/** The most earlier passwords any policy remembers. */
export const HISTORY_KEPT = 24;

@Injectable()
export class CredentialRepository {
  constructor(private readonly dataSource: DataSource) {}

  async find(tenantId: string, userId: string, tx?: Tx): Promise<Credential | null> {
    const rows = await runSql<Row>(
      this.dataSource,
      tx,
      'SELECT tenant_id, user_id, password_hash, temporary, expires_at, changed_at FROM credentials WHERE tenant_id = $1 AND user_id = $2',
      [tenantId, userId],
    );
    return rows[0] ? toDomain(rows[0]) : null;
  }

  async findForSignIn(tenantId: string, userId: string): Promise<CredentialWithLockout | null> {
    const rows = await runSql<Row & { failures: number | null; locked_until: Date | null }>(
      this.dataSource,
      undefined,
      `SELECT c.tenant_id, c.user_id, c.password_hash, c.temporary, c.expires_at, c.changed_at, l.failures, l.locked_until
         FROM credentials c LEFT JOIN lockouts l ON l.tenant_id = c.tenant_id AND l.user_id = c.user_id
        WHERE c.tenant_id = $1 AND c.user_id = $2`,
      [tenantId, userId],
    );
    const r = rows[0];
    return r ? { ...toDomain(r), failures: r.failures ?? 0, lockedUntil: r.locked_until } : null;
  }

  /** Sets a new password; the one it replaces (if any, and not a one-time password) goes to the history. */
  async replace(tx: Tx, c: Credential): Promise<void> {
    await runSql(
      this.dataSource,
      tx,
      `INSERT INTO password_history (tenant_id, user_id, password_hash, changed_at)
       SELECT tenant_id, user_id, password_hash, changed_at FROM credentials WHERE tenant_id = $1 AND user_id = $2 AND NOT temporary
       ON CONFLICT DO NOTHING`,
      [c.tenantId, c.userId],
    );
    await runSql(
      this.dataSource,
      tx,
      `DELETE FROM password_history WHERE tenant_id = $1 AND user_id = $2 AND changed_at NOT IN
         (SELECT changed_at FROM password_history WHERE tenant_id = $1 AND user_id = $2 ORDER BY changed_at DESC LIMIT ${HISTORY_KEPT})`,
      [c.tenantId, c.userId],
    );
    await this.upsert(tx, c);
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

  /** The hashes of the user's last `n` earlier passwords, newest first. */
  async history(tenantId: string, userId: string, n: number): Promise<string[]> {
    const rows = await runSql<{ password_hash: string }>(
      this.dataSource,
      undefined,
      'SELECT password_hash FROM password_history WHERE tenant_id = $1 AND user_id = $2 ORDER BY changed_at DESC LIMIT $3',
      [tenantId, userId, n],
    );
    return rows.map((r) => r.password_hash);
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
