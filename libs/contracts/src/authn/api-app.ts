import { Type, type Static } from '@sinclair/typebox';
import { Empty, Timestamp, Uuid } from '../common/schemas.js';
import { event, rpc } from '../common/subject.js';
import { BasicCredentials, OAuthError, ProtocolParams } from '../federation/oidc.js';
import { ApiTokenPrincipal, ApiTokenScope, API_TOKEN_SCOPES } from './api-token.js';

/** Live refresh tokens (neither revoked nor expired) one registered application may hold. */
export const MAX_REFRESH_TOKENS_PER_APP = 25;

const Name = Type.String({ minLength: 1, maxLength: 100, pattern: '^[^\\u0000-\\u001f\\u007f]+$' });

/**
 * A registered API application (an integration or a sync utility) of a tenant:
 * an OAuth 2.0 confidential client that trades its refresh tokens for
 * short-lived access tokens at the token endpoint. It acts for the
 * administrator who registered it, limited to its scopes and never beyond
 * that administrator's current roles.
 */
export const ApiAppView = Type.Object(
  {
    id: Uuid,
    tenantId: Uuid,
    name: Type.String(),
    /** The OAuth `client_id`. */
    clientId: Type.String(),
    scopes: Type.Array(ApiTokenScope),
    createdBy: Uuid,
    createdAt: Timestamp,
    /** Refresh tokens neither revoked nor expired, of at most 25. */
    liveRefreshTokens: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);
export type ApiAppView = Static<typeof ApiAppView>;

export const ApiAppCreateBody = Type.Object(
  { name: Name, scopes: Type.Array(ApiTokenScope, { minItems: 1, maxItems: API_TOKEN_SCOPES.length, uniqueItems: true }) },
  { additionalProperties: false },
);
export type ApiAppCreateBody = Static<typeof ApiAppCreateBody>;
export const ApiAppCreateRequest = Type.Object({ tenantId: Uuid, ...ApiAppCreateBody.properties }, { additionalProperties: false });
export const ApiAppCreated = Type.Object(
  { clientSecret: Type.String({ description: 'Shown this once: only a digest of it is kept' }), app: ApiAppView },
  { additionalProperties: false },
);
export const ApiAppListRequest = Type.Object({ tenantId: Uuid }, { additionalProperties: false });
export const ApiAppList = Type.Object({ items: Type.Array(ApiAppView) }, { additionalProperties: false });
export const ApiAppDeleteRequest = Type.Object({ tenantId: Uuid, appId: Uuid }, { additionalProperties: false });
export const ApiAppDeleteReply = Type.Object({ revokedRefreshTokens: Type.Integer({ minimum: 0 }) }, { additionalProperties: false });

export const REFRESH_TOKEN_REVOKE_REASONS = ['admin', 'reuse', 'app_deleted'] as const;
export const RefreshTokenRevokeReason = Type.Union(REFRESH_TOKEN_REVOKE_REASONS.map((r) => Type.Literal(r)));

/** A refresh token of an application: one rotation family; rotating it keeps its id. Metadata only. */
export const AppRefreshTokenView = Type.Object(
  {
    id: Uuid,
    tenantId: Uuid,
    applicationId: Uuid,
    name: Type.String(),
    createdBy: Uuid,
    createdAt: Timestamp,
    expiresAt: Timestamp,
    lastUsedAt: Type.Union([Timestamp, Type.Null()]),
    /** How many times it was traded for a new one. */
    rotations: Type.Integer({ minimum: 0 }),
    revokedAt: Type.Union([Timestamp, Type.Null()]),
    revokedReason: Type.Union([RefreshTokenRevokeReason, Type.Null()]),
  },
  { additionalProperties: false },
);
export type AppRefreshTokenView = Static<typeof AppRefreshTokenView>;

export const AppRefreshTokenIssueBody = Type.Object(
  { name: Name, expiresInDays: Type.Integer({ minimum: 1, maximum: 730, description: 'Days until the refresh token (and every rotation of it) stops working' }) },
  { additionalProperties: false },
);
export type AppRefreshTokenIssueBody = Static<typeof AppRefreshTokenIssueBody>;
export const AppRefreshTokenIssueRequest = Type.Object({ tenantId: Uuid, appId: Uuid, ...AppRefreshTokenIssueBody.properties }, { additionalProperties: false });
export const AppRefreshTokenIssued = Type.Object(
  { refreshToken: Type.String({ description: 'Shown this once: only a digest of it is kept' }), token: AppRefreshTokenView },
  { additionalProperties: false },
);
export const AppRefreshTokenListRequest = Type.Object({ tenantId: Uuid, appId: Uuid }, { additionalProperties: false });
export const AppRefreshTokenList = Type.Object({ items: Type.Array(AppRefreshTokenView) }, { additionalProperties: false });
export const AppRefreshTokenRevokeRequest = Type.Object({ tenantId: Uuid, appId: Uuid, tokenId: Uuid }, { additionalProperties: false });

/** The token endpoint's request, as the gateway read it: form parameters once each, and Basic credentials if sent. */
export const AppTokenGrantRequest = Type.Object({ tenantId: Uuid, params: ProtocolParams, basic: BasicCredentials }, { additionalProperties: false });
export const AppTokenGranted = Type.Object(
  {
    kind: Type.Literal('tokens'),
    accessToken: Type.String(),
    tokenType: Type.Literal('Bearer'),
    expiresIn: Type.Integer({ minimum: 1 }),
    refreshToken: Type.String(),
    scope: Type.String(),
  },
  { additionalProperties: false },
);
export const AppTokenGrantReply = Type.Union([AppTokenGranted, OAuthError]);
export type AppTokenGrantReply = Static<typeof AppTokenGrantReply>;

export const AppTokenVerifyRequest = Type.Object({ token: Type.String({ minLength: 1, maxLength: 256 }) }, { additionalProperties: false });
/** Who an application's access token speaks for: the same shape as a personal token's, plus the application. */
export const AppTokenPrincipal = Type.Object({ ...ApiTokenPrincipal.properties, applicationId: Uuid }, { additionalProperties: false });
export type AppTokenPrincipal = Static<typeof AppTokenPrincipal>;

export const ApiAppEvent = Type.Object({ apiApp: ApiAppView }, { additionalProperties: false });
export const RefreshTokenEvent = Type.Object(
  { refreshToken: AppRefreshTokenView, applicationId: Uuid, reason: Type.Optional(RefreshTokenRevokeReason) },
  { additionalProperties: false },
);
export const RefreshTokenReusedEvent = Type.Object(
  { refreshToken: AppRefreshTokenView, applicationId: Uuid, result: Type.Literal('failure'), ip: Type.Optional(Type.String()) },
  { additionalProperties: false },
);

export const authnApiAppSubjects = {
  'musubi.authn.api-app.create.v1': rpc('authn', ApiAppCreateRequest, ApiAppCreated, 'Register an API application (OAuth client); its secret is shown once.'),
  'musubi.authn.api-app.list.v1': rpc('authn', ApiAppListRequest, ApiAppList, "List a tenant's API applications."),
  'musubi.authn.api-app.delete.v1': rpc('authn', ApiAppDeleteRequest, ApiAppDeleteReply, 'Delete an API application, revoking its refresh and access tokens at once.'),
  'musubi.authn.refresh-token.issue.v1': rpc('authn', AppRefreshTokenIssueRequest, AppRefreshTokenIssued, 'Issue a refresh token to an API application (at most 25 live each); shown once.'),
  'musubi.authn.refresh-token.list.v1': rpc('authn', AppRefreshTokenListRequest, AppRefreshTokenList, "List an API application's refresh tokens (metadata only)."),
  'musubi.authn.refresh-token.revoke.v1': rpc('authn', AppRefreshTokenRevokeRequest, Empty, 'Revoke a refresh token and the access tokens it gave.'),
  'musubi.authn.app-token.grant.v1': rpc('authn', AppTokenGrantRequest, AppTokenGrantReply, 'The API token endpoint: trade a refresh token for an access token and a rotated refresh token.'),
  'musubi.authn.app-token.verify.v1': rpc('authn', AppTokenVerifyRequest, AppTokenPrincipal, "Resolve an application's access token (gateway only)."),
  'musubi.authn.api-app.created.v1': event('authn', ApiAppEvent, 'An API application was registered.'),
  'musubi.authn.api-app.deleted.v1': event('authn', ApiAppEvent, 'An API application was deleted (its tokens revoked).'),
  'musubi.authn.refresh-token.issued.v1': event('authn', RefreshTokenEvent, 'A refresh token was issued to an API application.'),
  'musubi.authn.refresh-token.revoked.v1': event('authn', RefreshTokenEvent, 'A refresh token was revoked (by an admin, on reuse, or with its application).'),
  'musubi.authn.refresh-token.reused.v1': event('authn', RefreshTokenReusedEvent, 'A rotated refresh token was presented again: its whole family was revoked.'),
} as const;
