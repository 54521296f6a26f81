import { Inject, Injectable } from '@nestjs/common';
import type { Tx } from '@musubi/platform/db';
import { CONFIG } from '@musubi/platform/runtime';
import type { DirectoryConfig } from '../config/env.schema.js';
import { DomainRepository } from './domain.repository.js';

/**
 * The domains a tenant's login IDs may use: its platform sub-domain always,
 * and the domains it proved it owns. The users feature asks; the domains
 * feature answers.
 */
@Injectable()
export class TenantDomains {
  constructor(
    @Inject(CONFIG) private readonly config: DirectoryConfig,
    // Optional only for unit tests that never ask allowedFor; Nest always injects it.
    @Inject(DomainRepository) private readonly domains: DomainRepository | null = null,
  ) {}

  platformDomainOf(slug: string): string {
    return `${slug}.${this.config.PLATFORM_DOMAIN}`;
  }

  /**
   * Lower-case domain names, the platform sub-domain first, then the tenant's
   * verified domains (A-labels, sorted). Pending and lost domains are not
   * among them: no new login ID goes into a domain whose proof is missing.
   */
  async allowedFor(tx: Tx | undefined, tenant: { readonly id: string; readonly slug: string }): Promise<string[]> {
    if (!this.domains) throw new Error('TenantDomains was built without its DomainRepository');
    return [this.platformDomainOf(tenant.slug), ...(await this.domains.verifiedNames(tx, tenant.id))];
  }
}
