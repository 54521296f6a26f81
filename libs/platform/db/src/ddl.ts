import type { QueryRunner } from 'typeorm';

/**
 * Shared DDL every service's first migration uses. Each migration file calls these
 * itself, so the SQL a service's schema got is the SQL written in its own history.
 */
export async function createOutboxTable(q: QueryRunner, schema: string): Promise<void> {
  await q.query(`
    CREATE TABLE "${schema}".outbox (
      seq        bigserial   PRIMARY KEY,
      id         uuid        NOT NULL UNIQUE,
      subject    text        NOT NULL,
      envelope   jsonb       NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )`);
  await q.query(`
    CREATE FUNCTION "${schema}".outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pg_notify('${schema}_outbox', '');
      RETURN NULL;
    END $$`);
  await q.query(`
    CREATE TRIGGER outbox_notify AFTER INSERT ON "${schema}".outbox
    FOR EACH STATEMENT EXECUTE FUNCTION "${schema}".outbox_notify()`);
}

export async function dropOutboxTable(q: QueryRunner, schema: string): Promise<void> {
  await q.query(`DROP TABLE IF EXISTS "${schema}".outbox`);
  await q.query(`DROP FUNCTION IF EXISTS "${schema}".outbox_notify()`);
}

/** Event ids a consumer has already handled: the idempotency record for durable consumers. */
export async function createInboxTable(q: QueryRunner, schema: string): Promise<void> {
  await q.query(`
    CREATE TABLE "${schema}".inbox (
      consumer     text        NOT NULL,
      event_id     uuid        NOT NULL,
      processed_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (consumer, event_id)
    )`);
  await q.query(`CREATE INDEX inbox_processed_at ON "${schema}".inbox (processed_at)`);
}

export async function dropInboxTable(q: QueryRunner, schema: string): Promise<void> {
  await q.query(`DROP TABLE IF EXISTS "${schema}".inbox`);
}
