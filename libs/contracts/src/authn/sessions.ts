import { Type, type Static } from '@sinclair/typebox';
import { Empty, Timestamp, Uuid } from '../common/schemas.js';
import { event, rpc } from '../common/subject.js';

const SessionId = Type.String({ minLength: 1, maxLength: 256 });
/** A session's public handle: a digest of its id, enough to name it, useless to sign in with. */
export const SessionHandle = Type.String({ minLength: 16, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' });

export const SessionSummary = Type.Object(
  {
    handle: SessionHandle,
    createdAt: Timestamp,
    lastSeenAt: Timestamp,
    ip: Type.String(),
    userAgent: Type.String(),
    method: Type.String(),
    current: Type.Boolean(),
  },
  { additionalProperties: false },
);
export type SessionSummary = Static<typeof SessionSummary>;

export const SessionListRequest = Type.Object({ sessionId: SessionId }, { additionalProperties: false });
export const SessionList = Type.Object({ items: Type.Array(SessionSummary) }, { additionalProperties: false });
export const SessionRevokeRequest = Type.Object({ sessionId: SessionId, handle: SessionHandle }, { additionalProperties: false });
export const SessionRevokeAllRequest = Type.Object({ tenantId: Uuid, userId: Uuid }, { additionalProperties: false });
export const SessionRevokeAllReply = Type.Object({ revoked: Type.Integer({ minimum: 0 }) }, { additionalProperties: false });

export const SessionRevokedEvent = Type.Object(
  {
    userId: Uuid,
    count: Type.Integer({ minimum: 0 }),
    reason: Type.Union([Type.Literal('self'), Type.Literal('admin'), Type.Literal('user_disabled'), Type.Literal('password_reset')]),
  },
  { additionalProperties: false },
);

export const authnSessionSubjects = {
  'musubi.authn.session.list.v1': rpc('authn', SessionListRequest, SessionList, "List the signed-in user's own live sessions."),
  'musubi.authn.session.revoke.v1': rpc('authn', SessionRevokeRequest, Empty, 'End one of the signed-in user\'s own sessions by its handle.'),
  'musubi.authn.session.revoke-all.v1': rpc('authn', SessionRevokeAllRequest, SessionRevokeAllReply, "End every session of a user (users:credentials)."),
  'musubi.authn.session.revoked.v1': event('authn', SessionRevokedEvent, 'Sessions of a user were ended by the user, an administrator or a lifecycle change.'),
} as const;
