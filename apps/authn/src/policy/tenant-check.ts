import { Injectable } from '@nestjs/common';
import type { CallContext } from '@musubi/contracts';
import { BusClient } from '@musubi/platform/bus';

const TTL_MS = 30_000;

/**
 * Whether a tenant exists, asked of directory (not_found otherwise) and kept
 * 30 seconds: authn keeps per-tenant rows (policy, templates, tokens) and must
 * not create them for a tenant nobody has.
 */
@Injectable()
export class TenantCheck {
  private readonly known = new Map<string, number>();

  constructor(private readonly bus: BusClient) {}

  async assertExists(tenantId: string, ctx: CallContext): Promise<void> {
    const until = this.known.get(tenantId);
    if (until && until > Date.now()) return;
    await this.bus.request('musubi.directory.tenant.get.v1', { id: tenantId }, { ...ctx, tenantId, caller: { kind: 'service', service: 'authn' } });
    if (this.known.size > 10_000) this.known.clear();
    this.known.set(tenantId, Date.now() + TTL_MS);
  }
}
