import type { MigrationInterface, QueryRunner } from 'typeorm';
import { createInboxTable, createOutboxTable, dropInboxTable, dropOutboxTable } from '@musubi/platform/db';

export class Init1795305600000 implements MigrationInterface {
  name = 'Init1795305600000';

  async up(q: QueryRunner): Promise<void> {
    // One password per user. `temporary` passwords must be changed at first sign-in and expire.
    await q.query(`
      CREATE TABLE authn.credentials (
        tenant_id     uuid        NOT NULL,
        user_id       uuid        NOT NULL,
        password_hash text        NOT NULL,
        temporary     boolean     NOT NULL,
        expires_at    timestamptz,
        changed_at    timestamptz NOT NULL,
        PRIMARY KEY (tenant_id, user_id),
        CHECK (NOT temporary OR expires_at IS NOT NULL)
      )`);
    await createOutboxTable(q, 'authn');
    await createInboxTable(q, 'authn');
  }

  async down(q: QueryRunner): Promise<void> {
    await dropInboxTable(q, 'authn');
    await dropOutboxTable(q, 'authn');
    await q.query('DROP TABLE authn.credentials');
  }
}
