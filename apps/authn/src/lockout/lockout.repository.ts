import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { runSql, type Tx } from '@musubi/platform/db';

export interface LockoutState {
  readonly failures: number;
  readonly lockedUntil: Date | null;
}

/** Lockout counters in Postgres: the source of truth (a Redis flush unlocks nobody). */
@Injectable()
export class LockoutRepository {
  constructor(private readonly dataSource: DataSource) {}

  async find(tenantId: string, userId: string, tx?: Tx, forUpdate = false): Promise<LockoutState | null> {
    const rows = await runSql<{ failures: number; locked_until: Date | null }>(
      this.dataSource,
      tx,
      `SELECT failures, locked_until FROM lockouts WHERE tenant_id = $1 AND user_id = $2${forUpdate ? ' FOR UPDATE' : ''}`,
      [tenantId, userId],
    );
    const r = rows[0];
    return r ? { failures: r.failures, lockedUntil: r.locked_until } : null;
  }

  async save(tx: Tx, tenantId: string, userId: string, s: LockoutState): Promise<void> {
    await runSql(
      this.dataSource,
      tx,
      `INSERT INTO lockouts (tenant_id, user_id, failures, locked_until, last_failure_at) VALUES ($1, $2, $3, $4, now())
       ON CONFLICT (tenant_id, user_id) DO UPDATE SET failures = EXCLUDED.failures, locked_until = EXCLUDED.locked_until, last_failure_at = now()`,
      [tenantId, userId, s.failures, s.lockedUntil],
    );
  }

  async clear(tenantId: string, userId: string, tx?: Tx): Promise<boolean> {
    const rows = await runSql<{ user_id: string }>(this.dataSource, tx, 'DELETE FROM lockouts WHERE tenant_id = $1 AND user_id = $2 RETURNING user_id', [tenantId, userId]);
    return rows.length > 0;
  }
}
