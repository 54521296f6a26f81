import type { ClaimMapping, ErrorDetail, OidcClientType, OidcClientView, OidcGrantType, PublicJwks, SigningAlg, TokenEndpointAuthMethod } from '@musubi/contracts';
import { validationError } from '@musubi/platform/errors';

/** Everything about a client but its identity, secret and bookkeeping: stored as one JSON document. */
export interface ClientSettings {
  readonly name: string;
  readonly type: OidcClientType;
  readonly tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  readonly redirectUris: readonly string[];
  readonly postLogoutRedirectUris: readonly string[];
  readonly grantTypes: readonly OidcGrantType[];
  readonly scopes: readonly string[];
  readonly defaultScopes: readonly string[];
  readonly idTokenSignedResponseAlg: SigningAlg;
  readonly claimMapping: ClaimMapping;
  readonly groupsClaim: boolean;
  readonly jwks: PublicJwks | null;
  readonly backchannelLogoutUri: string | null;
  readonly assignmentRequired: boolean;
  readonly assignedUserIds: readonly string[];
  readonly assignedGroupIds: readonly string[];
}

export interface OidcClient {
  readonly id: string;
  readonly tenantId: string;
  readonly settings: ClientSettings;
  readonly secretHash: Buffer | null;
  readonly secretCreatedAt: Date | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly version: number;
}

export const DEFAULT_SETTINGS: Omit<ClientSettings, 'name' | 'type' | 'tokenEndpointAuthMethod'> = {
  redirectUris: [],
  postLogoutRedirectUris: [],
  grantTypes: ['authorization_code', 'refresh_token'],
  scopes: ['openid', 'profile', 'email'],
  defaultScopes: ['openid'],
  idTokenSignedResponseAlg: 'ES256',
  claimMapping: {},
  groupsClaim: false,
  jwks: null,
  backchannelLogoutUri: null,
  assignmentRequired: false,
  assignedUserIds: [],
  assignedGroupIds: [],
};

/** Claims a mapping may not overwrite: the protocol's own and the standard ones the provider sets. */
const RESERVED_CLAIMS = new Set([
  'iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti', 'azp', 'nonce', 'auth_time', 'acr', 'amr', 'at_hash', 'c_hash', 'sid', 'scope', 'client_id',
  'cnf', 'events', 'name', 'family_name', 'given_name', 'email', 'email_verified', 'phone_number', 'phone_number_verified', 'groups', 'locale', 'updated_at',
  'preferred_username', 'gid',
]);

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** Why a redirect URI may not be registered, or null. */
export function redirectUriProblem(raw: string, type: OidcClientType): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'is not an absolute URI';
  }
  if (raw.includes('#')) return 'must not have a fragment';
  if (url.username || url.password) return 'must not carry user information';
  if (url.protocol === 'https:') return url.hostname ? null : 'must name a host';
  if (url.protocol === 'http:') return LOOPBACK_HOSTS.has(url.hostname) ? null : 'must use https (http only for a loopback address)';
  if (['javascript:', 'data:', 'file:', 'vbscript:', 'blob:'].includes(url.protocol)) return 'uses a forbidden scheme';
  // A private-use scheme (com.example.app:/callback) is for native apps, which are public clients (RFC 8252 §7.1).
  if (type !== 'public') return 'must use https (a private-use scheme is for public native clients only)';
  return url.protocol.includes('.') ? null : 'a private-use scheme must be a reversed domain name (com.example.app)';
}

/**
 * Whether `requested` is one of the client's redirect URIs: compared as exact
 * strings (no normalisation, so no case, slash or encoding trick passes), but
 * for a public client's loopback IP redirect, whose port may differ (RFC 8252 §7.3).
 */
export function matchRedirectUri(client: Pick<ClientSettings, 'redirectUris' | 'type'>, requested: string): boolean {
  if (client.redirectUris.includes(requested)) return true;
  if (client.type !== 'public') return false;
  const m = /^http:\/\/(127\.0\.0\.1|\[::1\])(?::(\d{1,5}))?(\/[^?#]*)?(\?[^#]*)?$/.exec(requested);
  if (!m) return false;
  return client.redirectUris.some((r) => {
    const n = /^http:\/\/(127\.0\.0\.1|\[::1\])(?::(\d{1,5}))?(\/[^?#]*)?(\?[^#]*)?$/.exec(r);
    return n !== null && n[1] === m[1] && (n[3] ?? '') === (m[3] ?? '') && (n[4] ?? '') === (m[4] ?? '');
  });
}

function jwkProblem(key: Record<string, unknown>): string | null {
  if (key['kty'] !== 'RSA' && key['kty'] !== 'EC' && key['kty'] !== 'OKP') return 'must be an RSA, EC or OKP public key';
  for (const priv of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) if (priv in key) return 'must be a public key (it has a private member)';
  return null;
}

/** Every rule a client's settings must meet together; throws one validation error naming each broken rule. */
export function checkSettings(s: ClientSettings): void {
  const details: ErrorDetail[] = [];
  const bad = (pointer: string, detail: string) => details.push({ pointer, detail });
  if (!s.name.trim()) bad('/name', 'must not be blank');
  s.redirectUris.forEach((u, i) => {
    const p = redirectUriProblem(u, s.type);
    if (p) bad(`/redirectUris/${i}`, p);
  });
  s.postLogoutRedirectUris.forEach((u, i) => {
    const p = redirectUriProblem(u, s.type);
    if (p) bad(`/postLogoutRedirectUris/${i}`, p);
  });
  if (s.backchannelLogoutUri !== null) {
    const p = redirectUriProblem(s.backchannelLogoutUri, 'confidential');
    if (p) bad('/backchannelLogoutUri', p);
  }
  if (s.grantTypes.includes('authorization_code') && s.redirectUris.length === 0) bad('/redirectUris', 'the authorization_code grant needs at least one');
  if (s.grantTypes.includes('refresh_token') && !s.grantTypes.includes('authorization_code')) bad('/grantTypes', 'refresh_token comes only with authorization_code');
  if (s.type === 'public') {
    if (s.tokenEndpointAuthMethod !== 'none') bad('/tokenEndpointAuthMethod', 'a public client authenticates with none');
    if (s.grantTypes.includes('client_credentials')) bad('/grantTypes', 'a public client cannot use client_credentials');
  } else if (s.tokenEndpointAuthMethod === 'none') bad('/tokenEndpointAuthMethod', 'a confidential client must authenticate');
  if (s.tokenEndpointAuthMethod === 'private_key_jwt') {
    if (!s.jwks) bad('/jwks', 'private_key_jwt needs the client\'s public keys');
  }
  s.jwks?.keys.forEach((k, i) => {
    const p = jwkProblem(k);
    if (p) bad(`/jwks/keys/${i}`, p);
  });
  s.defaultScopes.forEach((sc, i) => {
    if (!s.scopes.includes(sc)) bad(`/defaultScopes/${i}`, 'must be one of the client\'s scopes');
  });
  for (const claim of Object.keys(s.claimMapping)) {
    if (RESERVED_CLAIMS.has(claim)) bad(`/claimMapping/${claim}`, 'is a claim the provider sets itself');
  }
  if (details.length > 0) throw validationError(details, 'The client settings are invalid.');
}

export const clientView = (c: OidcClient): OidcClientView => ({
  id: c.id,
  tenantId: c.tenantId,
  clientId: c.id,
  name: c.settings.name,
  type: c.settings.type,
  tokenEndpointAuthMethod: c.settings.tokenEndpointAuthMethod,
  redirectUris: [...c.settings.redirectUris],
  postLogoutRedirectUris: [...c.settings.postLogoutRedirectUris],
  grantTypes: [...c.settings.grantTypes],
  scopes: [...c.settings.scopes],
  defaultScopes: [...c.settings.defaultScopes],
  idTokenSignedResponseAlg: c.settings.idTokenSignedResponseAlg,
  claimMapping: { ...c.settings.claimMapping },
  groupsClaim: c.settings.groupsClaim,
  jwks: c.settings.jwks,
  backchannelLogoutUri: c.settings.backchannelLogoutUri,
  assignmentRequired: c.settings.assignmentRequired,
  assignedUserIds: [...c.settings.assignedUserIds],
  assignedGroupIds: [...c.settings.assignedGroupIds],
  secretCreatedAt: c.secretCreatedAt?.toISOString() ?? null,
  createdAt: c.createdAt.toISOString(),
  updatedAt: c.updatedAt.toISOString(),
  version: c.version,
});
