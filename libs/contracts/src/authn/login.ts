import { Type, type Static } from '@sinclair/typebox';
import { Empty, Timestamp, Uuid } from '../common/schemas.js';
import { event, rpc } from '../common/subject.js';

/** Where a sign-in comes from, as the gateway saw it. */
export const ClientInfo = Type.Object(
  {
    ip: Type.String({ minLength: 2, maxLength: 45 }),
    userAgent: Type.String({ maxLength: 1024 }),
  },
  { additionalProperties: false },
);

/** Passwords are never truncated: 1,024 characters is far beyond any policy and bounds hashing cost. */
export const Password = Type.String({ minLength: 1, maxLength: 1024 });

export const LoginMethod = Type.Union([Type.Literal('pwd'), Type.Literal('temp_pwd')]);

export const SessionView = Type.Object(
  {
    tenantId: Uuid,
    userId: Uuid,
    createdAt: Timestamp,
    expiresAt: Timestamp,
    mustChangePassword: Type.Boolean(),
    method: LoginMethod,
  },
  { additionalProperties: false },
);
export type SessionView = Static<typeof SessionView>;

export const LoginPasswordRequest = Type.Object(
  { tenantId: Uuid, loginId: Type.String({ minLength: 1, maxLength: 254 }), password: Password, client: ClientInfo },
  { additionalProperties: false },
);
export type LoginPasswordRequest = Static<typeof LoginPasswordRequest>;

export const LoginPasswordReply = Type.Object(
  { sessionId: Type.String({ minLength: 22 }), session: SessionView },
  { additionalProperties: false },
);

export const SessionGetRequest = Type.Object({ sessionId: Type.String({ minLength: 1, maxLength: 256 }) }, { additionalProperties: false });
export const SessionEndRequest = SessionGetRequest;

export const PasswordChangeRequest = Type.Object(
  { sessionId: Type.String({ minLength: 1, maxLength: 256 }), currentPassword: Password, newPassword: Password, client: ClientInfo },
  { additionalProperties: false },
);

export const TemporaryPasswordIssueRequest = Type.Object({ tenantId: Uuid, userId: Uuid }, { additionalProperties: false });
export const TemporaryPasswordIssueReply = Type.Object(
  { temporaryPassword: Type.String(), expiresAt: Timestamp },
  { additionalProperties: false },
);

export const LoginSucceededEvent = Type.Object(
  { userId: Uuid, loginId: Type.String(), method: LoginMethod, ip: Type.String(), userAgent: Type.String() },
  { additionalProperties: false },
);
export const LoginFailedEvent = Type.Object(
  { loginId: Type.String(), userId: Type.Union([Uuid, Type.Null()]), ip: Type.String(), userAgent: Type.String() },
  { additionalProperties: false },
);
export const PasswordChangedEvent = Type.Object({ userId: Uuid }, { additionalProperties: false });
export const TemporaryPasswordIssuedEvent = Type.Object({ userId: Uuid, expiresAt: Timestamp }, { additionalProperties: false });

export const authnSubjects = {
  'musubi.authn.login.password.v1': rpc('authn', LoginPasswordRequest, LoginPasswordReply, 'Sign in with login ID and password; opens a session.'),
  'musubi.authn.session.get.v1': rpc('authn', SessionGetRequest, SessionView, 'Read a live session (touches its idle timer).'),
  'musubi.authn.session.end.v1': rpc('authn', SessionEndRequest, Empty, 'End a session (logout).'),
  'musubi.authn.password.change.v1': rpc('authn', PasswordChangeRequest, LoginPasswordReply, "Change the signed-in user's password; the session id is renewed."),
  'musubi.authn.temporary-password.issue.v1': rpc(
    'authn',
    TemporaryPasswordIssueRequest,
    TemporaryPasswordIssueReply,
    'Issue a one-time password that must be changed at first sign-in.',
  ),
  'musubi.authn.login.succeeded.v1': event('authn', LoginSucceededEvent, 'A sign-in succeeded.'),
  'musubi.authn.login.failed.v1': event('authn', LoginFailedEvent, 'A sign-in failed.'),
  'musubi.authn.password.changed.v1': event('authn', PasswordChangedEvent, 'A user changed their password.'),
  'musubi.authn.temporary-password.issued.v1': event('authn', TemporaryPasswordIssuedEvent, 'A one-time password was issued to a user.'),
} as const;
