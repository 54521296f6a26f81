import { Type, type Static } from '@sinclair/typebox';
import { Timestamp, Uuid } from '../common/schemas.js';
import { AuditResult } from './filters.js';

export const LOGIN_HISTORY_LIMIT = 100;

export const LoginHistoryRequest = Type.Object({ tenantId: Uuid, userId: Uuid }, { additionalProperties: false });

export const LoginHistoryEntry = Type.Object(
  {
    id: Uuid,
    occurredAt: Timestamp,
    occurredAtLocal: Type.String(),
    result: Type.Union([AuditResult, Type.Null()]),
    method: Type.Union([Type.String(), Type.Null()]),
    ip: Type.Union([Type.String(), Type.Null()]),
    userAgent: Type.Union([Type.String(), Type.Null()]),
    device: Type.Union([Type.String(), Type.Null()]),
    application: Type.Union([Type.String(), Type.Null()]),
    newDevice: Type.Boolean({
      description: 'No earlier successful sign-in of this user came from this device (its fingerprint, or else its browser and OS ignoring version numbers)',
    }),
  },
  { additionalProperties: false },
);
export type LoginHistoryEntry = Static<typeof LoginHistoryEntry>;

export const LoginHistory = Type.Object(
  { timeZone: Type.String(), items: Type.Array(LoginHistoryEntry, { maxItems: LOGIN_HISTORY_LIMIT }) },
  { additionalProperties: false },
);
export type LoginHistory = Static<typeof LoginHistory>;
