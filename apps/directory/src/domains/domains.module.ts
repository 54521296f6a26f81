import { Global, Module } from '@nestjs/common';
import { DnsChallenge } from './dns-challenge.js';
import { DomainRecheckJob } from './domain-recheck.job.js';
import { DomainRepository } from './domain.repository.js';
import { DomainsHandler } from './domains.handler.js';
import { DomainsService } from './domains.service.js';
import { TenantDomains } from './tenant-domains.js';

/** The tenant's own domains, their DNS proof and periodic re-checks. TenantDomains is global: users ask it. */
@Global()
@Module({
  controllers: [DomainsHandler],
  providers: [TenantDomains, DomainRepository, DomainsService, DnsChallenge, DomainRecheckJob],
  exports: [TenantDomains],
})
export class DomainsModule {}
