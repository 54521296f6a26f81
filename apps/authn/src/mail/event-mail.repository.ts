import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { MailKind } from '@musubi/contracts';
import { runSql, type Tx } from '@musubi/platform/db';

/** Which mails an event already caused, so a redelivered event mails nobody twice. */
@Injectable()
export class EventMailRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** True when this event had not claimed this kind of mail yet (and now has). */
  async claim(tx: Tx, eventId: string, kind: MailKind, tenantId: string, userId: string): Promise<boolean> {
    const rows = await runSql<{ event_id: string }>(
      this.dataSource,
      tx,
      'INSERT INTO event_mails (event_id, kind, tenant_id, user_id, sent_at) VALUES ($1, $2, $3, $4, now()) ON CONFLICT DO NOTHING RETURNING event_id',
      [eventId, kind, tenantId, userId],
    );
    return rows.length > 0;
  }

  /** Whether the user is new to passwords: never had one of their own, and no "account issued" mail went to them yet. */
  async accountIsNew(tx: Tx, tenantId: string, userId: string): Promise<boolean> {
    const rows = await runSql<{ seen: boolean }>(
      this.dataSource,
      tx,
      `SELECT EXISTS (SELECT 1 FROM password_history WHERE tenant_id = $1 AND user_id = $2)
           OR EXISTS (SELECT 1 FROM credentials WHERE tenant_id = $1 AND user_id = $2 AND NOT temporary)
           OR EXISTS (SELECT 1 FROM event_mails WHERE tenant_id = $1 AND user_id = $2 AND kind = 'account_issued') AS seen`,
      [tenantId, userId],
    );
    return rows[0]?.seen === false;
  }
}
