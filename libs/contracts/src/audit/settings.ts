import { Type, type Static } from '@sinclair/typebox';
import { Uuid } from '../common/schemas.js';

export const AUDIT_RETENTION_MAX_DAYS = 400;

export const AuditSettingsView = Type.Object(
  {
    tenantId: Uuid,
    retentionDays: Type.Integer({ minimum: 1, maximum: AUDIT_RETENTION_MAX_DAYS }),
    retentionIsDefault: Type.Boolean({ description: "True while the tenant uses the platform's default retention" }),
    timeZone: Type.String({ description: "The tenant's time zone (from the directory), in which times are shown" }),
  },
  { additionalProperties: false },
);
export type AuditSettingsView = Static<typeof AuditSettingsView>;

export const AuditSettingsGetRequest = Type.Object({ tenantId: Uuid }, { additionalProperties: false });

/** The body of a retention change. A record is kept at least this many days after audit recorded it. */
export const AuditSettingsUpdateBody = Type.Object(
  { retentionDays: Type.Integer({ minimum: 1, maximum: AUDIT_RETENTION_MAX_DAYS, description: 'Days a record is kept (1-400); applies to records recorded from now on' }) },
  { additionalProperties: false },
);
export type AuditSettingsUpdateBody = Static<typeof AuditSettingsUpdateBody>;
export const AuditSettingsUpdateRequest = Type.Object({ tenantId: Uuid, ...AuditSettingsUpdateBody.properties }, { additionalProperties: false });
