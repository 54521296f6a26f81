import { Injectable } from '@nestjs/common';
import type { TenantView } from '@musubi/contracts';
import { BusClient } from '@musubi/platform/bus';
import { DomainError } from '@musubi/platform/errors';

const TTL_MS = 30_000;
const SLUG = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;

/** Resolves `/t/{slug}` to a tenant, cached briefly: every page and protocol request starts here. */
@Injectable()
export class TenantResolver {
  private readonly cache = new Map<string, { tenant: TenantView; until: number }>();

  constructor(private readonly bus: BusClient) {}

  async bySlug(slug: string): Promise<TenantView> {
    if (!SLUG.test(slug)) throw new DomainError('not_found', 'No such tenant.');
    const hit = this.cache.get(slug);
    if (hit && hit.until > Date.now()) return hit.tenant;
    const tenant = await this.bus.request('musubi.directory.tenant.get-by-slug.v1', { slug }, { requestId: `resolve-${slug}`, tenantId: null, caller: { kind: 'service', service: 'gateway' } });
    if (tenant.status !== 'active') throw new DomainError('not_found', 'No such tenant.');
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(slug, { tenant, until: Date.now() + TTL_MS });
    return tenant;
  }
}
