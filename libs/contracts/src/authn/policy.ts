import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Timestamp, Uuid } from '../common/schemas.js';
import { event, rpc } from '../common/subject.js';

const nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

/** An IPv4 or IPv6 address or CIDR block (checked further by authn). */
export const Cidr = Type.String({ minLength: 2, maxLength: 49, pattern: '^[0-9A-Fa-f:.]+(/[0-9]{1,3})?$', description: '203.0.113.0/24, 2001:db8::/32 or one address' });

/**
 * A tenant's authentication settings, in the ranges customers know. Nulls mean
 * "off" or "the default": the minimum length then follows NIST SP 800-63B rev 4
 * (15 when a password is the only factor, 8 with a second factor).
 */
export const AuthPolicyFields = {
  passwordMinLength: nullable(Type.Integer({ minimum: 6, maximum: 24, description: 'Null: 15, or 8 when a second factor is required' })),
  secondFactorRequired: Type.Boolean({ description: 'Whether every sign-in needs a second factor (lowers the default minimum length to 8)' }),
  passwordComplexity: Type.Boolean({ description: 'Require upper case, lower case, digits and symbols (three of four); off by default, as NIST advises' }),
  passwordHistory: nullable(Type.Integer({ minimum: 1, maximum: 24, description: 'How many earlier passwords may not be reused; null: off' })),
  passwordExpiryDays: nullable(Type.Integer({ minimum: 1, maximum: 999, description: 'Days a password lives; null: never expires (the default)' })),
  temporaryPasswordHours: Type.Integer({ minimum: 1, maximum: 2160, description: 'How long a one-time password is valid' }),
  lockoutThreshold: Type.Integer({ minimum: 1, maximum: 100, description: 'Consecutive failed sign-ins that lock the account' }),
  lockoutMinutes: Type.Integer({ minimum: 1, maximum: 60, description: 'A locked account unlocks itself after this long' }),
  sessionIdleMinutes: Type.Integer({ minimum: 1, maximum: 1440, description: 'A session not used for this long ends' }),
  sessionAbsoluteHours: Type.Integer({ minimum: 1, maximum: 720, description: 'A session ends this long after sign-in, used or not' }),
  resetMailsPerHour: Type.Integer({ minimum: 1, maximum: 20, description: 'Password-reset mails one user may be sent in an hour' }),
  resetLockMinutes: Type.Integer({ minimum: 1, maximum: 1440, description: 'How long reset mails to a user stop once that limit is reached' }),
  logoutUrl: nullable(Type.String({ maxLength: 2048, format: 'uri', pattern: '^https://', description: 'Where users land after signing out (https); null: the tenant\'s own signed-out page' })),
  adminAllowedCidrs: Type.Array(Cidr, { maxItems: 50, uniqueItems: true, description: 'Admin API access only from these ranges; empty: from anywhere' }),
  logoUrl: nullable(Type.String({ maxLength: 2048, format: 'uri', pattern: '^https://', description: 'Logo shown on the sign-in pages (https)' })),
  primaryColor: nullable(Type.String({ pattern: '^#[0-9a-fA-F]{6}$', description: 'Accent colour of the sign-in pages, #rrggbb' })),
};

export const AuthPolicyView = Type.Object(
  { tenantId: Uuid, ...AuthPolicyFields, version: Type.Integer({ minimum: 1 }), updatedAt: Timestamp },
  { additionalProperties: false },
);
export type AuthPolicyView = Static<typeof AuthPolicyView>;

export const AuthPolicyUpdateBody = Type.Partial(Type.Object(AuthPolicyFields, { additionalProperties: false }), { additionalProperties: false, minProperties: 1 });
export type AuthPolicyUpdateBody = Static<typeof AuthPolicyUpdateBody>;

export const AuthPolicyGetRequest = Type.Object({ tenantId: Uuid }, { additionalProperties: false });
export const AuthPolicyUpdateRequest = Type.Object(
  { tenantId: Uuid, expectedVersion: Type.Optional(Type.Integer({ minimum: 1 })), changes: AuthPolicyUpdateBody },
  { additionalProperties: false },
);

/** What the hosted pages need of a tenant's policy, readable without signing in. */
export const LoginBrandingView = Type.Object(
  {
    logoUrl: nullable(Type.String()),
    primaryColor: nullable(Type.String()),
    logoutUrl: nullable(Type.String()),
    passwordMinLength: Type.Integer(),
  },
  { additionalProperties: false },
);

export const AuthPolicyUpdatedEvent = Type.Object({ before: AuthPolicyView, after: AuthPolicyView, reason: Type.Null() }, { additionalProperties: false });

export const authnPolicySubjects = {
  'musubi.authn.policy.get.v1': rpc('authn', AuthPolicyGetRequest, AuthPolicyView, "Read a tenant's authentication policy (defaults until changed)."),
  'musubi.authn.policy.update.v1': rpc('authn', AuthPolicyUpdateRequest, AuthPolicyView, "Change a tenant's authentication policy (tenant:write)."),
  'musubi.authn.policy.branding.v1': rpc('authn', AuthPolicyGetRequest, LoginBrandingView, 'What the hosted sign-in pages show of a tenant (public).'),
  'musubi.authn.policy.updated.v1': event('authn', AuthPolicyUpdatedEvent, "A tenant's authentication policy changed."),
} as const;
