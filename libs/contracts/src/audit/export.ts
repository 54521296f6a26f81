import { Type, type Static } from '@sinclair/typebox';
import { Uuid } from '../common/schemas.js';
import { AuditFilterFields } from './filters.js';

export const AUDIT_EXPORT_FORMATS = ['jsonl', 'csv'] as const;
export type AuditExportFormat = (typeof AUDIT_EXPORT_FORMATS)[number];
export const AUDIT_EXPORT_ENCODINGS = ['utf-8', 'shift_jis'] as const;
export type AuditExportEncoding = (typeof AUDIT_EXPORT_ENCODINGS)[number];

/**
 * One page of an export. The first request has no cursor; each reply's
 * `nextCursor` asks for the next page, until it is null. An export covers the
 * records in the order of the tenant's chain; `from`/`to` bound when the events
 * occurred. A JSON Lines export without filters other than the time range can be
 * verified offline (it carries the chain hashes and signed checkpoints).
 */
export const AuditExportRequest = Type.Object(
  {
    tenantId: Uuid,
    format: Type.Union(AUDIT_EXPORT_FORMATS.map((f) => Type.Literal(f))),
    encoding: Type.Optional(Type.Union(AUDIT_EXPORT_ENCODINGS.map((e) => Type.Literal(e)), { description: 'CSV only: utf-8 (with BOM, default) or shift_jis (Windows-31J)' })),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 2048 })),
    ...AuditFilterFields,
  },
  { additionalProperties: false },
);
export type AuditExportRequest = Static<typeof AuditExportRequest>;

/** The query string of the admin API's export (every page is fetched by the gateway as it streams). */
export const AuditExportQuery = Type.Object(
  {
    format: AuditExportRequest.properties.format,
    encoding: AuditExportRequest.properties.encoding,
    ...AuditFilterFields,
  },
  { additionalProperties: false },
);
export type AuditExportQuery = Static<typeof AuditExportQuery>;

export const AuditExportPage = Type.Object(
  {
    /** The next piece of the file, as text; the gateway encodes it in the requested charset. */
    text: Type.String(),
    records: Type.Integer({ minimum: 0 }),
    nextCursor: Type.Union([Type.String(), Type.Null()]),
    contentType: Type.String(),
    fileName: Type.String(),
  },
  { additionalProperties: false },
);
export type AuditExportPage = Static<typeof AuditExportPage>;
