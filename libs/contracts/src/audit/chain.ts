import { Type, type Static } from '@sinclair/typebox';
import { PageQuery, Timestamp, Uuid } from '../common/schemas.js';

/**
 * A range of a tenant's chain: by sequence number, or by the time audit recorded
 * the events (recordedAt, which grows with the sequence). Without bounds: the
 * whole chain that retention has kept.
 */
export const AuditVerifyRequest = Type.Object(
  {
    tenantId: Uuid,
    from: Type.Optional(Type.String({ format: 'date-time', description: 'First recordedAt to check (RFC 3339)' })),
    to: Type.Optional(Type.String({ format: 'date-time', description: 'Check records recorded before this instant' })),
    fromSeq: Type.Optional(Type.Integer({ minimum: 1 })),
    toSeq: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);
export type AuditVerifyRequest = Static<typeof AuditVerifyRequest>;

/** The query string of the admin API's verification (the tenant is in the path). */
export const AuditVerifyQuery = Type.Omit(AuditVerifyRequest, ['tenantId'], { additionalProperties: false });
export type AuditVerifyQuery = Static<typeof AuditVerifyQuery>;

export const AUDIT_VERIFY_FAILURES = [
  'hash_mismatch',
  'chain_broken',
  'sequence_gap',
  'missing_records',
  'checkpoint_mismatch',
  'bad_signature',
  'unknown_key',
  'head_mismatch',
] as const;
export type AuditVerifyFailure = (typeof AUDIT_VERIFY_FAILURES)[number];

export const AuditVerificationReport = Type.Object(
  {
    tenantId: Uuid,
    ok: Type.Boolean(),
    fromSeq: Type.Union([Type.Integer(), Type.Null()]),
    toSeq: Type.Union([Type.Integer(), Type.Null()]),
    records: Type.Integer({ description: 'Records checked' }),
    checkpoints: Type.Integer({ description: 'Signed checkpoints in the range whose signature and hash were checked' }),
    anchoredThroughSeq: Type.Union([Type.Integer(), Type.Null()], { description: 'The last record covered by a valid signed checkpoint' }),
    unanchored: Type.Integer({ description: 'Records after the last checkpoint: chained, not yet signed' }),
    purgedThroughSeq: Type.Union([Type.Integer(), Type.Null()], { description: 'Records up to here were removed by retention' }),
    failure: Type.Union([
      Type.Object(
        {
          reason: Type.Union(AUDIT_VERIFY_FAILURES.map((r) => Type.Literal(r))),
          seq: Type.Integer(),
          eventId: Type.Union([Uuid, Type.Null()]),
          detail: Type.String(),
        },
        { additionalProperties: false },
      ),
      Type.Null(),
    ]),
    complete: Type.Boolean({ description: 'False when the range was too long for one call: continue from nextFromSeq' }),
    nextFromSeq: Type.Union([Type.Integer(), Type.Null()]),
  },
  { additionalProperties: false },
);
export type AuditVerificationReport = Static<typeof AuditVerificationReport>;

/**
 * A signed statement "record `seq` of this tenant's chain has hash `hash`".
 * `signedMessage` is exactly the bytes (UTF-8) signed with Ed25519; it is the
 * canonical JSON of the other fields (see apps/audit/src/chain/offline-verifier.ts).
 */
export const AuditCheckpointView = Type.Object(
  {
    tenantId: Type.Union([Uuid, Type.Null()]),
    seq: Type.Integer({ minimum: 1 }),
    hash: Type.String({ description: 'SHA-256 of the record at seq, hex' }),
    recordedAt: Timestamp,
    issuedAt: Timestamp,
    keyId: Type.String(),
    signature: Type.String({ description: 'Ed25519 signature of signedMessage, base64url' }),
    signedMessage: Type.String(),
  },
  { additionalProperties: false },
);
export type AuditCheckpointView = Static<typeof AuditCheckpointView>;

export const AuditCheckpointListRequest = Type.Object({ tenantId: Uuid, ...PageQuery }, { additionalProperties: false });
export const AuditCheckpointListQuery = Type.Object({ ...PageQuery }, { additionalProperties: false });
export type AuditCheckpointListQuery = Static<typeof AuditCheckpointListQuery>;
export const AuditCheckpointPage = Type.Object(
  { items: Type.Array(AuditCheckpointView), nextCursor: Type.Union([Type.String(), Type.Null()]) },
  { additionalProperties: false },
);

export const AuditSigningKeyListRequest = Type.Object({ tenantId: Uuid }, { additionalProperties: false });
export const AuditSigningKeyView = Type.Object(
  {
    keyId: Type.String({ description: 'First 16 bytes of the SHA-256 of the SubjectPublicKeyInfo, hex' }),
    algorithm: Type.Literal('Ed25519'),
    publicKeyPem: Type.String(),
    current: Type.Boolean({ description: 'The key signing new checkpoints' }),
    firstUsedAt: Timestamp,
  },
  { additionalProperties: false },
);
export type AuditSigningKeyView = Static<typeof AuditSigningKeyView>;
export const AuditSigningKeyList = Type.Object({ keys: Type.Array(AuditSigningKeyView) }, { additionalProperties: false });
