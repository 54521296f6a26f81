import { Type, type Static } from '@sinclair/typebox';
import { Timestamp, Uuid } from '../common/schemas.js';
import { event, rpc } from '../common/subject.js';

export const LockoutView = Type.Object(
  {
    userId: Uuid,
    locked: Type.Boolean(),
    lockedUntil: Type.Union([Timestamp, Type.Null()]),
    consecutiveFailures: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);
export type LockoutView = Static<typeof LockoutView>;

export const LockoutRequest = Type.Object({ tenantId: Uuid, userId: Uuid }, { additionalProperties: false });

export const AccountLockedEvent = Type.Object(
  { userId: Uuid, lockedUntil: Timestamp, failures: Type.Integer(), ip: Type.String(), userAgent: Type.String(), deviceFingerprint: Type.Optional(Type.String()) },
  { additionalProperties: false },
);
export const AccountUnlockedEvent = Type.Object(
  { userId: Uuid, via: Type.Union([Type.Literal('admin'), Type.Literal('password_reset')]) },
  { additionalProperties: false },
);

export const authnLockoutSubjects = {
  'musubi.authn.lockout.get.v1': rpc('authn', LockoutRequest, LockoutView, "Whether a user's account is locked by failed sign-ins (users:read)."),
  'musubi.authn.lockout.clear.v1': rpc('authn', LockoutRequest, LockoutView, 'Unlock an account and reset its failure count (users:credentials).'),
  'musubi.authn.lockout.locked.v1': event('authn', AccountLockedEvent, 'An account was locked after consecutive failed sign-ins.'),
  'musubi.authn.lockout.cleared.v1': event('authn', AccountUnlockedEvent, 'A locked account was unlocked by an administrator or a password reset.'),
} as const;
