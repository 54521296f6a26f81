import { Injectable } from '@nestjs/common';
import type { AuditCheckpointView, AuditSigningKeyView, AuditVerificationReport, CallContext, ReplyOf, RequestOf } from '@musubi/contracts';
import { authorize } from '@musubi/platform/authz';
import { validationError } from '@musubi/platform/errors';
import { checkpointMessage, type CheckpointData } from '../chain/offline-verifier.js';
import { CheckpointRepository } from '../checkpoints/checkpoint.repository.js';
import { CheckpointSigner } from '../checkpoints/signer.js';
import { OperatorReads } from '../trail/operator-reads.js';
import { VerifyService } from './verify.service.js';

/** Records one verification call checks at most; a longer range continues from `nextFromSeq`. */
export const VERIFY_CALL_LIMIT = 50_000;

export const checkpointViewOf = (cp: CheckpointData): AuditCheckpointView => ({
  tenantId: cp.tenantId,
  seq: cp.seq,
  hash: cp.hash,
  recordedAt: cp.recordedAt,
  issuedAt: cp.issuedAt,
  keyId: cp.keyId,
  signature: cp.signature,
  signedMessage: checkpointMessage(cp),
});

const seqCursor = (seq: number): string => Buffer.from(JSON.stringify({ seq })).toString('base64url');

function decodeSeqCursor(cursor: string | undefined): number | null {
  if (cursor === undefined) return null;
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { seq?: unknown };
    if (typeof parsed.seq === 'number' && Number.isSafeInteger(parsed.seq) && parsed.seq > 0) return parsed.seq;
  } catch {
    // falls through
  }
  throw validationError([{ pointer: '/cursor', detail: 'is not a cursor from a previous page' }], 'The cursor is not valid.');
}

/** The chain's API: verification of a range, the signed checkpoints, the signing keys. */
@Injectable()
export class ChainApiService {
  constructor(
    private readonly verifier: VerifyService,
    private readonly checkpoints: CheckpointRepository,
    private readonly signer: CheckpointSigner,
    private readonly reads: OperatorReads,
  ) {}

  async verify(req: RequestOf<'musubi.audit.chain.verify.v1'>, ctx: CallContext): Promise<AuditVerificationReport> {
    authorize(ctx, req.tenantId, 'audit:read');
    const tenantId = req.tenantId.toLowerCase();
    if (req.from !== undefined && req.fromSeq !== undefined) throw validationError([{ pointer: '/fromSeq', detail: 'give from or fromSeq, not both' }]);
    if (req.to !== undefined && req.toSeq !== undefined) throw validationError([{ pointer: '/toSeq', detail: 'give to or toSeq, not both' }]);
    if (req.fromSeq !== undefined && req.toSeq !== undefined && req.fromSeq > req.toSeq) throw validationError([{ pointer: '/toSeq', detail: 'must not be below fromSeq' }]);
    if (req.from !== undefined && req.to !== undefined && Date.parse(req.from) >= Date.parse(req.to)) throw validationError([{ pointer: '/to', detail: 'must be after from' }]);
    await this.reads.note(ctx, tenantId, { operation: 'verify', range: { from: req.from, to: req.to, fromSeq: req.fromSeq, toSeq: req.toSeq } });
    return this.verifier.verify(tenantId, {
      fromSeq: req.fromSeq,
      toSeq: req.toSeq,
      from: req.from === undefined ? undefined : new Date(req.from).toISOString(),
      to: req.to === undefined ? undefined : new Date(req.to).toISOString(),
      maxRecords: VERIFY_CALL_LIMIT,
    });
  }

  async checkpointPage(req: RequestOf<'musubi.audit.checkpoint.list.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.audit.checkpoint.list.v1'>> {
    authorize(ctx, req.tenantId, 'audit:read');
    const tenantId = req.tenantId.toLowerCase();
    const before = decodeSeqCursor(req.cursor);
    const limit = req.limit ?? 50;
    const rows = await this.checkpoints.page(tenantId, before, limit + 1);
    const items = rows.slice(0, limit).map(checkpointViewOf);
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > limit && last ? seqCursor(last.seq) : null };
  }

  async signingKeys(req: RequestOf<'musubi.audit.signing-key.list.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.audit.signing-key.list.v1'>> {
    authorize(ctx, req.tenantId, 'audit:read');
    const keys: AuditSigningKeyView[] = (await this.checkpoints.keys()).map((k) => ({
      keyId: k.keyId,
      algorithm: 'Ed25519',
      publicKeyPem: k.publicKeyPem,
      current: k.keyId === this.signer.keyId,
      firstUsedAt: k.firstUsedAt,
    }));
    return { keys };
  }
}
