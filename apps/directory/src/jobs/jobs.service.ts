import { Injectable } from '@nestjs/common';
import type { CallContext, ExportEncoding, JobKind, JobView, Permission, ReplyOf, RequestOf } from '@musubi/contracts';
import { authorize } from '@musubi/platform/authz';
import { decodeCursor, encodeCursor } from '@musubi/platform/db';
import { DomainError, validationError } from '@musubi/platform/errors';
import { TenantRepository } from '../tenants/tenant.repository.js';
import { contentTypeOf } from './csv/codec.js';
import { openCsv, UnreadableFile } from './import-reader.js';
import { JobFiles } from './job-files.js';
import { JobRepository } from './job.repository.js';
import { NO_COUNTS, isImport, type Job } from './job.js';
import { JobKinds } from './kinds.js';
import { JobRunner } from './job-runner.js';

/** What each kind of job needs of the caller. */
const PERMISSION: Record<JobKind, Permission> = {
  import_users: 'users:write',
  export_users: 'users:read',
  import_groups: 'groups:write',
  import_group_members: 'groups:write',
  export_groups: 'groups:read',
  export_group_members: 'groups:read',
};

const PREVIEW_ROWS = 10;

export function jobView(j: Job, firstErrors: JobView['errors'] = []): JobView {
  return {
    id: j.id,
    tenantId: j.tenantId,
    kind: j.kind,
    status: j.status,
    encoding: j.encoding,
    fileName: j.fileName,
    fileBytes: j.fileBytes,
    progress: { done: j.done, total: j.total },
    counts: j.counts,
    errorCount: j.errorCount,
    errors: firstErrors,
    failure: j.failure,
    resultAvailable: j.resultObject !== null,
    createdBy: j.createdBy,
    createdAt: j.createdAt.toISOString(),
    startedAt: j.startedAt?.toISOString() ?? null,
    finishedAt: j.finishedAt?.toISOString() ?? null,
  };
}

@Injectable()
export class JobsService {
  constructor(
    private readonly jobs: JobRepository,
    private readonly kinds: JobKinds,
    private readonly files: JobFiles,
    private readonly tenants: TenantRepository,
    private readonly runner: JobRunner,
  ) {}

  private async activeTenant(tenantId: string) {
    const tenant = await this.tenants.findById(tenantId);
    if (!tenant) throw new DomainError('not_found', 'No such tenant.');
    if (tenant.status !== 'active') throw new DomainError('conflict', `The tenant is ${tenant.status}.`);
    return tenant;
  }

  private async queue(job: Job): Promise<JobView> {
    try {
      await this.jobs.insert(job);
    } catch (err) {
      if ((err as { code?: string }).code === '23505') throw new DomainError('conflict', 'A job with this id exists already.');
      throw err;
    }
    this.runner.kick();
    return jobView(job);
  }

  async import(req: RequestOf<'musubi.directory.job.import.v1'>, ctx: CallContext): Promise<JobView> {
    authorize(ctx, req.tenantId, PERMISSION[req.kind]);
    if (!isImport(req.kind)) throw validationError([{ pointer: '/kind', detail: 'must be an import kind' }]);
    if (!this.kinds.importer(req.kind)) throw validationError([{ pointer: '/kind', detail: `imports of ${req.kind} are not available` }]);
    await this.activeTenant(req.tenantId);
    if (!req.file.object.startsWith(`${req.tenantId}/`)) throw new DomainError('forbidden', 'The file belongs to another tenant.');
    if (!(await (await this.files.uploads()).info(req.file.object))) throw new DomainError('not_found', 'The uploaded file is not there (any more).');
    return this.queue({
      id: req.jobId,
      tenantId: req.tenantId,
      kind: req.kind,
      status: 'queued',
      encoding: req.encoding,
      fileObject: req.file.object,
      fileName: req.file.name,
      fileBytes: req.file.bytes,
      resultObject: null,
      done: 0,
      total: null,
      counts: NO_COUNTS,
      errorCount: 0,
      failure: null,
      attempts: 0,
      createdBy: ctx.caller,
      requestId: ctx.requestId,
      createdAt: new Date(),
      startedAt: null,
      finishedAt: null,
    });
  }

  async export(req: RequestOf<'musubi.directory.job.export.v1'>, ctx: CallContext): Promise<JobView> {
    authorize(ctx, req.tenantId, PERMISSION[req.kind]);
    if (isImport(req.kind)) throw validationError([{ pointer: '/kind', detail: 'must be an export kind' }]);
    if (!this.kinds.exporter(req.kind)) throw validationError([{ pointer: '/kind', detail: `exports of ${req.kind} are not available` }]);
    await this.activeTenant(req.tenantId);
    return this.queue({
      id: req.jobId,
      tenantId: req.tenantId,
      kind: req.kind,
      status: 'queued',
      encoding: req.encoding,
      fileObject: null,
      fileName: null,
      fileBytes: null,
      resultObject: null,
      done: 0,
      total: null,
      counts: NO_COUNTS,
      errorCount: 0,
      failure: null,
      attempts: 0,
      createdBy: ctx.caller,
      requestId: ctx.requestId,
      createdAt: new Date(),
      startedAt: null,
      finishedAt: null,
    });
  }

  /** The header and first rows as an import would read them; unknown columns are listed, not refused. */
  async preview(req: RequestOf<'musubi.directory.job.preview.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.directory.job.preview.v1'>> {
    authorize(ctx, req.tenantId, PERMISSION[req.kind]);
    const importer = isImport(req.kind) ? this.kinds.importer(req.kind) : undefined;
    if (!importer) throw validationError([{ pointer: '/kind', detail: `imports of ${req.kind} are not available` }]);
    if (!req.file.object.startsWith(`${req.tenantId}/`)) throw new DomainError('forbidden', 'The file belongs to another tenant.');
    const uploads = await this.files.uploads();
    const read = async (forced?: 'utf-8' | 'shift_jis') => {
      const source = (await uploads.get(req.file.object)) as AsyncIterable<Buffer> | null;
      if (!source) throw new DomainError('not_found', 'The uploaded file is not there (any more).');
      const csv = await openCsv(source, req.encoding, importer.columns, forced, true);
      const rows: Array<Record<string, string>> = [];
      // Keyed by the file's own header names, as the administrator wrote them.
      for await (const r of csv.rows) {
        rows.push(Object.fromEntries(csv.header.map((h, i) => [h, r.cells[i] ?? ''])));
        if (rows.length >= PREVIEW_ROWS) break;
      }
      return { encoding: csv.encoding, columns: [...csv.header], unknownColumns: [...csv.unknown], rows };
    };
    try {
      return await read();
    } catch (err) {
      if (!(err instanceof UnreadableFile)) throw err;
      if (err.wrongEncoding && req.encoding === 'auto') {
        try {
          return await read('shift_jis');
        } catch (again) {
          if (again instanceof UnreadableFile) throw validationError([{ pointer: '', detail: again.message }], again.message);
          throw again;
        }
      }
      throw validationError([{ pointer: '', detail: err.message }], err.message);
    }
  }

  async get(req: RequestOf<'musubi.directory.job.get.v1'>, ctx: CallContext): Promise<JobView> {
    authorize(ctx, req.tenantId, 'jobs:read');
    const job = await this.jobs.find(req.tenantId, req.jobId);
    if (!job) throw new DomainError('not_found', 'No such job.');
    const first = await this.jobs.errors(job.id, null, 100);
    return jobView(job, first.items.map(({ row, column, message }) => ({ row, column, message })));
  }

  async list(req: RequestOf<'musubi.directory.job.list.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.directory.job.list.v1'>> {
    authorize(ctx, req.tenantId, 'jobs:read');
    const before = decodeCursor(req.cursor, { at: 'timestamp', id: 'uuid' });
    const page = await this.jobs.list(req.tenantId, before, req.limit ?? 50);
    const last = page.items[page.items.length - 1];
    return { items: page.items.map((j) => jobView(j)), nextCursor: page.hasMore && last ? encodeCursor({ at: last.createdAt.toISOString(), id: last.id }) : null };
  }

  async errors(req: RequestOf<'musubi.directory.job.errors.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.directory.job.errors.v1'>> {
    authorize(ctx, req.tenantId, 'jobs:read');
    const job = await this.jobs.find(req.tenantId, req.jobId);
    if (!job) throw new DomainError('not_found', 'No such job.');
    let after: number | null = null;
    if (req.cursor !== undefined) {
      after = Number(Buffer.from(req.cursor, 'base64url').toString());
      if (!Number.isInteger(after) || after < 0) throw validationError([{ pointer: '/cursor', detail: 'is not a cursor from a previous page' }]);
    }
    const page = await this.jobs.errors(job.id, after, req.limit ?? 100);
    const last = page.items[page.items.length - 1];
    return {
      items: page.items.map(({ row, column, message }) => ({ row, column, message })),
      nextCursor: page.hasMore && last ? Buffer.from(String(last.seq)).toString('base64url') : null,
    };
  }

  /** Where an export's file is, for the gateway to serve: the job's read permission and the kind's are both needed. */
  async result(req: RequestOf<'musubi.directory.job.result.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.directory.job.result.v1'>> {
    authorize(ctx, req.tenantId, 'jobs:read');
    const job = await this.jobs.find(req.tenantId, req.jobId);
    if (!job) throw new DomainError('not_found', 'No such job.');
    authorize(ctx, req.tenantId, PERMISSION[job.kind]);
    if (!job.resultObject) throw new DomainError('not_found', 'This job has no file to download (yet).');
    return {
      object: job.resultObject,
      contentType: contentTypeOf((job.encoding ?? 'utf-8-bom') as ExportEncoding),
      fileName: `${job.kind.replace('export_', '')}-${job.createdAt.toISOString().slice(0, 10)}.csv`,
    };
  }
}
