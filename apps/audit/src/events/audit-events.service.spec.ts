import { randomUUID } from 'node:crypto';
import { describe, expect, it, jest } from '@jest/globals';
import type { AuditEventView, CallContext, EventEnvelope } from '@musubi/contracts';
import { DomainError } from '@musubi/platform/errors';
import { createLogger } from '@musubi/platform/logging';
import { EventConsumers } from '@musubi/platform/runtime';
import type { AuditEventRepository } from './audit-event.repository.js';
import { AuditEventsService } from './audit-events.service.js';

/** A repository double that fails on any call the test did not stub. */
function strictRepository(stubs: Partial<AuditEventRepository>): AuditEventRepository {
  return new Proxy(stubs, {
    get(target, key) {
      if (key in target) return target[key as keyof AuditEventRepository];
      if (key === 'then') return undefined;
      throw new Error(`unstubbed repository call: ${String(key)}`);
    },
  }) as AuditEventRepository;
}

const logger = createLogger({ service: 'audit-unit', level: 'silent' });
const tenantId = randomUUID();
const asOperator: CallContext = { requestId: 'r', tenantId: null, caller: { kind: 'operator', id: 'bootstrap' } };
const cursorOf = (key: unknown) => Buffer.from(JSON.stringify(key)).toString('base64url');

const event = (at: string): AuditEventView => ({
  id: randomUUID(),
  tenantId,
  type: 'musubi.directory.tenant.created.v1',
  occurredAt: at,
  recordedAt: at,
  actor: { kind: 'operator', id: 'bootstrap' },
  requestId: null,
  payload: {},
});

describe('AuditEventsService.list', () => {
  it('hands the last item back as the cursor, and the cursor back to the repository', async () => {
    const items = [event('2026-01-02T00:00:00.000Z'), event('2026-01-01T00:00:00.000Z')];
    const listForTenant = jest.fn<AuditEventRepository['listForTenant']>().mockResolvedValue({ items, hasMore: true });
    const service = new AuditEventsService(strictRepository({ listForTenant }), new EventConsumers(), logger);

    const first = await service.list({ tenantId, limit: 2 }, asOperator);
    expect(first.items).toEqual(items);
    expect(listForTenant).toHaveBeenLastCalledWith(tenantId, null, 2);

    await service.list({ tenantId, limit: 2, cursor: first.nextCursor! }, asOperator);
    expect(listForTenant).toHaveBeenLastCalledWith(tenantId, { at: items[1]!.occurredAt, id: items[1]!.id }, 2);

    listForTenant.mockResolvedValue({ items: [], hasMore: false });
    expect(await service.list({ tenantId }, asOperator)).toEqual({ items: [], nextCursor: null });
    expect(listForTenant).toHaveBeenLastCalledWith(tenantId, null, 50);
  });

  it('refuses a forged cursor before anything reaches the database', async () => {
    const service = new AuditEventsService(strictRepository({}), new EventConsumers(), logger);
    const forged = [
      'x',
      cursorOf({ at: 'now', id: randomUUID() }),
      cursorOf({ at: 'yesterday', id: randomUUID() }),
      cursorOf({ at: '2026-01-01', id: randomUUID() }),
      cursorOf({ at: '2026-01-01T00:00:00.000Z', id: 'nope' }),
      cursorOf({ at: '2026-01-01T00:00:00.000Z' }),
    ];
    for (const cursor of forged) {
      const err = await service.list({ tenantId, cursor }, asOperator).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DomainError);
      expect((err as DomainError).toBody()).toMatchObject({ code: 'validation_failed', details: [{ pointer: '/cursor' }] });
    }
  });

  it('tells a user of another tenant there is no such tenant, refuses a plain user and an anonymous caller', async () => {
    const service = new AuditEventsService(strictRepository({}), new EventConsumers(), logger);
    const cases: Array<[CallContext['caller'], string]> = [
      [{ kind: 'user', userId: randomUUID(), tenantId: randomUUID(), roles: ['auditor'] }, 'not_found'],
      [{ kind: 'user', userId: randomUUID(), tenantId, roles: [] }, 'forbidden'],
      [{ kind: 'user', userId: randomUUID(), tenantId, roles: ['helpdesk'] }, 'forbidden'],
      [{ kind: 'anonymous' }, 'unauthenticated'],
    ];
    for (const [caller, code] of cases) {
      await expect(service.list({ tenantId }, { requestId: 'r', tenantId, caller })).rejects.toMatchObject({ code });
    }
  });
});

describe('AuditEventsService consumers', () => {
  it("reads the stream of every service that emits events, and records each batch", async () => {
    const insertMany = jest.fn<AuditEventRepository['insertMany']>().mockResolvedValue(1);
    const consumers = new EventConsumers();
    const service = new AuditEventsService(strictRepository({ insertMany }), consumers, logger);
    service.onModuleInit();
    expect(consumers.registrations.map((r) => r.from).sort()).toEqual(['authn', 'directory']);
    const batch = [{ id: randomUUID() } as EventEnvelope];
    await consumers.registrations[0]!.handle(batch);
    expect(insertMany).toHaveBeenCalledWith(batch);
  });
});
