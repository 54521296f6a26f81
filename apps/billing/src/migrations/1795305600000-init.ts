import type { MigrationInterface, QueryRunner } from 'typeorm';
import { createInboxTable, createOutboxTable, dropInboxTable, dropOutboxTable } from '@musubi/platform/db';

/** The billing schema starts with its event plumbing: the outbox it emits through and the inbox of events it consumed. */
export class Init1795305600000 implements MigrationInterface {
  name = 'Init1795305600000';

  async up(q: QueryRunner): Promise<void> {
    await createOutboxTable(q, 'billing');
    await createInboxTable(q, 'billing');
  }

  async down(q: QueryRunner): Promise<void> {
    await dropInboxTable(q, 'billing');
    await dropOutboxTable(q, 'billing');
  }
}
