import { Type, type Static } from '@sinclair/typebox';
import { Caller } from '../common/context.js';
import { PageQuery, Timestamp, Uuid } from '../common/schemas.js';
import { rpc } from '../common/subject.js';
import { AuditCheckpointListRequest, AuditCheckpointPage, AuditSigningKeyList, AuditSigningKeyListRequest, AuditVerificationReport, AuditVerifyRequest } from './chain.js';
import { AuditExportPage, AuditExportRequest } from './export.js';
import { AuditCategory, AuditFilterFields, AuditResult } from './filters.js';
import { LoginHistory, LoginHistoryRequest } from './login-history.js';
import { AuditSettingsGetRequest, AuditSettingsUpdateRequest, AuditSettingsView } from './settings.js';

export * from './filters.js';
export * from './chain.js';
export * from './export.js';
export * from './settings.js';
export * from './login-history.js';

/** One field an administrative change touched: computed by audit from the event's `before` and `after`. */
export const AuditChange = Type.Object(
  {
    path: Type.String({ description: 'Dotted path of the field, e.g. settings.deletionRetentionDays' }),
    op: Type.Union([Type.Literal('added'), Type.Literal('removed'), Type.Literal('changed')]),
    before: Type.Optional(Type.Unknown()),
    after: Type.Optional(Type.Unknown()),
    redacted: Type.Optional(Type.Literal(true, { description: 'A secret changed; its values are never recorded' })),
  },
  { additionalProperties: false },
);
export type AuditChange = Static<typeof AuditChange>;

export const AuditTarget = Type.Object({ type: Type.String(), id: Type.String() }, { additionalProperties: false });

export const AuditEventView = Type.Object(
  {
    id: Uuid,
    tenantId: Type.Union([Uuid, Type.Null()]),
    seq: Type.Integer({ minimum: 1, description: "Position in the tenant's hash chain" }),
    type: Type.String({ description: 'The event type, e.g. musubi.directory.tenant.created.v1' }),
    category: AuditCategory,
    occurredAt: Timestamp,
    occurredAtLocal: Type.String({ description: "When it occurred, in the tenant's time zone (ISO 8601 with offset)" }),
    recordedAt: Timestamp,
    actor: Caller,
    requestId: Type.Union([Type.String(), Type.Null()]),
    result: Type.Union([AuditResult, Type.Null()]),
    method: Type.Union([Type.String({ description: 'Login method code (pwd, temp_pwd, pop, email, otp, slide, cert, iwa, dip)' }), Type.Null()]),
    targetUserId: Type.Union([Uuid, Type.Null()]),
    target: Type.Union([AuditTarget, Type.Null()]),
    ip: Type.Union([Type.String(), Type.Null()]),
    userAgent: Type.Union([Type.String(), Type.Null()]),
    device: Type.Union([Type.String({ description: 'Device fingerprint, when the client sent one' }), Type.Null()]),
    application: Type.Union([Type.String(), Type.Null()]),
    changes: Type.Union([Type.Array(AuditChange), Type.Null()]),
    payload: Type.Unknown({ description: 'The event as its producer emitted it, with secrets removed' }),
  },
  { additionalProperties: false },
);
export type AuditEventView = Static<typeof AuditEventView>;

export const AuditEventListRequest = Type.Object({ tenantId: Uuid, ...PageQuery, ...AuditFilterFields }, { additionalProperties: false });
export type AuditEventListRequest = Static<typeof AuditEventListRequest>;

/** The query string of the admin API's search (the request without the tenant, which is in the path). */
export const AuditEventListQuery = Type.Object({ ...PageQuery, ...AuditFilterFields }, { additionalProperties: false });
export type AuditEventListQuery = Static<typeof AuditEventListQuery>;

export const AuditEventPage = Type.Object(
  {
    items: Type.Array(AuditEventView),
    nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass as `cursor` for the next page; null on the last page' }),
    timeZone: Type.String({ description: "The tenant's time zone, in which occurredAtLocal is given" }),
  },
  { additionalProperties: false },
);

/**
 * Types of the records audit writes itself (they never travel on the bus): an
 * operator reading a tenant's trail, and a change of a tenant's audit settings.
 */
export const AUDIT_OWN_TYPES = {
  trailRead: 'musubi.audit.trail.read.v1',
  settingsUpdated: 'musubi.audit.settings.updated.v1',
} as const;

export const auditEventSubjects = {
  'musubi.audit.event.list.v1': rpc('audit', AuditEventListRequest, AuditEventPage, "Search a tenant's audit trail, newest first."),
  'musubi.audit.event.export.v1': rpc('audit', AuditExportRequest, AuditExportPage, "One page of an export of a tenant's audit trail (CSV or JSON Lines), in chain order."),
  'musubi.audit.chain.verify.v1': rpc('audit', AuditVerifyRequest, AuditVerificationReport, "Verify a range of a tenant's hash chain against its signed checkpoints."),
  'musubi.audit.checkpoint.list.v1': rpc('audit', AuditCheckpointListRequest, AuditCheckpointPage, "List a tenant's signed checkpoints, newest first."),
  'musubi.audit.signing-key.list.v1': rpc('audit', AuditSigningKeyListRequest, AuditSigningKeyList, 'The public keys that sign audit checkpoints (to pin them).'),
  'musubi.audit.settings.get.v1': rpc('audit', AuditSettingsGetRequest, AuditSettingsView, "Read a tenant's audit settings (retention, time zone)."),
  'musubi.audit.settings.update.v1': rpc('audit', AuditSettingsUpdateRequest, AuditSettingsView, "Change a tenant's audit retention (platform operator)."),
  'musubi.audit.login-history.list.v1': rpc('audit', LoginHistoryRequest, LoginHistory, "A user's last 100 sign-ins, each marked when its device looks new."),
} as const;
