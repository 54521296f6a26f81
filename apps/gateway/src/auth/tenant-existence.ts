import { Injectable } from '@nestjs/common';
import type { CallContext } from '@musubi/contracts';
import { BusClient } from '@musubi/platform/bus';
import { DomainError } from '@musubi/platform/errors';

/** How long a tenant seen to exist is taken to exist (terminated tenants still do; only their data goes). */
const KNOWN_FOR_MS = 30_000;
const MAX_KNOWN = 10_000;

/**
 * Whether the tenant of a tenant-scoped route exists, for the platform
 * operator's calls (a user's or token's tenant exists by definition): every
 * such route answers 404 for an unknown tenant, whichever service serves it,
 * rather than an empty list from a service that keeps no tenant table.
 */
@Injectable()
export class TenantExistence {
  private readonly known = new Map<string, number>();

  constructor(private readonly bus: BusClient) {}

  async assert(tenantId: string, ctx: CallContext): Promise<void> {
    const id = tenantId.toLowerCase();
    const until = this.known.get(id);
    if (until !== undefined && until > Date.now()) return;
    // Not found is answered by the bus as a DomainError('not_found'), which is what the caller should see.
    await this.bus.request('musubi.directory.tenant.get.v1', { id }, ctx);
    if (this.known.size >= MAX_KNOWN) this.known.clear();
    this.known.set(id, Date.now() + KNOWN_FOR_MS);
  }
}

export const noSuchTenant = (): DomainError => new DomainError('not_found', 'No such resource.');
