import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Init1795305600000 implements MigrationInterface {
  name = 'Init1795305600000';

  async up(q: QueryRunner): Promise<void> {
    // `id` is the event id: a redelivered event hits the primary key and is not stored twice.
    await q.query(`
      CREATE TABLE audit.events (
        id          uuid        PRIMARY KEY,
        tenant_id   uuid,
        subject     text        NOT NULL,
        occurred_at timestamptz NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        request_id  text,
        actor       jsonb       NOT NULL,
        payload     jsonb       NOT NULL
      )`);
    await q.query('CREATE INDEX events_tenant_time ON audit.events (tenant_id, occurred_at DESC, id DESC)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE audit.events');
  }
}
