import { describe, expect, it, jest } from '@jest/globals';
import type { AuditVerificationReport } from '@musubi/contracts';
import { createLogger } from '@musubi/platform/logging';
import type { AuditConfig } from '../config/env.schema.js';
import type { VerifyService } from '../verification/verify.service.js';
import type { CheckpointRepository } from './checkpoint.repository.js';
import { CheckpointService } from './checkpoint.service.js';
import { CheckpointSigner } from './signer.js';

const tenantId = '0190f5d2-7c1e-7a3b-9c4d-5e6f7a8b9c0d';
const logger = createLogger({ service: 'audit-unit', level: 'silent' });
const config = { AUDIT_CHECKPOINT_INTERVAL_SECONDS: 300 } as AuditConfig;

const report = (ok: boolean, toSeq: number): AuditVerificationReport => ({
  tenantId,
  ok,
  fromSeq: 1,
  toSeq,
  records: toSeq,
  checkpoints: 0,
  anchoredThroughSeq: null,
  unanchored: toSeq,
  purgedThroughSeq: null,
  failure: ok ? null : { reason: 'hash_mismatch', seq: 3, eventId: null, detail: 'x' },
  complete: true,
  nextFromSeq: null,
});

function setup(ok: boolean) {
  const insert = jest.fn<CheckpointRepository['insert']>().mockResolvedValue();
  const repo = {
    dueHeads: jest.fn<CheckpointRepository['dueHeads']>().mockResolvedValue([{ tenantId, seq: 5, hash: 'ab'.repeat(32), recordedAt: '2026-01-01T00:00:00.000Z' }]),
    page: jest.fn<CheckpointRepository['page']>().mockResolvedValue([]),
    recordAt: jest.fn<CheckpointRepository['recordAt']>().mockResolvedValue({ hash: 'ab'.repeat(32), recordedAt: '2026-01-01T00:00:00.000Z' }),
    at: jest.fn<CheckpointRepository['at']>(async () => insert.mock.calls[0]?.[0] ?? null),
    insert,
  } as unknown as CheckpointRepository;
  const verify = jest.fn<VerifyService['verify']>().mockResolvedValue(report(ok, 5));
  const service = new CheckpointService(repo, new CheckpointSigner({ AUDIT_SIGNING_KEY: undefined }), { verify } as unknown as VerifyService, config, logger);
  return { service, insert, verify };
}

describe('CheckpointService', () => {
  it('signs the head of a chain that moved, after verifying the records since the last checkpoint', async () => {
    const { service, insert, verify } = setup(true);
    expect(await service.issueDue()).toBe(1);
    expect(verify).toHaveBeenCalledWith(tenantId, { fromSeq: undefined, toSeq: 5 });
    expect(insert.mock.calls[0]?.[0]).toMatchObject({ tenantId, seq: 5, hash: 'ab'.repeat(32) });
  });

  it('signs nothing over records that do not verify', async () => {
    const { service, insert } = setup(false);
    expect(await service.issueDue()).toBe(0);
    expect(insert).not.toHaveBeenCalled();
  });
});
