import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Bulk CSV jobs and their errors by row. */
export class Jobs1795392000004 implements MigrationInterface {
  name = 'Jobs1795392000004';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE directory.jobs (
        id            uuid        PRIMARY KEY,
        tenant_id     uuid        NOT NULL REFERENCES directory.tenants (id),
        kind          text        NOT NULL,
        status        text        NOT NULL CHECK (status IN ('queued', 'validating', 'applying', 'exporting', 'succeeded', 'failed')),
        encoding      text,
        file_object   text,
        file_name     text,
        file_bytes    bigint,
        result_object text,
        done          integer     NOT NULL DEFAULT 0,
        total         integer,
        counts        jsonb       NOT NULL DEFAULT '{"rows":0,"created":0,"updated":0,"deleted":0,"unchanged":0,"exported":0}',
        error_count   integer     NOT NULL DEFAULT 0,
        failure       text,
        attempts      integer     NOT NULL DEFAULT 0,
        created_by    jsonb       NOT NULL,
        request_id    text,
        created_at    timestamptz NOT NULL,
        started_at    timestamptz,
        heartbeat_at  timestamptz,
        finished_at   timestamptz
      )`);
    await q.query('CREATE INDEX jobs_tenant_created ON directory.jobs (tenant_id, created_at DESC, id DESC)');
    // The runner's queue: queued jobs, and running ones whose runner went silent.
    await q.query("CREATE INDEX jobs_pending ON directory.jobs (created_at) WHERE status IN ('queued', 'validating', 'applying', 'exporting')");
    await q.query(`
      CREATE TABLE directory.job_errors (
        job_id  uuid    NOT NULL REFERENCES directory.jobs (id) ON DELETE CASCADE,
        seq     integer NOT NULL,
        row     integer NOT NULL,
        col     text,
        message text    NOT NULL,
        PRIMARY KEY (job_id, seq)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE directory.job_errors');
    await q.query('DROP TABLE directory.jobs');
  }
}
