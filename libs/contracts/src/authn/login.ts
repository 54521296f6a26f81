import { Type, type Static } from '@sinclair/typebox';
import { Empty, Timestamp, Uuid } from '../common/schemas.js';
import { event, rpc } from '../common/subject.js';

/** Where a sign-in comes from, as the gateway saw it. */
export const ClientInfo = Type.Object(
  {
    ip: Type.String({ minLength: 2, maxLength: 45 }),
    userAgent: Type.String({ maxLength: 1024 }),
    /** A digest of what the browser tells about itself (user agent, languages, client hints): not a secret, not a tracker across sites. */
    deviceFingerprint: Type.Optional(Type.String({ maxLength: 256 })),
  },
  { additionalProperties: false },
);
export type ClientInfo = Static<typeof ClientInfo>;

/** Passwords are never truncated: 1,024 characters is far beyond any policy and bounds hashing cost. */
export const Password = Type.String({ minLength: 1, maxLength: 1024 });

/** How the user proved who they are (RFC 8176 `amr` values where one fits). */
export const LoginMethod = Type.Union([Type.Literal('pwd'), Type.Literal('temp_pwd')]);
export type LoginMethod = Static<typeof LoginMethod>;

/** Why a session may do nothing but change its password. */
export const PasswordChangeReason = Type.Union([Type.Literal('temporary'), Type.Literal('expired')]);

export const SessionView = Type.Object(
  {
    tenantId: Uuid,
    userId: Uuid,
    createdAt: Timestamp,
    expiresAt: Timestamp,
    mustChangePassword: Type.Boolean(),
    method: LoginMethod,
    /** When the user last authenticated in this session (OIDC `auth_time`). */
    authTime: Timestamp,
    /** Every method used in this session, in order (OIDC `amr`). */
    amr: Type.Array(Type.String()),
    passwordChangeReason: Type.Union([PasswordChangeReason, Type.Null()]),
    /** When the password expires, if the tenant's policy makes it expire within 14 days (a warning to show). */
    passwordExpiresSoon: Type.Union([Timestamp, Type.Null()]),
  },
  { additionalProperties: false },
);
export type SessionView = Static<typeof SessionView>;

const SessionId = Type.String({ minLength: 1, maxLength: 256 });
const TransactionId = Type.String({ minLength: 1, maxLength: 256 });

/**
 * A login transaction: what is known about a sign-in in progress. It starts
 * with the identifier and ends with a session; later steps (MFA, Kerberos,
 * federation prompts) add to `completed` and `next`.
 */
export const LoginTransactionView = Type.Object(
  {
    tenantId: Uuid,
    loginId: Type.String(),
    createdAt: Timestamp,
    expiresAt: Timestamp,
    /** Methods already passed (none until the password step). */
    completed: Type.Array(Type.String()),
    /** What the user is asked for next. Always `password` today: it says nothing about whether the account exists. */
    next: Type.Union([Type.Literal('password')]),
    /** Where to go after sign-in, as the starter asked (a path on this gateway). */
    returnTo: Type.Union([Type.String(), Type.Null()]),
  },
  { additionalProperties: false },
);
export type LoginTransactionView = Static<typeof LoginTransactionView>;

const ReturnTo = Type.String({ minLength: 1, maxLength: 2048, pattern: '^/(?![/\\\\])' });

export const LoginStartRequest = Type.Object(
  { tenantId: Uuid, loginId: Type.String({ minLength: 1, maxLength: 254 }), client: ClientInfo, returnTo: Type.Optional(ReturnTo) },
  { additionalProperties: false },
);
export const LoginStartReply = Type.Object({ transactionId: TransactionId, transaction: LoginTransactionView }, { additionalProperties: false });
export const LoginTransactionGetRequest = Type.Object({ tenantId: Uuid, transactionId: TransactionId }, { additionalProperties: false });

export const LoginPasswordRequest = Type.Object(
  {
    tenantId: Uuid,
    loginId: Type.String({ minLength: 1, maxLength: 254 }),
    password: Password,
    client: ClientInfo,
    /** The transaction the identifier step started; spent by a successful sign-in. */
    transactionId: Type.Optional(TransactionId),
  },
  { additionalProperties: false },
);
export type LoginPasswordRequest = Static<typeof LoginPasswordRequest>;

export const LoginPasswordReply = Type.Object(
  { sessionId: Type.String({ minLength: 22 }), session: SessionView, returnTo: Type.Optional(Type.Union([Type.String(), Type.Null()])) },
  { additionalProperties: false },
);

export const SessionGetRequest = Type.Object({ sessionId: SessionId }, { additionalProperties: false });
export const SessionEndRequest = SessionGetRequest;

export const PasswordChangeRequest = Type.Object(
  { sessionId: SessionId, currentPassword: Password, newPassword: Password, client: ClientInfo },
  { additionalProperties: false },
);

export const TemporaryPasswordIssueRequest = Type.Object({ tenantId: Uuid, userId: Uuid }, { additionalProperties: false });
export const TemporaryPasswordIssueReply = Type.Object(
  { temporaryPassword: Type.String(), expiresAt: Timestamp },
  { additionalProperties: false },
);

const ClientFields = {
  ip: Type.String(),
  userAgent: Type.String(),
  deviceFingerprint: Type.Optional(Type.String()),
};

export const LoginSucceededEvent = Type.Object(
  { userId: Uuid, loginId: Type.String(), method: LoginMethod, ...ClientFields },
  { additionalProperties: false },
);
export const LoginFailedEvent = Type.Object(
  {
    loginId: Type.String(),
    userId: Type.Union([Uuid, Type.Null()]),
    ...ClientFields,
    method: Type.Optional(LoginMethod),
    /** Internal only (the person signing in is never told): unknown, wrong_password, disabled, locked, expired, throttled. */
    reason: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export const PasswordChangedEvent = Type.Object(
  { userId: Uuid, via: Type.Optional(Type.Union([Type.Literal('self'), Type.Literal('reset')])) },
  { additionalProperties: false },
);
export const TemporaryPasswordIssuedEvent = Type.Object({ userId: Uuid, expiresAt: Timestamp }, { additionalProperties: false });

export const authnSubjects = {
  'musubi.authn.login.start.v1': rpc('authn', LoginStartRequest, LoginStartReply, 'Start a login transaction with the identifier (the same answer whether or not the account exists).'),
  'musubi.authn.login.get.v1': rpc('authn', LoginTransactionGetRequest, LoginTransactionView, 'Read a login transaction in progress.'),
  'musubi.authn.login.password.v1': rpc('authn', LoginPasswordRequest, LoginPasswordReply, 'Sign in with login ID and password; opens a session.'),
  'musubi.authn.session.get.v1': rpc('authn', SessionGetRequest, SessionView, 'Read a live session (touches its idle timer).'),
  'musubi.authn.session.end.v1': rpc('authn', SessionEndRequest, Empty, 'End a session (logout).'),
  'musubi.authn.password.change.v1': rpc('authn', PasswordChangeRequest, LoginPasswordReply, "Change the signed-in user's password; the session id is renewed."),
  'musubi.authn.temporary-password.issue.v1': rpc(
    'authn',
    TemporaryPasswordIssueRequest,
    TemporaryPasswordIssueReply,
    'Issue a one-time password that must be changed at first sign-in (users:credentials; never for a user with permissions the caller lacks).',
  ),
  'musubi.authn.login.succeeded.v1': event('authn', LoginSucceededEvent, 'A sign-in succeeded.'),
  'musubi.authn.login.failed.v1': event('authn', LoginFailedEvent, 'A sign-in failed.'),
  'musubi.authn.password.changed.v1': event('authn', PasswordChangedEvent, 'A user changed their password.'),
  'musubi.authn.temporary-password.issued.v1': event('authn', TemporaryPasswordIssuedEvent, 'A one-time password was issued to a user.'),
} as const;
