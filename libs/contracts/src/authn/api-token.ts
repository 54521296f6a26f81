import { Type, type Static } from '@sinclair/typebox';
import { AdminRole } from '../common/roles.js';
import { Empty, Timestamp, Uuid } from '../common/schemas.js';
import { event, rpc } from '../common/subject.js';

/**
 * What an API token may do. A write scope includes reading the same things.
 * `scim` is for the SCIM endpoint only.
 */
export const API_TOKEN_SCOPES = ['users:read', 'users:write', 'groups:read', 'groups:write', 'audit:read', 'scim'] as const;
export type ApiTokenScope = (typeof API_TOKEN_SCOPES)[number];
export const ApiTokenScope = Type.Union(API_TOKEN_SCOPES.map((s) => Type.Literal(s)));

export const ApiTokenView = Type.Object(
  {
    id: Uuid,
    tenantId: Uuid,
    name: Type.String(),
    scopes: Type.Array(ApiTokenScope),
    /** The user who made it: the token acts for them, never beyond their roles. */
    createdBy: Uuid,
    createdAt: Timestamp,
    expiresAt: Timestamp,
    lastUsedAt: Type.Union([Timestamp, Type.Null()]),
    revokedAt: Type.Union([Timestamp, Type.Null()]),
    /** The first characters of the token, to recognise it. */
    prefix: Type.String(),
  },
  { additionalProperties: false },
);
export type ApiTokenView = Static<typeof ApiTokenView>;

export const ApiTokenCreateBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100, pattern: '^[^\\u0000-\\u001f\\u007f]+$' }),
    scopes: Type.Array(ApiTokenScope, { minItems: 1, maxItems: API_TOKEN_SCOPES.length, uniqueItems: true }),
    expiresInDays: Type.Integer({ minimum: 1, maximum: 730, description: 'Days until the token stops working' }),
  },
  { additionalProperties: false },
);
export type ApiTokenCreateBody = Static<typeof ApiTokenCreateBody>;

export const ApiTokenCreateRequest = Type.Object({ tenantId: Uuid, ...ApiTokenCreateBody.properties }, { additionalProperties: false });
export const ApiTokenCreated = Type.Object(
  { token: Type.String({ description: 'Shown this once: only a digest of it is kept' }), apiToken: ApiTokenView },
  { additionalProperties: false },
);
export const ApiTokenListRequest = Type.Object({ tenantId: Uuid }, { additionalProperties: false });
export const ApiTokenList = Type.Object({ items: Type.Array(ApiTokenView) }, { additionalProperties: false });
export const ApiTokenRevokeRequest = Type.Object({ tenantId: Uuid, tokenId: Uuid }, { additionalProperties: false });
export const ApiTokenVerifyRequest = Type.Object({ token: Type.String({ minLength: 1, maxLength: 256 }) }, { additionalProperties: false });
export const ApiTokenPrincipal = Type.Object(
  {
    tokenId: Uuid,
    tenantId: Uuid,
    userId: Uuid,
    /** The maker's roles now: a token loses what its maker loses. */
    roles: Type.Array(AdminRole),
    scopes: Type.Array(ApiTokenScope),
    expiresAt: Timestamp,
  },
  { additionalProperties: false },
);
export type ApiTokenPrincipal = Static<typeof ApiTokenPrincipal>;

export const ApiTokenCreatedEvent = Type.Object({ apiToken: ApiTokenView }, { additionalProperties: false });
export const ApiTokenRevokedEvent = Type.Object({ apiToken: ApiTokenView }, { additionalProperties: false });

export const authnApiTokenSubjects = {
  'musubi.authn.api-token.create.v1': rpc('authn', ApiTokenCreateRequest, ApiTokenCreated, 'Make an API token for the calling user (scopes within their roles).'),
  'musubi.authn.api-token.list.v1': rpc('authn', ApiTokenListRequest, ApiTokenList, "List a tenant's API tokens (the caller's own; every one with users:credentials)."),
  'musubi.authn.api-token.revoke.v1': rpc('authn', ApiTokenRevokeRequest, Empty, 'Revoke an API token.'),
  'musubi.authn.api-token.verify.v1': rpc('authn', ApiTokenVerifyRequest, ApiTokenPrincipal, 'Resolve a presented API token (gateway only).'),
  'musubi.authn.api-token.created.v1': event('authn', ApiTokenCreatedEvent, 'An API token was made.'),
  'musubi.authn.api-token.revoked.v1': event('authn', ApiTokenRevokedEvent, 'An API token was revoked.'),
} as const;
