import { Type, type Static } from '@sinclair/typebox';
import { Uuid } from '../common/schemas.js';
import { rpc } from '../common/subject.js';
import { TokenEndpointAuthMethod } from './client.js';

/**
 * What the gateway needs to answer token introspection itself, without a hop
 * to federation: which access tokens and grants are revoked (a snapshot, then
 * a live feed), and each client's authentication record. Federation stays the
 * source of truth; the gateway asks it whenever its copy may not be current.
 */

/**
 * The live feed: core NATS (not JetStream: nothing here must be replayed, a
 * snapshot replaces history), published by every federation replica for every
 * change its Postgres LISTEN connection delivers, plus a heartbeat. Not in the
 * subject registry: it is neither a request/reply nor a durable event.
 *
 * `source` names one replica's listener connection (a new connection is a new
 * source); `seq` counts that source's changes, so a lost message shows as a
 * gap (a heartbeat repeats the last seq). A receiver that sees a gap, a new
 * source, or silence must take a new snapshot before trusting its copy again.
 */
export const INTROSPECTION_FEED_SUBJECT = 'musubi.federation.introspection-state.changed.v1';

/** How often each replica says it is alive on the feed, in milliseconds. */
export const INTROSPECTION_FEED_HEARTBEAT_MS = 250;

export const IntrospectionChange = Type.Union([
  /** An access token revoked by jti, until its expiry (ms since epoch). */
  Type.Object({ k: Type.Literal('j'), jti: Type.String({ maxLength: 200 }), exp: Type.Integer() }, { additionalProperties: false }),
  /** A grant revoked: every access token carrying its id as `gid`. */
  Type.Object({ k: Type.Literal('g'), id: Type.String({ maxLength: 200 }) }, { additionalProperties: false }),
  /** A client was created, changed or deleted. */
  Type.Object({ k: Type.Literal('c'), tenantId: Type.String({ maxLength: 64 }), clientId: Type.String({ maxLength: 200 }) }, { additionalProperties: false }),
  /** A tenant's signing keys changed. */
  Type.Object({ k: Type.Literal('k'), tenantId: Type.String({ maxLength: 64 }) }, { additionalProperties: false }),
]);
export type IntrospectionChange = Static<typeof IntrospectionChange>;

export const IntrospectionFeedMessage = Type.Object(
  {
    source: Type.String({ minLength: 1, maxLength: 100 }),
    seq: Type.Integer({ minimum: 0 }),
    /** false while the replica's own index is not live (its LISTEN connection is down): its silence about changes means nothing. */
    ready: Type.Boolean(),
    change: Type.Optional(IntrospectionChange),
  },
  { additionalProperties: false },
);
export type IntrospectionFeedMessage = Static<typeof IntrospectionFeedMessage>;

export const IntrospectionStateRequest = Type.Object({}, { additionalProperties: false });
export const IntrospectionState = Type.Object(
  {
    /** false when the answering replica's index is not live: the snapshot is unusable, ask again later. */
    ready: Type.Boolean(),
    accessTokenTtlSeconds: Type.Integer({ minimum: 1 }),
    revokedTokens: Type.Array(Type.Object({ jti: Type.String(), exp: Type.Integer() }, { additionalProperties: false })),
    /** Revoked grants, each until no access token of it can still be alive (ms since epoch). */
    revokedGrants: Type.Array(Type.Object({ id: Type.String(), until: Type.Integer() }, { additionalProperties: false })),
  },
  { additionalProperties: false },
);
export type IntrospectionState = Static<typeof IntrospectionState>;

export const ClientCredentialRequest = Type.Object({ tenantId: Uuid, clientId: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false });
/** A client's authentication record: its method and the SHA-256 (base64url) of its secret. Null when the tenant has no such client. */
export const ClientCredentialReply = Type.Object(
  {
    client: Type.Union([
      Type.Object({ clientId: Type.String(), tokenEndpointAuthMethod: TokenEndpointAuthMethod, secretHash: Type.Union([Type.String(), Type.Null()]) }, { additionalProperties: false }),
      Type.Null(),
    ]),
  },
  { additionalProperties: false },
);
export type ClientCredentialReply = Static<typeof ClientCredentialReply>;

export const federationIntrospectionSubjects = {
  'musubi.federation.introspection-state.get.v1': rpc('federation', IntrospectionStateRequest, IntrospectionState, 'Revoked access tokens and grants, for a gateway answering introspection itself (snapshot of the live feed).'),
  'musubi.federation.client-credential.get.v1': rpc('federation', ClientCredentialRequest, ClientCredentialReply, "A client's authentication method and secret hash, for a gateway authenticating introspection callers itself."),
} as const;
