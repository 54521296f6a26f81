import { Type, type Static } from '@sinclair/typebox';
import { Caller } from '../common/context.js';
import { Page, PageQuery, Timestamp, Uuid } from '../common/schemas.js';
import { event, rpc } from '../common/subject.js';

/** What a bulk job does. Imports read a CSV file; exports write one. */
export const JOB_KINDS = ['import_users', 'import_groups', 'import_group_members', 'export_users', 'export_groups', 'export_group_members'] as const;
export type JobKind = (typeof JOB_KINDS)[number];
export const JobKind = Type.Union(JOB_KINDS.map((k) => Type.Literal(k)));

export const JobStatus = Type.Union([
  Type.Literal('queued'),
  Type.Literal('validating'),
  Type.Literal('applying'),
  Type.Literal('exporting'),
  Type.Literal('succeeded'),
  Type.Literal('failed'),
]);

/**
 * Where job files live (JetStream object stores), named here because two
 * services meet in them: the gateway stores uploads (it owns that bucket) and
 * directory reads them; directory writes exports (it owns that one) and the
 * gateway serves them.
 */
export const JOB_UPLOADS_BUCKET = 'musubi-gateway-uploads';
export const JOB_EXPORTS_BUCKET = 'musubi-directory-exports';
/** The largest import file accepted. */
export const MAX_IMPORT_BYTES = 50 * 1024 * 1024;

/** `shift_jis` is Windows-31J (CP932), what Japanese Excel writes; `auto` detects UTF-8 (with or without BOM) or falls back to it. */
export const CsvEncoding = Type.Union([Type.Literal('auto'), Type.Literal('utf-8'), Type.Literal('shift_jis')]);
export type CsvEncoding = Static<typeof CsvEncoding>;
export const ExportEncoding = Type.Union([Type.Literal('utf-8'), Type.Literal('utf-8-bom'), Type.Literal('shift_jis')]);
export type ExportEncoding = Static<typeof ExportEncoding>;

/** One problem in an import file: 1-based row (the header is row 1) and the column's header name. */
export const JobError = Type.Object(
  { row: Type.Integer({ minimum: 0 }), column: Type.Union([Type.String(), Type.Null()]), message: Type.String() },
  { additionalProperties: false },
);
export type JobError = Static<typeof JobError>;

export const JobCounts = Type.Object(
  {
    rows: Type.Integer({ minimum: 0 }),
    created: Type.Integer({ minimum: 0 }),
    updated: Type.Integer({ minimum: 0 }),
    deleted: Type.Integer({ minimum: 0 }),
    unchanged: Type.Integer({ minimum: 0 }),
    exported: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);
export type JobCounts = Static<typeof JobCounts>;

export const JobView = Type.Object(
  {
    id: Uuid,
    tenantId: Uuid,
    kind: JobKind,
    status: JobStatus,
    encoding: Type.Union([Type.String(), Type.Null()]),
    fileName: Type.Union([Type.String(), Type.Null()]),
    fileBytes: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
    progress: Type.Object({ done: Type.Integer({ minimum: 0 }), total: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]) }, { additionalProperties: false }),
    counts: JobCounts,
    errorCount: Type.Integer({ minimum: 0 }),
    /** The first errors; the whole list pages through `job.errors`. */
    errors: Type.Array(JobError),
    /** Why the job failed, when it failed for another reason than bad rows. */
    failure: Type.Union([Type.String(), Type.Null()]),
    resultAvailable: Type.Boolean(),
    createdBy: Caller,
    createdAt: Timestamp,
    startedAt: Type.Union([Timestamp, Type.Null()]),
    finishedAt: Type.Union([Timestamp, Type.Null()]),
  },
  { additionalProperties: false },
);
export type JobView = Static<typeof JobView>;

/** An uploaded file, already in the file store under `object`. */
export const UploadedFile = Type.Object(
  { object: Type.String({ minLength: 1, maxLength: 300 }), name: Type.Union([Type.String({ maxLength: 255 }), Type.Null()]), bytes: Type.Integer({ minimum: 0 }) },
  { additionalProperties: false },
);

export const JobImportRequest = Type.Object(
  { tenantId: Uuid, jobId: Uuid, kind: JobKind, file: UploadedFile, encoding: CsvEncoding },
  { additionalProperties: false },
);
export const JobExportRequest = Type.Object({ tenantId: Uuid, jobId: Uuid, kind: JobKind, encoding: ExportEncoding }, { additionalProperties: false });
export const JobPreviewRequest = Type.Object({ tenantId: Uuid, kind: JobKind, file: UploadedFile, encoding: CsvEncoding }, { additionalProperties: false });
export const JobPreviewReply = Type.Object(
  {
    encoding: Type.String(),
    /** The file's header, as written. */
    columns: Type.Array(Type.String()),
    /** Header names this kind does not know (they would be refused). */
    unknownColumns: Type.Array(Type.String()),
    /** The first data rows (up to 10), keyed by header name. */
    rows: Type.Array(Type.Record(Type.String(), Type.String())),
  },
  { additionalProperties: false },
);
export const JobGetRequest = Type.Object({ tenantId: Uuid, jobId: Uuid }, { additionalProperties: false });
export const JobListRequest = Type.Object({ tenantId: Uuid, ...PageQuery }, { additionalProperties: false });
export const JobErrorsRequest = Type.Object({ tenantId: Uuid, jobId: Uuid, ...PageQuery }, { additionalProperties: false });
export const JobErrorPage = Type.Object({ items: Type.Array(JobError), nextCursor: Type.Union([Type.String(), Type.Null()]) }, { additionalProperties: false });

export const JobResultRequest = JobGetRequest;
/** Where an export's file is in the directory's exports bucket, and how to serve it. */
export const JobResultReply = Type.Object(
  { object: Type.String(), contentType: Type.String(), fileName: Type.String() },
  { additionalProperties: false },
);

export const JobFinishedEvent = Type.Object(
  { job: Type.Object({ id: Uuid, kind: JobKind, status: JobStatus, counts: JobCounts, errorCount: Type.Integer(), failure: Type.Union([Type.String(), Type.Null()]), startedAt: Type.Union([Timestamp, Type.Null()]), finishedAt: Type.Union([Timestamp, Type.Null()]) }, { additionalProperties: false }) },
  { additionalProperties: false },
);
export const JobStartedEvent = Type.Object({ job: Type.Object({ id: Uuid, kind: JobKind, fileName: Type.Union([Type.String(), Type.Null()]), fileBytes: Type.Union([Type.Integer(), Type.Null()]) }, { additionalProperties: false }) }, { additionalProperties: false });

export const directoryJobSubjects = {
  'musubi.directory.job.import.v1': rpc('directory', JobImportRequest, JobView, 'Queue an import of an uploaded CSV file (validated in full before anything is applied).'),
  'musubi.directory.job.export.v1': rpc('directory', JobExportRequest, JobView, 'Queue an export to a CSV file.'),
  'musubi.directory.job.preview.v1': rpc('directory', JobPreviewRequest, JobPreviewReply, 'The header and first rows of an uploaded CSV file, as an import would read them.'),
  'musubi.directory.job.get.v1': rpc('directory', JobGetRequest, JobView, 'Read a job.'),
  'musubi.directory.job.list.v1': rpc('directory', JobListRequest, Page(JobView), "A tenant's job history, newest first."),
  'musubi.directory.job.errors.v1': rpc('directory', JobErrorsRequest, JobErrorPage, "A job's errors, by row."),
  'musubi.directory.job.result.v1': rpc('directory', JobResultRequest, JobResultReply, "Where an export's file is, once the caller may read it."),
  'musubi.directory.job.started.v1': event('directory', JobStartedEvent, 'A bulk job started.'),
  'musubi.directory.job.finished.v1': event('directory', JobFinishedEvent, 'A bulk job finished, succeeded or failed.'),
} as const;
