import { Type, type Static } from '@sinclair/typebox';

/** What kind of thing an audit record is about, derived from its event type. */
export const AUDIT_CATEGORIES = ['login', 'session', 'credential', 'token', 'job', 'admin', 'audit'] as const;
export type AuditCategory = (typeof AUDIT_CATEGORIES)[number];
export const AuditCategory = Type.Union(AUDIT_CATEGORIES.map((c) => Type.Literal(c)));

/**
 * How someone signed in: `pwd` password, `temp_pwd` one-time password, `pop` FIDO2
 * (proof of possession), `email` a code by mail, `otp` an authenticator code,
 * `slide` a push approval, `cert` a device certificate, `iwa` Windows integrated
 * login, `dip` an upstream identity provider.
 */
export const LOGIN_METHODS = ['pwd', 'temp_pwd', 'pop', 'email', 'otp', 'slide', 'cert', 'iwa', 'dip'] as const;
export type LoginMethodCode = (typeof LOGIN_METHODS)[number];

export const AUDIT_RESULTS = ['success', 'failure'] as const;
export type AuditResult = (typeof AUDIT_RESULTS)[number];
export const AuditResult = Type.Union(AUDIT_RESULTS.map((r) => Type.Literal(r)));

/** The search filters of the audit trail; every one is optional and they combine with AND. */
export const AuditFilterFields = {
  from: Type.Optional(Type.String({ format: 'date-time', description: 'Only events that occurred at or after this instant (RFC 3339)' })),
  to: Type.Optional(Type.String({ format: 'date-time', description: 'Only events that occurred before this instant (RFC 3339)' })),
  type: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Exact event type, e.g. musubi.authn.login.failed.v1' })),
  category: Type.Optional(AuditCategory),
  actor: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: "Who acted: a user's id, the operator's id or a service's name" })),
  user: Type.Optional(Type.String({ format: 'uuid', description: 'The user the event is about (who signed in, whose account changed)' })),
  result: Type.Optional(AuditResult),
  ip: Type.Optional(Type.String({ minLength: 2, maxLength: 49, description: 'An IP address, or a CIDR block such as 203.0.113.0/24' })),
  application: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'The application (client or service provider id) the event concerns' })),
};

export const AuditFilters = Type.Object(AuditFilterFields, { additionalProperties: false });
export type AuditFilters = Static<typeof AuditFilters>;
