import { randomUUID } from 'node:crypto';
import { describe, expect, it, jest } from '@jest/globals';
import type { CallContext } from '@musubi/contracts';
import { DomainError } from '@musubi/platform/errors';
import type { SettingsService } from '../settings/settings.service.js';
import type { OperatorReads } from '../trail/operator-reads.js';
import type { ChainRow } from '../verification/chain.reader.js';
import type { AuditEventRepository } from './audit-event.repository.js';
import { AuditEventsService } from './audit-events.service.js';

/** A double that fails on any call the test did not stub. */
function strict<T extends object>(stubs: Partial<T>): T {
  return new Proxy(stubs, {
    get(target, key) {
      if (key in target) return target[key as keyof T];
      if (key === 'then') return undefined;
      throw new Error(`unstubbed call: ${String(key)}`);
    },
  }) as T;
}

const tenantId = randomUUID();
const asOperator: CallContext = { requestId: 'r', tenantId: null, caller: { kind: 'operator', id: 'bootstrap' } };
const asAuditor: CallContext = { requestId: 'r', tenantId, caller: { kind: 'user', userId: randomUUID(), tenantId, roles: ['auditor'] } };
const cursorOf = (key: unknown) => Buffer.from(JSON.stringify(key)).toString('base64url');

const row = (at: string, seq: number): ChainRow => ({
  tenant_id: tenantId,
  seq: String(seq),
  id: randomUUID(),
  format: 1,
  type: 'musubi.directory.tenant.created.v1',
  category: 'admin',
  occurred_at: at.replace('Z', '000Z'),
  recorded_at: at.replace('Z', '000Z'),
  expires_on: '2026-04-01',
  request_id: null,
  actor: { kind: 'operator', id: 'bootstrap' },
  actor_id: 'bootstrap',
  target_type: 'tenant',
  target_id: tenantId,
  target_user_id: null,
  result: null,
  method: null,
  ip: null,
  user_agent: null,
  device: null,
  application: null,
  changes: null,
  payload: {},
  prev_hash: Buffer.alloc(32),
  hash: Buffer.alloc(32),
});

const settings = () => strict<SettingsService>({ timeZoneOf: jest.fn<SettingsService['timeZoneOf']>().mockResolvedValue('Asia/Tokyo') });

describe('AuditEventsService.list', () => {
  it('hands the last item back as the cursor and the cursor back to the repository; times in the tenant zone', async () => {
    const rows = [row('2026-01-02T00:00:00.000Z', 2), row('2026-01-01T00:00:00.000Z', 1)];
    const search = jest.fn<AuditEventRepository['search']>().mockResolvedValue({ rows, hasMore: true });
    const note = jest.fn<OperatorReads['note']>().mockResolvedValue();
    const service = new AuditEventsService(strict<AuditEventRepository>({ search }), settings(), strict<OperatorReads>({ note }));

    const first = await service.list({ tenantId, limit: 2, result: 'success' }, asAuditor);
    expect(first.items.map((i) => i.id)).toEqual(rows.map((r) => r.id));
    expect(first.items[0]).toMatchObject({ occurredAt: '2026-01-02T00:00:00.000Z', occurredAtLocal: '2026-01-02T09:00:00.000+09:00', seq: 2, tenantId });
    expect(first.timeZone).toBe('Asia/Tokyo');
    expect(search).toHaveBeenLastCalledWith(tenantId, { result: 'success' }, null, 2);

    await service.list({ tenantId, limit: 2, cursor: first.nextCursor! }, asAuditor);
    expect(search).toHaveBeenLastCalledWith(tenantId, {}, { at: '2026-01-01T00:00:00.000Z', id: rows[1]!.id }, 2);

    search.mockResolvedValue({ rows: [], hasMore: false });
    expect(await service.list({ tenantId }, asAuditor)).toEqual({ items: [], nextCursor: null, timeZone: 'Asia/Tokyo' });
    expect(search).toHaveBeenLastCalledWith(tenantId, {}, null, 50);
    // Only the operator's reads are recorded in the tenant's trail.
    expect(note).toHaveBeenCalledTimes(3);
    for (const call of note.mock.calls) expect(call[0]).toBe(asAuditor);
  });

  it("records the operator's read of a tenant's trail", async () => {
    const search = jest.fn<AuditEventRepository['search']>().mockResolvedValue({ rows: [], hasMore: false });
    const note = jest.fn<OperatorReads['note']>().mockResolvedValue();
    const service = new AuditEventsService(strict<AuditEventRepository>({ search }), settings(), strict<OperatorReads>({ note }));
    await service.list({ tenantId, type: 'musubi.authn.login.failed.v1' }, asOperator);
    expect(note).toHaveBeenCalledWith(asOperator, tenantId, { operation: 'search', filters: { type: 'musubi.authn.login.failed.v1' }, returned: 0 });
  });

  it('refuses a forged cursor and bad filters before anything reaches the database', async () => {
    const service = new AuditEventsService(strict<AuditEventRepository>({}), strict<SettingsService>({}), strict<OperatorReads>({}));
    const forged = [
      'x',
      cursorOf({ at: 'now', id: randomUUID() }),
      cursorOf({ at: '2026-01-01', id: randomUUID() }),
      cursorOf({ at: '2026-01-01T00:00:00.000Z', id: 'nope' }),
      cursorOf({ at: '2026-01-01T00:00:00.000Z' }),
    ];
    for (const cursor of forged) {
      const err = await service.list({ tenantId, cursor }, asOperator).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DomainError);
      expect((err as DomainError).toBody()).toMatchObject({ code: 'validation_failed', details: [{ pointer: '/cursor' }] });
    }
    for (const [req, pointer] of [
      [{ ip: '10.0.0.300' }, '/ip'],
      [{ ip: '10.0.0.0/33' }, '/ip'],
      [{ ip: '10.0.0.0/8/1' }, '/ip'],
      [{ from: '2026-01-02T00:00:00Z', to: '2026-01-01T00:00:00Z' }, '/to'],
    ] as const) {
      const err = await service.list({ tenantId, ...req }, asOperator).catch((e: unknown) => e);
      expect((err as DomainError).toBody()).toMatchObject({ code: 'validation_failed', details: [{ pointer }] });
    }
  });

  it('tells a user of another tenant there is no such tenant, refuses a plain user and an anonymous caller', async () => {
    const service = new AuditEventsService(strict<AuditEventRepository>({}), strict<SettingsService>({}), strict<OperatorReads>({}));
    const cases: Array<[CallContext['caller'], string]> = [
      [{ kind: 'user', userId: randomUUID(), tenantId: randomUUID(), roles: ['auditor'] }, 'not_found'],
      [{ kind: 'user', userId: randomUUID(), tenantId: randomUUID(), roles: ['tenant_admin'] }, 'not_found'],
      [{ kind: 'user', userId: randomUUID(), tenantId, roles: [] }, 'forbidden'],
      [{ kind: 'user', userId: randomUUID(), tenantId, roles: ['helpdesk'] }, 'forbidden'],
      [{ kind: 'anonymous' }, 'unauthenticated'],
    ];
    for (const [caller, code] of cases) {
      await expect(service.list({ tenantId }, { requestId: 'r', tenantId, caller })).rejects.toMatchObject({ code });
    }
  });
});
