import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Caller, JobCounts, JobError, JobKind } from '@musubi/contracts';
import { runSql, type Tx } from '@musubi/platform/db';
import type { Job, JobStatus } from './job.js';

interface Row {
  id: string;
  tenant_id: string;
  kind: JobKind;
  status: JobStatus;
  encoding: string | null;
  file_object: string | null;
  file_name: string | null;
  file_bytes: string | null;
  result_object: string | null;
  done: number;
  total: number | null;
  counts: JobCounts;
  error_count: number;
  failure: string | null;
  attempts: number;
  created_by: Caller;
  request_id: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

const COLUMNS =
  'id, tenant_id, kind, status, encoding, file_object, file_name, file_bytes, result_object, done, total, counts, error_count, failure, attempts, created_by, request_id, created_at, started_at, finished_at';

const toDomain = (r: Row): Job => ({
  id: r.id,
  tenantId: r.tenant_id,
  kind: r.kind,
  status: r.status,
  encoding: r.encoding,
  fileObject: r.file_object,
  fileName: r.file_name,
  fileBytes: r.file_bytes === null ? null : Number(r.file_bytes),
  resultObject: r.result_object,
  done: r.done,
  total: r.total,
  counts: r.counts,
  errorCount: r.error_count,
  failure: r.failure,
  attempts: r.attempts,
  createdBy: r.created_by,
  requestId: r.request_id,
  createdAt: r.created_at,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
});

/** A runner that has not signalled life for this long is presumed dead; its job is taken over. */
export const STALE_AFTER_SECONDS = 120;

@Injectable()
export class JobRepository {
  constructor(private readonly dataSource: DataSource) {}

  async insert(job: Job): Promise<void> {
    await runSql(
      this.dataSource,
      undefined,
      `INSERT INTO jobs (id, tenant_id, kind, status, encoding, file_object, file_name, file_bytes, created_by, request_id, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [job.id, job.tenantId, job.kind, job.status, job.encoding, job.fileObject, job.fileName, job.fileBytes, JSON.stringify(job.createdBy), job.requestId, job.createdAt],
    );
  }

  async find(tenantId: string, id: string): Promise<Job | null> {
    const rows = await runSql<Row>(this.dataSource, undefined, `SELECT ${COLUMNS} FROM jobs WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
    return rows[0] ? toDomain(rows[0]) : null;
  }

  /** Newest first, keyset on (created_at, id). */
  async list(tenantId: string, before: { at: string; id: string } | null, limit: number): Promise<{ items: Job[]; hasMore: boolean }> {
    const rows = before
      ? await runSql<Row>(
          this.dataSource,
          undefined,
          `SELECT ${COLUMNS} FROM jobs WHERE tenant_id = $1 AND (created_at, id) < ($2::timestamptz, $3::uuid) ORDER BY created_at DESC, id DESC LIMIT $4`,
          [tenantId, before.at, before.id, limit + 1],
        )
      : await runSql<Row>(this.dataSource, undefined, `SELECT ${COLUMNS} FROM jobs WHERE tenant_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`, [tenantId, limit + 1]);
    return { items: rows.slice(0, limit).map(toDomain), hasMore: rows.length > limit };
  }

  /**
   * Takes the oldest job waiting to run, or one whose runner went silent (a
   * crashed replica: an import applies in one transaction, so nothing of it was
   * written and it can run again from the start). Safe with several replicas.
   */
  async claim(maxAttempts: number): Promise<Job | null> {
    const rows = await runSql<Row>(
      this.dataSource,
      undefined,
      `UPDATE jobs SET status = CASE WHEN kind LIKE 'import_%' THEN 'validating' ELSE 'exporting' END,
              started_at = coalesce(started_at, now()), heartbeat_at = now(), attempts = attempts + 1, done = 0
       WHERE id = (
         SELECT id FROM jobs
         WHERE status = 'queued'
            OR (status IN ('validating', 'applying', 'exporting') AND heartbeat_at < now() - make_interval(secs => $1))
         ORDER BY created_at
         FOR UPDATE SKIP LOCKED
         LIMIT 1)
       RETURNING ${COLUMNS}`,
      [STALE_AFTER_SECONDS],
    );
    const job = rows[0] ? toDomain(rows[0]) : null;
    if (job && job.attempts > maxAttempts) {
      await this.finish(job.id, 'failed', job.counts, `The job was interrupted ${maxAttempts} times; nothing was imported.`);
      return null;
    }
    return job;
  }

  /** Progress and a sign of life, on its own connection (outside the import's transaction). */
  async progress(id: string, status: JobStatus, done: number, total: number | null): Promise<void> {
    await runSql(this.dataSource, undefined, 'UPDATE jobs SET status = $2, done = $3, total = $4, heartbeat_at = now() WHERE id = $1', [id, status, done, total]);
  }

  async setEncoding(id: string, encoding: string): Promise<void> {
    await runSql(this.dataSource, undefined, 'UPDATE jobs SET encoding = $2 WHERE id = $1', [id, encoding]);
  }

  async finish(id: string, status: 'succeeded' | 'failed', counts: JobCounts, failure: string | null, resultObject: string | null = null, tx?: Tx): Promise<Job> {
    const rows = await runSql<Row>(
      this.dataSource,
      tx,
      `UPDATE jobs SET status = $2, counts = $3, failure = $4, result_object = $5, finished_at = now(), heartbeat_at = now()
       WHERE id = $1 RETURNING ${COLUMNS}`,
      [id, status, JSON.stringify(counts), failure, resultObject],
    );
    if (!rows[0]) throw new Error(`job ${id} vanished`);
    return toDomain(rows[0]);
  }

  /** Stores a job's errors (replacing any from an earlier attempt). */
  async saveErrors(id: string, errors: readonly JobError[], total: number): Promise<void> {
    await runSql(this.dataSource, undefined, 'DELETE FROM job_errors WHERE job_id = $1', [id]);
    for (let i = 0; i < errors.length; i += 1000) {
      const chunk = errors.slice(i, i + 1000);
      await runSql(
        this.dataSource,
        undefined,
        `INSERT INTO job_errors (job_id, seq, row, col, message)
         SELECT $1, * FROM unnest($2::int[], $3::int[], $4::text[], $5::text[])`,
        [id, chunk.map((_, j) => i + j), chunk.map((e) => e.row), chunk.map((e) => e.column), chunk.map((e) => e.message)],
      );
    }
    await runSql(this.dataSource, undefined, 'UPDATE jobs SET error_count = $2 WHERE id = $1', [id, total]);
  }

  async errors(id: string, afterSeq: number | null, limit: number): Promise<{ items: Array<JobError & { seq: number }>; hasMore: boolean }> {
    const rows = await runSql<{ seq: number; row: number; col: string | null; message: string }>(
      this.dataSource,
      undefined,
      'SELECT seq, row, col, message FROM job_errors WHERE job_id = $1 AND seq > $2 ORDER BY seq LIMIT $3',
      [id, afterSeq ?? -1, limit + 1],
    );
    return { items: rows.slice(0, limit).map((r) => ({ seq: r.seq, row: r.row, column: r.col, message: r.message })), hasMore: rows.length > limit };
  }
}
