import { randomUUID } from 'node:crypto';
import { describe, expect, it, jest } from '@jest/globals';
import type { CallContext } from '@musubi/contracts';
import type { OutboxWriter } from '@musubi/platform/bus';
import type { UnitOfWork } from '@musubi/platform/db';
import { DomainError } from '@musubi/platform/errors';
import type { DirectoryConfig } from '../config/env.schema.js';
import { TenantDomains } from '../domains/tenant-domains.js';
import type { Tenant } from './tenant.js';
import type { TenantRepository } from './tenant.repository.js';
import { TenantsService } from './tenants.service.js';

/** A double that fails on any call the test did not stub. */
function strict<T extends object>(stubs: Partial<T>, what: string): T {
  return new Proxy(stubs, {
    get(target, key) {
      if (key in target) return target[key as keyof T];
      if (key === 'then') return undefined;
      throw new Error(`unstubbed ${what} call: ${String(key)}`);
    },
  }) as T;
}

const config = { PLATFORM_DOMAIN: 'id.example.com' } as DirectoryConfig;
const asOperator: CallContext = { requestId: 'r', tenantId: null, caller: { kind: 'operator', id: 'bootstrap' } };
const cursorOf = (key: unknown) => Buffer.from(JSON.stringify(key)).toString('base64url');

const tenant = (slug: string): Tenant => ({
  id: randomUUID(),
  slug,
  displayName: slug,
  status: 'active',
  timeZone: 'Asia/Tokyo',
  defaultLocale: 'ja-JP',
  userLimit: 10,
  groupLimit: 10,
  deletionRetentionDays: 30,
  syncedUsersReadOnly: true,
  suspendedAt: null,
  terminatedAt: null,
  createdAt: new Date('2026-01-01T00:00:00Z'),
  updatedAt: new Date('2026-01-01T00:00:00Z'),
  version: 1,
});

const serviceWith = (repo: Partial<TenantRepository>) =>
  new TenantsService(strict<TenantRepository>(repo, 'repository'), strict<UnitOfWork>({}, 'unit of work'), strict<OutboxWriter>({}, 'outbox'), new TenantDomains(config));

describe('TenantsService', () => {
  it("names the tenant's platform domain after the configured PLATFORM_DOMAIN", () => {
    const view = serviceWith({}).view(tenant('acme'));
    expect(view.platformDomain).toBe('acme.id.example.com');
  });

  it('pages by the last id it returned', async () => {
    const items = [tenant('a1'), tenant('a2')];
    const list = jest.fn<TenantRepository['list']>().mockResolvedValue({ items, hasMore: true });
    const service = serviceWith({ list });
    const page = await service.list({ limit: 2 }, asOperator);
    expect(page.items.map((t) => t.slug)).toEqual(['a1', 'a2']);
    await service.list({ limit: 2, cursor: page.nextCursor! }, asOperator);
    expect(list).toHaveBeenLastCalledWith(items[1]!.id, 2);
  });

  it('refuses a forged cursor before anything reaches the database', async () => {
    const service = serviceWith({});
    for (const cursor of ['x', cursorOf({}), cursorOf({ id: 7 }), cursorOf({ id: "' OR 1=1 --" })]) {
      const err = await service.list({ cursor }, asOperator).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DomainError);
      expect((err as DomainError).toBody()).toMatchObject({ code: 'validation_failed', details: [{ pointer: '/cursor' }] });
    }
  });

  it('refuses a reserved slug or a bad time zone without opening a transaction', async () => {
    const service = serviceWith({});
    await expect(service.create({ slug: 'admin', displayName: 'x' }, asOperator)).rejects.toMatchObject({ code: 'validation_failed', details: [{ pointer: '/slug' }] });
    await expect(service.create({ slug: 'fine', displayName: 'x', timeZone: 'Mars/Olympus' }, asOperator)).rejects.toMatchObject({
      code: 'validation_failed',
      details: [{ pointer: '/timeZone' }],
    });
  });
});
