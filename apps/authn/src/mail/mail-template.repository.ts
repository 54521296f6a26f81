import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { MailKind, MailLang } from '@musubi/contracts';
import { runSql, type Tx } from '@musubi/platform/db';
import type { Template } from './default-templates.js';

@Injectable()
export class MailTemplateRepository {
  constructor(private readonly dataSource: DataSource) {}

  async list(tenantId: string): Promise<Array<{ kind: MailKind; lang: MailLang } & Template>> {
    return runSql<{ kind: MailKind; lang: MailLang; subject: string; body: string }>(
      this.dataSource,
      undefined,
      'SELECT kind, lang, subject, body FROM mail_templates WHERE tenant_id = $1',
      [tenantId],
    );
  }

  async find(tenantId: string, kind: MailKind, lang: MailLang): Promise<Template | null> {
    const rows = await runSql<Template>(this.dataSource, undefined, 'SELECT subject, body FROM mail_templates WHERE tenant_id = $1 AND kind = $2 AND lang = $3', [tenantId, kind, lang]);
    return rows[0] ?? null;
  }

  async put(tx: Tx, tenantId: string, kind: MailKind, lang: MailLang, t: Template): Promise<void> {
    await runSql(
      this.dataSource,
      tx,
      `INSERT INTO mail_templates (tenant_id, kind, lang, subject, body, updated_at) VALUES ($1, $2, $3, $4, $5, now())
       ON CONFLICT (tenant_id, kind, lang) DO UPDATE SET subject = EXCLUDED.subject, body = EXCLUDED.body, updated_at = now()`,
      [tenantId, kind, lang, t.subject, t.body],
    );
  }

  async remove(tx: Tx, tenantId: string, kind: MailKind, lang: MailLang): Promise<void> {
    await runSql(this.dataSource, tx, 'DELETE FROM mail_templates WHERE tenant_id = $1 AND kind = $2 AND lang = $3', [tenantId, kind, lang]);
  }
}
