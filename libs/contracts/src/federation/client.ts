import { Type, type Static } from '@sinclair/typebox';
import { Empty, Page, PageQuery, Timestamp, Uuid } from '../common/schemas.js';
import { rpc, type SubjectDefinition } from '../common/subject.js';

/** A confidential client holds a secret (or a key); a public one (a SPA, a native app) holds nothing and must use PKCE. */
export const OidcClientType = Type.Union([Type.Literal('confidential'), Type.Literal('public')]);
export type OidcClientType = Static<typeof OidcClientType>;

export const TokenEndpointAuthMethod = Type.Union([
  Type.Literal('client_secret_basic'),
  Type.Literal('client_secret_post'),
  Type.Literal('private_key_jwt'),
  Type.Literal('none'),
]);
export type TokenEndpointAuthMethod = Static<typeof TokenEndpointAuthMethod>;

/** Implicit and password grants are off for good: they are not even expressible. */
export const OidcGrantType = Type.Union([Type.Literal('authorization_code'), Type.Literal('refresh_token'), Type.Literal('client_credentials')]);
export type OidcGrantType = Static<typeof OidcGrantType>;

export const SigningAlg = Type.Union([Type.Literal('ES256'), Type.Literal('RS256')]);
export type SigningAlg = Static<typeof SigningAlg>;

export const OIDC_STANDARD_SCOPES = ['openid', 'profile', 'email', 'phone', 'groups', 'offline_access'] as const;

/** A scope token (RFC 6749 §3.3): printable ASCII but space, `"` and `\`. */
export const ScopeToken = Type.String({ minLength: 1, maxLength: 100, pattern: '^[\\x21\\x23-\\x5b\\x5d-\\x7e]+$' });

/** An absolute URI without a fragment; http only for loopback hosts (checked by the service too). */
export const RedirectUri = Type.String({ minLength: 8, maxLength: 2000, pattern: '^[A-Za-z][A-Za-z0-9+.-]*:[^#\\s]+$' });

/** Directory fields a client may receive as extra claims, under names of its choosing. */
export const CLAIM_SOURCES = [
  'loginId',
  'displayName',
  'familyName',
  'givenName',
  'familyNameKana',
  'givenNameKana',
  'email',
  'department',
  'title',
  'locale',
  'externalId',
  'appLinkingId',
  'entitlements',
] as const;
export const ClaimSource = Type.Union(CLAIM_SOURCES.map((s) => Type.Literal(s)));
export type ClaimSource = Static<typeof ClaimSource>;

/** Claim name → directory field. Names of registered claims (sub, iss, aud, …) are refused by the service. */
export const ClaimMapping = Type.Record(Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_:.-]{0,63}$' }), ClaimSource, { maxProperties: 50 });
export type ClaimMapping = Static<typeof ClaimMapping>;

/** A public JWK Set (RFC 7517) for private_key_jwt; only public members are kept. */
export const PublicJwks = Type.Object({ keys: Type.Array(Type.Record(Type.String(), Type.Unknown()), { minItems: 1, maxItems: 10 }) }, { additionalProperties: false });
export type PublicJwks = Static<typeof PublicJwks>;

export const OidcClientView = Type.Object(
  {
    id: Uuid,
    tenantId: Uuid,
    /** The OAuth client_id (the same as `id`). */
    clientId: Type.String(),
    name: Type.String(),
    type: OidcClientType,
    tokenEndpointAuthMethod: TokenEndpointAuthMethod,
    redirectUris: Type.Array(Type.String()),
    postLogoutRedirectUris: Type.Array(Type.String()),
    grantTypes: Type.Array(OidcGrantType),
    /** Scopes the client may ask for. */
    scopes: Type.Array(Type.String()),
    /** Scopes granted without a consent page (and given to client credentials when none is asked for). */
    defaultScopes: Type.Array(Type.String()),
    idTokenSignedResponseAlg: SigningAlg,
    claimMapping: ClaimMapping,
    /** Whether id tokens and userinfo carry the user's groups when the `groups` scope is granted. */
    groupsClaim: Type.Boolean(),
    jwks: Type.Union([PublicJwks, Type.Null()]),
    backchannelLogoutUri: Type.Union([Type.String(), Type.Null()]),
    /** When true, only users assigned directly or through one of `assignedGroupIds` may sign in to it. */
    assignmentRequired: Type.Boolean(),
    assignedUserIds: Type.Array(Uuid),
    assignedGroupIds: Type.Array(Uuid),
    /** When the current secret was made; null for clients without one. */
    secretCreatedAt: Type.Union([Timestamp, Type.Null()]),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    version: Type.Integer({ minimum: 1 }),
  },
  { additionalProperties: false },
);
export type OidcClientView = Static<typeof OidcClientView>;

const Uris = Type.Array(RedirectUri, { maxItems: 20, uniqueItems: true });
const Scopes = Type.Array(ScopeToken, { maxItems: 50, uniqueItems: true });
const Ids = Type.Array(Uuid, { maxItems: 1000, uniqueItems: true });

const ClientFields = {
  name: Type.String({ minLength: 1, maxLength: 200, pattern: '^[^\\u0000-\\u001f\\u007f]*$' }),
  redirectUris: Uris,
  postLogoutRedirectUris: Uris,
  grantTypes: Type.Array(OidcGrantType, { minItems: 1, uniqueItems: true }),
  scopes: Scopes,
  defaultScopes: Scopes,
  idTokenSignedResponseAlg: SigningAlg,
  claimMapping: ClaimMapping,
  groupsClaim: Type.Boolean(),
  jwks: Type.Union([PublicJwks, Type.Null()]),
  backchannelLogoutUri: Type.Union([RedirectUri, Type.Null()]),
  assignmentRequired: Type.Boolean(),
  assignedUserIds: Ids,
  assignedGroupIds: Ids,
};

/** The settings an administrator may give at registration and change later, each optional. */
const ChangeableClientFields = {
  tokenEndpointAuthMethod: Type.Optional(TokenEndpointAuthMethod),
  redirectUris: Type.Optional(ClientFields.redirectUris),
  postLogoutRedirectUris: Type.Optional(ClientFields.postLogoutRedirectUris),
  grantTypes: Type.Optional(ClientFields.grantTypes),
  scopes: Type.Optional(ClientFields.scopes),
  defaultScopes: Type.Optional(ClientFields.defaultScopes),
  idTokenSignedResponseAlg: Type.Optional(ClientFields.idTokenSignedResponseAlg),
  claimMapping: Type.Optional(ClientFields.claimMapping),
  groupsClaim: Type.Optional(ClientFields.groupsClaim),
  jwks: Type.Optional(ClientFields.jwks),
  backchannelLogoutUri: Type.Optional(ClientFields.backchannelLogoutUri),
  assignmentRequired: Type.Optional(ClientFields.assignmentRequired),
  assignedUserIds: Type.Optional(ClientFields.assignedUserIds),
  assignedGroupIds: Type.Optional(ClientFields.assignedGroupIds),
};

/** What an administrator gives to register an application. Defaults: confidential, client_secret_basic, authorization_code + refresh_token, scopes openid profile email, ES256. */
export const OidcClientCreateBody = Type.Object(
  {
    name: ClientFields.name,
    type: Type.Optional(OidcClientType),
    ...ChangeableClientFields,
  },
  { additionalProperties: false },
);
export type OidcClientCreateBody = Static<typeof OidcClientCreateBody>;

export const OidcClientCreateRequest = Type.Object({ tenantId: Uuid, ...OidcClientCreateBody.properties }, { additionalProperties: false });
export type OidcClientCreateRequest = Static<typeof OidcClientCreateRequest>;

/** The client, and its secret: shown here once, stored only as a hash. */
export const OidcClientWithSecret = Type.Object(
  { client: OidcClientView, clientSecret: Type.Union([Type.String(), Type.Null()]) },
  { additionalProperties: false },
);
export type OidcClientWithSecret = Static<typeof OidcClientWithSecret>;

/** What a PATCH may change (not the type nor, for safety, the authentication method of a confidential client to `none`). */
export const OidcClientUpdateBody = Type.Object(
  {
    name: Type.Optional(ClientFields.name),
    ...ChangeableClientFields,
  },
  { additionalProperties: false, minProperties: 1 },
);
export type OidcClientUpdateBody = Static<typeof OidcClientUpdateBody>;

export const OidcClientUpdateRequest = Type.Object(
  { tenantId: Uuid, clientId: Uuid, expectedVersion: Type.Optional(Type.Integer({ minimum: 1 })), changes: OidcClientUpdateBody },
  { additionalProperties: false },
);
export const OidcClientGetRequest = Type.Object({ tenantId: Uuid, clientId: Uuid }, { additionalProperties: false });
export const OidcClientDeleteRequest = Type.Object(
  { tenantId: Uuid, clientId: Uuid, expectedVersion: Type.Optional(Type.Integer({ minimum: 1 })) },
  { additionalProperties: false },
);
export const OidcClientSecretRotateRequest = OidcClientGetRequest;
export const OidcClientListQuery = Type.Object({ ...PageQuery }, { additionalProperties: false });
export type OidcClientListQuery = Static<typeof OidcClientListQuery>;
export const OidcClientListRequest = Type.Object({ tenantId: Uuid, ...PageQuery }, { additionalProperties: false });

export const federationClientSubjects = {
  'musubi.federation.client.create.v1': rpc('federation', OidcClientCreateRequest, OidcClientWithSecret, 'Register an OIDC client; its secret is in this reply only.'),
  'musubi.federation.client.get.v1': rpc('federation', OidcClientGetRequest, OidcClientView, 'Read an OIDC client.'),
  'musubi.federation.client.list.v1': rpc('federation', OidcClientListRequest, Page(OidcClientView), "List a tenant's OIDC clients, oldest first."),
  'musubi.federation.client.update.v1': rpc('federation', OidcClientUpdateRequest, OidcClientView, 'Change an OIDC client.'),
  'musubi.federation.client.delete.v1': rpc('federation', OidcClientDeleteRequest, Empty, 'Delete an OIDC client and revoke everything issued to it.'),
  'musubi.federation.client.secret-rotate.v1': rpc(
    'federation',
    OidcClientSecretRotateRequest,
    OidcClientWithSecret,
    'Replace the secret of a confidential client; the old one stops working at once.',
  ),
} as const satisfies Record<string, SubjectDefinition>;
