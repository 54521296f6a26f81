import { Type, type Static } from '@sinclair/typebox';
import { Uuid } from '../common/schemas.js';
import { event, rpc, type SubjectDefinition } from '../common/subject.js';
import { OidcClientView, SigningAlg } from './client.js';

/**
 * The endpoints of a tenant's OpenID provider, relative to its issuer
 * (`{PUBLIC_URL}/t/{slug}`). Federation builds audiences and links from these;
 * the gateway serves them.
 */
export const OIDC_PATHS = {
  discovery: '/.well-known/openid-configuration',
  jwks: '/oauth2/jwks',
  authorization: '/oauth2/authorize',
  par: '/oauth2/par',
  token: '/oauth2/token',
  userinfo: '/oauth2/userinfo',
  introspection: '/oauth2/introspect',
  revocation: '/oauth2/revoke',
  endSession: '/oauth2/logout',
} as const;

/** The standard OAuth 2.0 / OIDC error codes this provider answers with. */
export const OAUTH_ERROR_CODES = [
    'invalid_request',
    'invalid_client',
    'invalid_grant',
    'unauthorized_client',
    'unsupported_grant_type',
    'unsupported_response_type',
    'unsupported_token_type',
    'invalid_scope',
    'access_denied',
    'server_error',
    'temporarily_unavailable',
    'login_required',
    'consent_required',
    'interaction_required',
    'invalid_request_uri',
    'invalid_token',
    'insufficient_scope',
] as const;
export const OAuthErrorCode = Type.Union(OAUTH_ERROR_CODES.map((c) => Type.Literal(c)));
export type OAuthErrorCode = Static<typeof OAuthErrorCode>;

/** A protocol error: an expected outcome of a protocol request (not a failure of the service), answered to the client as OAuth says. */
export const OAuthError = Type.Object(
  { kind: Type.Literal('oauth_error'), error: OAuthErrorCode, errorDescription: Type.String() },
  { additionalProperties: false },
);
export type OAuthError = Static<typeof OAuthError>;

/** A protocol request's parameters: each form or query parameter once (a repeated one is refused by the gateway). */
export const ProtocolParams = Type.Record(Type.String({ maxLength: 100 }), Type.String({ maxLength: 8192 }), { maxProperties: 60 });
export type ProtocolParams = Static<typeof ProtocolParams>;

/** Credentials from an `Authorization: Basic` header, already URL-decoded (RFC 6749 §2.3.1). */
export const BasicCredentials = Type.Union([
  Type.Object({ clientId: Type.String({ maxLength: 200 }), clientSecret: Type.String({ maxLength: 500 }) }, { additionalProperties: false }),
  Type.Null(),
]);

const Issuer = Type.String({ minLength: 8, maxLength: 300, description: '{PUBLIC_URL}/t/{slug}' });

/** A request at an endpoint that authenticates the client (token, introspection, revocation, PAR). */
export const ClientAuthenticatedRequest = Type.Object(
  { tenantId: Uuid, issuer: Issuer, params: ProtocolParams, basic: BasicCredentials },
  { additionalProperties: false },
);
export type ClientAuthenticatedRequest = Static<typeof ClientAuthenticatedRequest>;

export const TokenSet = Type.Object(
  {
    kind: Type.Literal('tokens'),
    accessToken: Type.String(),
    tokenType: Type.Literal('Bearer'),
    expiresIn: Type.Integer({ minimum: 1 }),
    scope: Type.String(),
    refreshToken: Type.Optional(Type.String()),
    idToken: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type TokenSet = Static<typeof TokenSet>;
export const TokenReply = Type.Union([TokenSet, OAuthError]);
export type TokenReply = Static<typeof TokenReply>;

/** RFC 7662 §2.2, as the JSON the endpoint answers. */
export const IntrospectionReply = Type.Union([
  Type.Object({ kind: Type.Literal('introspection'), response: Type.Record(Type.String(), Type.Unknown()) }, { additionalProperties: false }),
  OAuthError,
]);
export type IntrospectionReply = Static<typeof IntrospectionReply>;

/** What was revoked, if anything (a gateway answering introspection itself marks it at once): an access token (jti, expiry in ms) or a whole grant. */
export const RevocationReply = Type.Union([
  Type.Object(
    {
      kind: Type.Literal('revoked'),
      accessToken: Type.Optional(Type.Object({ jti: Type.String(), exp: Type.Integer() }, { additionalProperties: false })),
      grantId: Type.Optional(Type.String()),
    },
    { additionalProperties: false },
  ),
  OAuthError,
]);
export type RevocationReply = Static<typeof RevocationReply>;

export const ParReply = Type.Union([
  Type.Object({ kind: Type.Literal('pushed'), requestUri: Type.String(), expiresIn: Type.Integer({ minimum: 1 }) }, { additionalProperties: false }),
  OAuthError,
]);
export type ParReply = Static<typeof ParReply>;

export const JwksRequest = Type.Object({ tenantId: Uuid }, { additionalProperties: false });
export const JwksReply = Type.Object({ keys: Type.Array(Type.Record(Type.String(), Type.Unknown())) }, { additionalProperties: false });
export type JwksReply = Static<typeof JwksReply>;

export const UserinfoRequest = Type.Object({ tenantId: Uuid, issuer: Issuer, accessToken: Type.String({ minLength: 1, maxLength: 8192 }) }, { additionalProperties: false });
export const UserinfoReply = Type.Union([
  Type.Object({ kind: Type.Literal('claims'), claims: Type.Record(Type.String(), Type.Unknown()) }, { additionalProperties: false }),
  OAuthError,
]);
export type UserinfoReply = Static<typeof UserinfoReply>;

/** What the gateway's hosted login knows of the browser's session. */
export const BrowserSession = Type.Union([
  Type.Object(
    {
      sessionId: Type.String({ minLength: 1, maxLength: 256 }),
      userId: Uuid,
      /** When the user authenticated (the session's creation). */
      authTime: Type.String({ format: 'date-time' }),
      /** Authentication methods (RFC 8176), e.g. pwd. */
      amr: Type.Array(Type.String({ maxLength: 20 }), { maxItems: 5 }),
    },
    { additionalProperties: false },
  ),
  Type.Null(),
]);
export type BrowserSession = Static<typeof BrowserSession>;

/** An error the browser is shown on our own page: the client or its redirect URI could not be trusted, so nothing is redirected. */
export const ErrorPage = Type.Object(
  { kind: Type.Literal('error_page'), error: OAuthErrorCode, errorDescription: Type.String() },
  { additionalProperties: false },
);
/** Send the browser on (the client's redirect URI with the response, or an error, and `iss`). */
export const RedirectTo = Type.Object({ kind: Type.Literal('redirect'), location: Type.String() }, { additionalProperties: false });

export const AuthorizationStartRequest = Type.Object({ tenantId: Uuid, issuer: Issuer, params: ProtocolParams }, { additionalProperties: false });
export const AuthorizationStartReply = Type.Union([
  ErrorPage,
  RedirectTo,
  Type.Object({ kind: Type.Literal('pending'), requestId: Uuid }, { additionalProperties: false }),
]);
export type AuthorizationStartReply = Static<typeof AuthorizationStartReply>;

export const ConsentDecision = Type.Union([Type.Literal('granted'), Type.Literal('denied')]);
export const AuthorizationContinueRequest = Type.Object(
  { tenantId: Uuid, issuer: Issuer, requestId: Uuid, session: BrowserSession, consent: Type.Optional(ConsentDecision) },
  { additionalProperties: false },
);
export const AuthorizationContinueReply = Type.Union([
  ErrorPage,
  RedirectTo,
  /** Sign in (again) first, then continue; `loginHint` pre-fills the login ID. */
  Type.Object({ kind: Type.Literal('login'), loginHint: Type.Union([Type.String(), Type.Null()]) }, { additionalProperties: false }),
  /** Ask the user to allow these scopes for this application. */
  Type.Object(
    {
      kind: Type.Literal('consent'),
      clientName: Type.String(),
      scopes: Type.Array(Type.String()),
      /** The CSP source of the client's redirect URI (its origin, or its private-use scheme), which the consent form's answer redirects to. */
      formActionSource: Type.String(),
    },
    { additionalProperties: false },
  ),
]);
export type AuthorizationContinueReply = Static<typeof AuthorizationContinueReply>;

export const LogoutRequest = Type.Object(
  {
    tenantId: Uuid,
    issuer: Issuer,
    params: ProtocolParams,
    session: BrowserSession,
    /** The user confirmed on our own page (needed when no valid id_token_hint names them). */
    userConfirmed: Type.Boolean(),
  },
  { additionalProperties: false },
);
export const LogoutReply = Type.Union([
  ErrorPage,
  /** Ask the user first: nothing proved that this user's application asked. */
  Type.Object(
    {
      kind: Type.Literal('confirm'),
      clientName: Type.Union([Type.String(), Type.Null()]),
      /** The CSP source of the post-logout URI the confirmation's answer redirects to, if any. */
      formActionSource: Type.Union([Type.String(), Type.Null()]),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      kind: Type.Literal('logged_out'),
      /** Where to send the browser afterwards: a registered post-logout URI (with `state`), or null for our own page. */
      location: Type.Union([Type.String(), Type.Null()]),
    },
    { additionalProperties: false },
  ),
]);
export type LogoutReply = Static<typeof LogoutReply>;

export const SigningKeyView = Type.Object(
  {
    kid: Type.String(),
    alg: SigningAlg,
    /** Signs from then on. */
    notBefore: Type.String({ format: 'date-time' }),
    /** Stops signing then (its successor takes over). */
    notAfter: Type.String({ format: 'date-time' }),
    /** Leaves the JWKS then: every token it signed has expired. */
    expiresAt: Type.String({ format: 'date-time' }),
    state: Type.Union([Type.Literal('next'), Type.Literal('active'), Type.Literal('retiring')]),
  },
  { additionalProperties: false },
);
export type SigningKeyView = Static<typeof SigningKeyView>;
export const SigningKeyListRequest = Type.Object({ tenantId: Uuid }, { additionalProperties: false });
export const SigningKeyList = Type.Object({ items: Type.Array(SigningKeyView) }, { additionalProperties: false });
export const SigningKeyRotateRequest = Type.Object({ tenantId: Uuid, alg: SigningAlg }, { additionalProperties: false });

// ------------------------------------------------------------------ events

const ClientRef = Type.Object({ id: Uuid, name: Type.String() }, { additionalProperties: false });
export const OidcClientCreatedEvent = Type.Object({ client: OidcClientView }, { additionalProperties: false });
export const OidcClientChangedEvent = Type.Object({ before: OidcClientView, after: OidcClientView }, { additionalProperties: false });
export const OidcClientDeletedEvent = Type.Object({ client: OidcClientView }, { additionalProperties: false });
export const OidcClientSecretRotatedEvent = Type.Object({ client: ClientRef }, { additionalProperties: false });
export const AuthorizationGrantedEvent = Type.Object(
  { client: ClientRef, userId: Uuid, scopes: Type.Array(Type.String()), consented: Type.Boolean() },
  { additionalProperties: false },
);
export const AuthorizationDeniedEvent = Type.Object(
  { client: ClientRef, userId: Type.Union([Uuid, Type.Null()]), error: OAuthErrorCode, reason: Type.String() },
  { additionalProperties: false },
);
/**
 * Tokens issued to a client by one grant. Client-credentials tokens are
 * reported in groups (one event per client and scope set each second, at most
 * 1,000 tokens an event), so the trail stays readable at thousands of tokens a
 * second; `count` says how many.
 */
export const TokensIssuedEvent = Type.Object(
  {
    client: ClientRef,
    grantType: Type.String(),
    userId: Type.Union([Uuid, Type.Null()]),
    scopes: Type.Array(Type.String()),
    count: Type.Integer({ minimum: 1 }),
    /** The `jti` of each access token (at most 1,000 per event). */
    tokenIds: Type.Array(Type.String(), { maxItems: 1000 }),
    refreshToken: Type.Boolean(),
    idToken: Type.Boolean(),
  },
  { additionalProperties: false },
);
export const RefreshReuseEvent = Type.Object(
  { client: ClientRef, userId: Type.Union([Uuid, Type.Null()]), grantId: Uuid, reason: Type.Union([Type.Literal('refresh_token_reused'), Type.Literal('code_reused')]) },
  { additionalProperties: false },
);
export const TokenRevokedEvent = Type.Object(
  { client: ClientRef, tokenType: Type.Union([Type.Literal('access_token'), Type.Literal('refresh_token')]), grantId: Type.Union([Uuid, Type.Null()]) },
  { additionalProperties: false },
);
export const LoggedOutEvent = Type.Object(
  {
    userId: Uuid,
    /** The RP that asked, when known (id_token_hint or client_id). */
    client: Type.Union([ClientRef, Type.Null()]),
    /** Clients told by back-channel logout. */
    notified: Type.Array(Uuid),
    grantsRevoked: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);
export const SigningKeyRotatedEvent = Type.Object({ next: SigningKeyView, previous: Type.Union([SigningKeyView, Type.Null()]) }, { additionalProperties: false });

export const federationOidcSubjects = {
  'musubi.federation.jwks.get.v1': rpc('federation', JwksRequest, JwksReply, "A tenant's published signing keys (JWK Set), the next key included."),
  'musubi.federation.signing-key.list.v1': rpc('federation', SigningKeyListRequest, SigningKeyList, "A tenant's signing keys and their schedule (no private part)."),
  'musubi.federation.signing-key.rotate.v1': rpc(
    'federation',
    SigningKeyRotateRequest,
    SigningKeyView,
    'Publish a next signing key now; it starts signing after the publication delay, and the current one stays published until its tokens expire.',
  ),
  'musubi.federation.token.issue.v1': rpc('federation', ClientAuthenticatedRequest, TokenReply, 'The token endpoint: authorization_code, refresh_token, client_credentials.'),
  'musubi.federation.token.introspect.v1': rpc('federation', ClientAuthenticatedRequest, IntrospectionReply, 'Token introspection (RFC 7662).'),
  'musubi.federation.token.revoke.v1': rpc('federation', ClientAuthenticatedRequest, RevocationReply, 'Token revocation (RFC 7009).'),
  'musubi.federation.authorization.push.v1': rpc('federation', ClientAuthenticatedRequest, ParReply, 'Pushed authorization request (RFC 9126).'),
  'musubi.federation.authorization.start.v1': rpc('federation', AuthorizationStartRequest, AuthorizationStartReply, 'Check an authorization request and hold it while the user signs in.'),
  'musubi.federation.authorization.continue.v1': rpc(
    'federation',
    AuthorizationContinueRequest,
    AuthorizationContinueReply,
    'Carry a held authorization request on with the browser session (and a consent decision): login, consent or the redirect.',
  ),
  'musubi.federation.userinfo.get.v1': rpc('federation', UserinfoRequest, UserinfoReply, 'The userinfo endpoint: claims for an access token.'),
  'musubi.federation.session.logout.v1': rpc('federation', LogoutRequest, LogoutReply, 'RP-initiated logout: revoke the session\'s grants, notify back-channel clients, say where to go.'),
  'musubi.federation.client.created.v1': event('federation', OidcClientCreatedEvent, 'An OIDC client was registered.'),
  'musubi.federation.client.updated.v1': event('federation', OidcClientChangedEvent, 'An OIDC client was changed.'),
  'musubi.federation.client.deleted.v1': event('federation', OidcClientDeletedEvent, 'An OIDC client was deleted.'),
  'musubi.federation.client.secret-rotated.v1': event('federation', OidcClientSecretRotatedEvent, "An OIDC client's secret was replaced."),
  'musubi.federation.authorization.granted.v1': event('federation', AuthorizationGrantedEvent, 'A user authorized an application (an authorization code was issued).'),
  'musubi.federation.authorization.denied.v1': event('federation', AuthorizationDeniedEvent, 'An authorization was refused (consent denied, user not assigned, …).'),
  'musubi.federation.token.issued.v1': event('federation', TokensIssuedEvent, 'Tokens were issued at the token endpoint.'),
  'musubi.federation.token.reuse-detected.v1': event('federation', RefreshReuseEvent, 'A used refresh token or code came back; its whole grant was revoked.'),
  'musubi.federation.token.revoked.v1': event('federation', TokenRevokedEvent, 'A client revoked a token.'),
  'musubi.federation.session.ended.v1': event('federation', LoggedOutEvent, 'A user logged out of the provider (RP-initiated).'),
  'musubi.federation.signing-key.rotated.v1': event('federation', SigningKeyRotatedEvent, 'A next signing key was published.'),
} as const satisfies Record<string, SubjectDefinition>;
