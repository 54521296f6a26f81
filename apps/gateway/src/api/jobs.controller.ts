import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { Body, Controller, Get, HttpCode, Inject, Injectable, Param, Post, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { NatsConnection } from '@nats-io/transport-node';
import { CsvEncoding, ExportEncoding, JOB_EXPORTS_BUCKET, JOB_UPLOADS_BUCKET, JobError, JobView, MAX_IMPORT_BYTES, Page, type CallContext, type JobKind, type JobView as JobViewT, type ReplyOf } from '@musubi/contracts';
import { BusClient, FileStore } from '@musubi/platform/bus';
import { DomainError } from '@musubi/platform/errors';
import { CONFIG, NATS } from '@musubi/platform/runtime';
import { Requires } from '../auth/auth.decorator.js';
import type { GatewayConfig } from '../config/env.schema.js';
import { Call } from '../http/request-context.js';
import { SchemaPipe } from '../http/schema.pipe.js';
import { ApiDoc } from '../openapi/api-doc.decorator.js';
import { QuerySchemaPipe } from './groups.controller.js';
import { UuidParam, pageQueryDoc, PageQuery, type PageParams } from './params.js';


/** What a URL calls a kind of data, and the job kinds for it. */
const DATA = Type.Union([Type.Literal('users'), Type.Literal('groups'), Type.Literal('group-members')], { description: 'users, groups or group-members' });
const IMPORT_KIND: Record<Static<typeof DATA>, JobKind> = { users: 'import_users', groups: 'import_groups', 'group-members': 'import_group_members' };
const EXPORT_KIND: Record<Static<typeof DATA>, JobKind> = { users: 'export_users', groups: 'export_groups', 'group-members': 'export_group_members' };

const UploadQuery = Type.Object(
  {
    kind: DATA,
    encoding: Type.Optional(CsvEncoding),
    fileName: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
  },
  { additionalProperties: false },
);
const uploadQueryDoc = {
  kind: { schema: DATA, description: 'What the file holds: users, groups or group-members (required)' },
  encoding: { schema: CsvEncoding, description: 'auto (default: UTF-8 with or without BOM, else Shift_JIS), utf-8 or shift_jis' },
  fileName: { schema: Type.String({ maxLength: 255 }), description: 'The file name to show in the job history' },
};

const ExportBody = Type.Object({ kind: DATA, encoding: Type.Optional(ExportEncoding) }, { additionalProperties: false });
type ExportBody = Static<typeof ExportBody>;

const PreviewView = Type.Object(
  {
    encoding: Type.String(),
    columns: Type.Array(Type.String()),
    unknownColumns: Type.Array(Type.String()),
    rows: Type.Array(Type.Record(Type.String(), Type.String())),
  },
  { additionalProperties: false },
);

/** The two job file buckets, each opened once, on first use (the directory creates its exports bucket with its first export). */
@Injectable()
export class JobFileStores {
  private uploadsStore: Promise<FileStore> | undefined;
  private exportsStore: Promise<FileStore> | undefined;

  constructor(
    @Inject(NATS) private readonly nc: NatsConnection,
    @Inject(CONFIG) private readonly config: GatewayConfig,
  ) {}

  uploads(): Promise<FileStore> {
    this.uploadsStore ??= this.open(JOB_UPLOADS_BUCKET, 24, true, () => (this.uploadsStore = undefined));
    return this.uploadsStore;
  }

  exports(): Promise<FileStore> {
    this.exportsStore ??= this.open(JOB_EXPORTS_BUCKET, 24 * 7, false, () => (this.exportsStore = undefined));
    return this.exportsStore;
  }

  /** A failed open is forgotten, so the next call tries again. */
  private open(bucket: string, ttlHours: number, create: boolean, forget: () => void): Promise<FileStore> {
    const store = FileStore.open(this.nc, { bucket, replicas: this.config.JETSTREAM_REPLICAS, ttlHours }, create);
    store.catch(forget);
    return store;
  }
}

/**
 * /api/v1/tenants/{tenantId}/jobs: bulk CSV imports and exports of users,
 * groups and group members, run as jobs by the directory. An import's file is
 * the request body (text/csv, up to 50 MB), streamed into the uploads bucket.
 */
@Controller('api/v1/tenants/:tenantId/jobs')
export class JobsController {
  constructor(
    private readonly bus: BusClient,
    private readonly files: JobFileStores,
  ) {}

  /** Streams the body into the uploads bucket; refuses what is not CSV, and what is too large, before and while reading. */
  private async receive(req: FastifyRequest, tenantId: string): Promise<{ object: string; bytes: number }> {
    const body = req.body as Readable | undefined;
    if (!body || typeof (body as Partial<Readable>).pipe !== 'function') {
      throw new DomainError('unsupported_media_type', 'Send the CSV file as the request body, with Content-Type: text/csv.');
    }
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > MAX_IMPORT_BYTES) {
      body.resume();
      throw new DomainError('payload_too_large', `The file is larger than ${MAX_IMPORT_BYTES / 1_048_576} MB.`);
    }
    const object = `${tenantId}/${randomUUID()}/input`;
    try {
      const stored = await (await this.files.uploads()).put(object, body, MAX_IMPORT_BYTES);
      return { object, bytes: stored.bytes };
    } catch (err) {
      if (err instanceof DomainError && err.code === 'validation_failed') throw new DomainError('payload_too_large', err.message);
      throw err;
    }
  }

  @Post('imports')
  @HttpCode(202)
  @Requires('jobs:write')
  @ApiDoc({
    summary: 'Import users, groups or group members from a CSV file (the request body, text/csv, up to 50 MB), as a job',
    tag: 'Jobs',
    status: 202,
    upload: 'text/csv',
    query: uploadQueryDoc,
    response: JobView,
    errors: [409, 413],
  })
  async import(
    @Param('tenantId', new UuidParam()) tenantId: string,
    @Query(new QuerySchemaPipe(UploadQuery)) q: Static<typeof UploadQuery>,
    @Req() req: FastifyRequest,
    @Call() ctx: CallContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<JobViewT> {
    const kind = IMPORT_KIND[q.kind];
    const file = await this.receive(req, tenantId);
    const job = await this.bus.request(
      'musubi.directory.job.import.v1',
      { tenantId, jobId: randomUUID(), kind, file: { object: file.object, name: q.fileName ?? null, bytes: file.bytes }, encoding: q.encoding ?? 'auto' },
      { ...ctx, tenantId },
    );
    reply.header('location', `/api/v1/tenants/${tenantId}/jobs/${job.id}`);
    return job;
  }

  @Post('previews')
  @HttpCode(200)
  @Requires('jobs:write')
  @ApiDoc({
    summary: 'Preview a CSV file as an import would read it: the encoding, the header and the first 10 rows (nothing is imported)',
    tag: 'Jobs',
    status: 200,
    upload: 'text/csv',
    query: uploadQueryDoc,
    response: PreviewView,
    errors: [413],
  })
  async preview(
    @Param('tenantId', new UuidParam()) tenantId: string,
    @Query(new QuerySchemaPipe(UploadQuery)) q: Static<typeof UploadQuery>,
    @Req() req: FastifyRequest,
    @Call() ctx: CallContext,
  ): Promise<ReplyOf<'musubi.directory.job.preview.v1'>> {
    const file = await this.receive(req, tenantId);
    try {
      return await this.bus.request(
        'musubi.directory.job.preview.v1',
        { tenantId, kind: IMPORT_KIND[q.kind], file: { object: file.object, name: q.fileName ?? null, bytes: file.bytes }, encoding: q.encoding ?? 'auto' },
        { ...ctx, tenantId },
      );
    } finally {
      await (await this.files.uploads()).delete(file.object);
    }
  }

  @Post('exports')
  @HttpCode(202)
  @Requires('jobs:write')
  @ApiDoc({
    summary: 'Export users, groups or group members as CSV (UTF-8, UTF-8 with BOM (default) or Shift_JIS), as a job',
    tag: 'Jobs',
    status: 202,
    body: ExportBody,
    example: { kind: 'users', encoding: 'shift_jis' },
    response: JobView,
    errors: [409],
  })
  async export(
    @Param('tenantId', new UuidParam()) tenantId: string,
    @Body(new SchemaPipe(ExportBody)) body: ExportBody,
    @Call() ctx: CallContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<JobViewT> {
    const job = await this.bus.request(
      'musubi.directory.job.export.v1',
      { tenantId, jobId: randomUUID(), kind: EXPORT_KIND[body.kind], encoding: body.encoding ?? 'utf-8-bom' },
      { ...ctx, tenantId },
    );
    reply.header('location', `/api/v1/tenants/${tenantId}/jobs/${job.id}`);
    return job;
  }

  @Get()
  @Requires('jobs:read')
  @ApiDoc({ summary: "The tenant's job history, newest first", tag: 'Jobs', status: 200, query: pageQueryDoc, response: Page(JobView) })
  list(@Param('tenantId', new UuidParam()) tenantId: string, @Query(new PageQuery()) page: PageParams, @Call() ctx: CallContext): Promise<ReplyOf<'musubi.directory.job.list.v1'>> {
    return this.bus.request('musubi.directory.job.list.v1', { tenantId, ...page }, { ...ctx, tenantId });
  }

  @Get(':jobId')
  @Requires('jobs:read')
  @ApiDoc({ summary: 'A job: status, progress, counts, the first errors', tag: 'Jobs', status: 200, response: JobView })
  get(@Param('tenantId', new UuidParam()) tenantId: string, @Param('jobId', new UuidParam()) jobId: string, @Call() ctx: CallContext): Promise<JobViewT> {
    return this.bus.request('musubi.directory.job.get.v1', { tenantId, jobId }, { ...ctx, tenantId });
  }

  @Get(':jobId/errors')
  @Requires('jobs:read')
  @ApiDoc({ summary: "Every problem an import found, by row and column, a page at a time", tag: 'Jobs', status: 200, query: pageQueryDoc, response: Page(JobError) })
  errors(
    @Param('tenantId', new UuidParam()) tenantId: string,
    @Param('jobId', new UuidParam()) jobId: string,
    @Query(new PageQuery()) page: PageParams,
    @Call() ctx: CallContext,
  ): Promise<ReplyOf<'musubi.directory.job.errors.v1'>> {
    return this.bus.request('musubi.directory.job.errors.v1', { tenantId, jobId, ...page }, { ...ctx, tenantId });
  }

  @Get(':jobId/file')
  @Requires('jobs:read')
  @ApiDoc({ summary: "Download an export's CSV file", tag: 'Jobs', status: 200, response: null })
  async file(
    @Param('tenantId', new UuidParam()) tenantId: string,
    @Param('jobId', new UuidParam()) jobId: string,
    @Call() ctx: CallContext,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const where = await this.bus.request('musubi.directory.job.result.v1', { tenantId, jobId }, { ...ctx, tenantId });
    const stream = await (await this.files.exports()).get(where.object);
    if (!stream) throw new DomainError('not_found', 'The file has expired; export again.');
    // RFC 6266: an ASCII fallback and the UTF-8 name.
    const ascii = where.fileName.replace(/[^\x20-\x7e]|["\\]/g, '_');
    void reply
      .header('content-type', where.contentType)
      .header('content-disposition', `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(where.fileName)}`)
      .header('cache-control', 'no-store')
      .send(stream);
  }
}
