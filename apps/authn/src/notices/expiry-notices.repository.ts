import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { runSql } from '@musubi/platform/db';

/** Claims what is due a notice (each row once, whichever replica gets it: SKIP LOCKED, then marked). */
@Injectable()
export class ExpiryNoticesRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Passwords that expire within 14 days under their tenant's policy and were not announced yet. */
  async claimPasswords(limit = 200): Promise<Array<{ tenantId: string; userId: string; expiresAt: Date }>> {
    const rows = await runSql<{ tenant_id: string; user_id: string; expires_at: Date }>(
      this.dataSource,
      undefined,
      `WITH due AS (
         SELECT c.tenant_id, c.user_id, c.changed_at + make_interval(days => p.password_expiry_days::int) AS expires_at
           FROM credentials c JOIN policies p ON p.tenant_id = c.tenant_id
          WHERE p.password_expiry_days IS NOT NULL AND NOT c.temporary
            AND c.expiry_warned_for IS DISTINCT FROM c.changed_at
            AND c.changed_at + make_interval(days => p.password_expiry_days::int) > now()
            AND c.changed_at + make_interval(days => p.password_expiry_days::int) <= now() + interval '14 days'
          LIMIT $1
          FOR UPDATE OF c SKIP LOCKED)
       UPDATE credentials c SET expiry_warned_for = c.changed_at FROM due
        WHERE c.tenant_id = due.tenant_id AND c.user_id = due.user_id
       RETURNING c.tenant_id, c.user_id, due.expires_at`,
      [limit],
    );
    return rows.map((r) => ({ tenantId: r.tenant_id, userId: r.user_id, expiresAt: r.expires_at }));
  }

  /**
   * API tokens living a day or more that expire within seven days (or within
   * half their life, if shorter), not revoked and not announced yet.
   */
  async claimTokens(limit = 200): Promise<Array<{ tenantId: string; userId: string; name: string; expiresAt: Date }>> {
    const rows = await runSql<{ tenant_id: string; created_by: string; name: string; expires_at: Date }>(
      this.dataSource,
      undefined,
      `WITH due AS (
         SELECT id FROM api_tokens
          WHERE revoked_at IS NULL AND warned_at IS NULL AND expires_at > now()
            AND expires_at - created_at >= interval '1 day'
            AND expires_at <= now() + LEAST(interval '7 days', (expires_at - created_at) / 2)
          LIMIT $1
          FOR UPDATE SKIP LOCKED)
       UPDATE api_tokens t SET warned_at = now() FROM due WHERE t.id = due.id
       RETURNING t.tenant_id, t.created_by, t.name, t.expires_at`,
      [limit],
    );
    return rows.map((r) => ({ tenantId: r.tenant_id, userId: r.created_by, name: r.name, expiresAt: r.expires_at }));
  }
}
