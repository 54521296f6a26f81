import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { stringify } from 'csv-stringify/sync';
import type { CallContext, CsvEncoding, ExportEncoding, JobCounts, JobError } from '@musubi/contracts';
import { OutboxWriter } from '@musubi/platform/bus';
import { UnitOfWork, type Tx } from '@musubi/platform/db';
import { DomainError } from '@musubi/platform/errors';
import { runWithContext, type Logger } from '@musubi/platform/logging';
import { LOGGER } from '@musubi/platform/runtime';
import { TenantRepository } from '../tenants/tenant.repository.js';
import type { Tenant } from '../tenants/tenant.js';
import { encode } from './csv/codec.js';
import { openCsv, UnreadableFile } from './import-reader.js';
import { JobFiles, MAX_EXPORT_BYTES } from './job-files.js';
import { JobRepository } from './job.repository.js';
import { NO_COUNTS, isImport, type Job } from './job.js';
import { JobKinds } from './kinds.js';

const POLL_MS = 1000;
const PROGRESS_EVERY_ROWS = 500;
/** Errors kept per job (the count goes on); 10,000 are more than anyone reads. */
const MAX_KEPT_ERRORS = 10_000;
const MAX_ATTEMPTS = 3;

/**
 * Runs bulk jobs one at a time per replica. An import is read twice: the first
 * pass checks every row and field and applies nothing; only a file without a
 * single problem is applied, in one transaction, on the second pass's data.
 */
@Injectable()
export class JobRunner implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly jobs: JobRepository,
    private readonly kinds: JobKinds,
    private readonly files: JobFiles,
    private readonly tenants: TenantRepository,
    private readonly uow: UnitOfWork,
    private readonly outbox: OutboxWriter,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.running = true;
    this.loop = this.run();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  /** A job was queued here: look now rather than at the next poll. */
  kick(): void {
    this.wake?.();
  }

  private idle(): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, POLL_MS);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  private async run(): Promise<void> {
    while (this.running) {
      let job: Job | null = null;
      try {
        job = await this.jobs.claim(MAX_ATTEMPTS);
      } catch (err) {
        this.logger.warn({ err: (err as Error).message }, 'could not look for jobs');
      }
      if (!job) {
        await this.idle();
        continue;
      }
      const ctx: CallContext = { requestId: job.requestId ?? job.id, tenantId: job.tenantId, caller: job.createdBy };
      await runWithContext(ctx, () => this.execute(job, ctx));
    }
  }

  private async execute(job: Job, ctx: CallContext): Promise<void> {
    const heartbeat = setInterval(() => void this.jobs.progress(job.id, job.status, job.done, job.total).catch(() => undefined), 20_000);
    try {
      const tenant = await this.tenants.findById(job.tenantId);
      if (!tenant) throw new Error('tenant vanished');
      if (job.attempts === 1) {
        await this.uow.run((tx) =>
          this.outbox.append(tx, 'musubi.directory.job.started.v1', { job: { id: job.id, kind: job.kind, fileName: job.fileName, fileBytes: job.fileBytes } }, { tenantId: job.tenantId, actor: job.createdBy }),
        );
      }
      if (isImport(job.kind)) await this.runImport(job, tenant, ctx);
      else await this.runExport(job, tenant);
    } catch (err) {
      this.logger.error({ err, jobId: job.id }, 'job failed unexpectedly');
      await this.complete(job.id, 'failed', NO_COUNTS, 'The job failed because of an internal error; nothing was imported.');
    } finally {
      clearInterval(heartbeat);
    }
  }

  /**
   * Records the outcome and its event together, in `tx` when given: a
   * successful import commits its data, its job status and its event at once,
   * so a crash can never leave an applied file looking unapplied.
   */
  private async complete(id: string, status: 'succeeded' | 'failed', counts: JobCounts, failure: string | null, resultObject: string | null = null, given?: Tx): Promise<Job> {
    const work = async (tx: Tx) => {
      const job = await this.jobs.finish(id, status, counts, failure, resultObject, tx);
      await this.outbox.append(
        tx,
        'musubi.directory.job.finished.v1',
        {
          job: {
            id: job.id,
            kind: job.kind,
            status: job.status,
            counts: job.counts,
            errorCount: job.errorCount,
            failure: job.failure,
            startedAt: job.startedAt?.toISOString() ?? null,
            finishedAt: job.finishedAt?.toISOString() ?? null,
          },
        },
        { tenantId: job.tenantId, actor: job.createdBy },
      );
      return job;
    };
    return given ? work(given) : this.uow.run(work);
  }

  private async openInput(job: Job): Promise<AsyncIterable<Buffer> | null> {
    if (!job.fileObject) return null;
    return (await (await this.files.uploads()).get(job.fileObject)) as AsyncIterable<Buffer> | null;
  }

  private async runImport(job: Job, tenant: Tenant, ctx: CallContext): Promise<Job> {
    const importer = this.kinds.importer(job.kind);
    if (!importer) return this.complete(job.id, 'failed', NO_COUNTS, `Imports of ${job.kind} are not available.`);
    const requested = (job.encoding ?? 'auto') as CsvEncoding;
    let forced: 'utf-8' | 'shift_jis' | undefined;
    for (;;) {
      const source = await this.openInput(job);
      if (!source) return this.complete(job.id, 'failed', NO_COUNTS, 'The uploaded file is no longer available; upload it again.');
      const session = await importer.begin(tenant, ctx);
      const errors: JobError[] = [];
      let errorCount = 0;
      const ops: unknown[] = [];
      let rows = 0;
      let encoding: string;
      try {
        const csv = await openCsv(source, requested, importer.columns, forced);
        encoding = csv.encoding;
        await this.jobs.setEncoding(job.id, encoding);
        for await (const r of csv.rows) {
          rows++;
          const checked = await session.check(r.values, r.row);
          if ('op' in checked) ops.push(checked.op);
          else {
            errorCount += checked.issues.length;
            for (const i of checked.issues) if (errors.length < MAX_KEPT_ERRORS) errors.push({ row: r.row, column: i.column, message: i.message });
          }
          if (rows % PROGRESS_EVERY_ROWS === 0) await this.jobs.progress(job.id, 'validating', rows, null);
        }
      } catch (err) {
        if (!(err instanceof UnreadableFile)) throw err;
        if (err.wrongEncoding && requested === 'auto' && !forced) {
          forced = 'shift_jis'; // not UTF-8 and no BOM: read it as Japanese Excel writes it
          continue;
        }
        await this.jobs.saveErrors(job.id, err.errors, err.errors.length);
        return this.complete(job.id, 'failed', { ...NO_COUNTS, rows }, `${err.errors[0]?.message ?? 'The file cannot be read.'} Nothing was imported.`);
      }
      for (const i of await session.finish()) {
        errorCount++;
        if (errors.length < MAX_KEPT_ERRORS) errors.push({ row: i.row, column: i.column, message: i.message });
      }
      if (rows === 0) return this.complete(job.id, 'failed', NO_COUNTS, 'The file has a header but no rows; nothing was imported.');
      if (errorCount > 0) {
        errors.sort((a, b) => a.row - b.row);
        await this.jobs.saveErrors(job.id, errors, errorCount);
        return this.complete(job.id, 'failed', { ...NO_COUNTS, rows }, `${errorCount} problem(s) in the file; nothing was imported.`);
      }
      await this.jobs.progress(job.id, 'applying', 0, ops.length);
      let applied: Job;
      try {
        applied = await this.uow.run(async (tx) => {
          const counts = await session.apply(tx, ops, (n) => this.jobs.progress(job.id, 'applying', n, ops.length));
          return this.complete(job.id, 'succeeded', { ...counts, rows, exported: 0 }, null, null, tx);
        });
      } catch (err) {
        // The directory changed between the check and the apply (a concurrent edit, the limit): nothing was written.
        if (!(err instanceof DomainError)) throw err;
        return this.complete(job.id, 'failed', { ...NO_COUNTS, rows }, `${err.message} Nothing was imported.`);
      }
      await (await this.files.uploads()).delete(job.fileObject ?? '');
      this.logger.info({ jobId: job.id, kind: job.kind, rows, encoding }, 'import applied');
      return applied;
    }
  }

  private async runExport(job: Job, tenant: Tenant): Promise<Job> {
    const exporter = this.kinds.exporter(job.kind);
    if (!exporter) return this.complete(job.id, 'failed', NO_COUNTS, `Exports of ${job.kind} are not available.`);
    let exported = 0;
    const jobs = this.jobs;
    const text = (async function* () {
      yield stringify([exporter.columns], { record_delimiter: 'windows' });
      for await (const row of exporter.rows(tenant)) {
        exported++;
        if (exported % PROGRESS_EVERY_ROWS === 0) await jobs.progress(job.id, 'exporting', exported, null);
        yield stringify([row], { record_delimiter: 'windows' });
      }
    })();
    const name = `${job.tenantId}/${job.id}/result.csv`;
    await (await this.files.exports()).put(name, encode(text, (job.encoding ?? 'utf-8-bom') as ExportEncoding), MAX_EXPORT_BYTES);
    const counts: JobCounts = { ...NO_COUNTS, exported };
    return this.complete(job.id, 'succeeded', counts, null, name);
  }
}
