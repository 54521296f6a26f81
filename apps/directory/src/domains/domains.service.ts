import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { CallContext, DomainView, ReplyOf, RequestOf } from '@musubi/contracts';
import { authorize } from '@musubi/platform/authz';
import { OutboxWriter, uuidv7 } from '@musubi/platform/bus';
import { UnitOfWork, decodeCursor, encodeCursor, type Tx } from '@musubi/platform/db';
import { DomainError } from '@musubi/platform/errors';
import type { Logger } from '@musubi/platform/logging';
import { CONFIG, LOGGER } from '@musubi/platform/runtime';
import type { DirectoryConfig } from '../config/env.schema.js';
import { DnsChallenge, RECHECK_BUDGET_MS } from './dns-challenge.js';
import { afterCheck, challengeNameOf, challengeValueOf, MAX_DOMAINS_PER_TENANT, type CheckResult, type Domain } from './domain.js';
import { normalizeDomainName, unicodeOf } from './domain-name.js';
import { claimed, DomainRepository, type DomainTenant } from './domain.repository.js';

export const domainView = (d: Domain): DomainView => ({
  id: d.id,
  tenantId: d.tenantId,
  name: d.name,
  unicodeName: unicodeOf(d.name),
  status: d.status,
  challenge: { recordName: challengeNameOf(d.name), recordType: 'TXT', recordValue: challengeValueOf(d.token) },
  lastCheck:
    d.lastCheckedAt && d.lastCheckOutcome ? { at: d.lastCheckedAt.toISOString(), outcome: d.lastCheckOutcome, message: d.lastCheckMessage ?? '' } : null,
  verifiedAt: d.verifiedAt?.toISOString() ?? null,
  lostAt: d.lostAt?.toISOString() ?? null,
  nextCheckAt: d.nextCheckAt?.toISOString() ?? null,
  createdAt: d.createdAt.toISOString(),
  updatedAt: d.updatedAt.toISOString(),
  version: d.version,
});

/** 128 bits of randomness, base64url (22 characters). */
const newToken = (): string => randomBytes(16).toString('base64url');

/** What one periodic round did. */
export interface RecheckRound {
  readonly checked: number;
  readonly lost: number;
  readonly restored: number;
}

/** Domains checked at once in a periodic round (each check waits on DNS, not on us). */
const RECHECK_CONCURRENCY = 8;
const RECHECK_BATCH = 50;
/** A replica that dies mid-check leaves its domains to the others after this long. */
const RECHECK_LEASE_MS = 10 * 60_000;

@Injectable()
export class DomainsService {
  constructor(
    private readonly domains: DomainRepository,
    private readonly dns: DnsChallenge,
    private readonly uow: UnitOfWork,
    private readonly outbox: OutboxWriter,
    @Inject(CONFIG) private readonly config: DirectoryConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  private get recheckIntervalMs(): number {
    return this.config.DOMAIN_RECHECK_INTERVAL_MINUTES * 60_000;
  }

  async register(req: RequestOf<'musubi.directory.domain.register.v1'>, ctx: CallContext): Promise<DomainView> {
    authorize(ctx, req.tenantId, 'domains:write');
    const normalized = normalizeDomainName(req.name, this.config.PLATFORM_DOMAIN);
    if (!normalized.ok) {
      throw new DomainError('validation_failed', `"${req.name.trim().slice(0, 80)}" ${normalized.detail}.`, [{ pointer: '/name', detail: normalized.detail }]);
    }
    const name = normalized.name;
    const now = new Date();
    const domain: Domain = {
      id: uuidv7(now.getTime()),
      tenantId: req.tenantId,
      name,
      status: 'pending',
      token: newToken(),
      verifiedAt: null,
      lostAt: null,
      lastCheckedAt: null,
      lastCheckOutcome: null,
      lastCheckMessage: null,
      failedChecks: 0,
      nextCheckAt: null,
      createdAt: now,
      updatedAt: now,
      version: 1,
    };
    const view = domainView(domain);
    await this.uow.run(async (tx) => {
      await this.writableTenant(tx, req.tenantId);
      if (await this.domains.claimedByAnother(tx, name, req.tenantId)) throw claimed();
      const count = await this.domains.countInTenant(tx, req.tenantId);
      if (count >= MAX_DOMAINS_PER_TENANT) throw new DomainError('limit_exceeded', `The tenant already has ${count} domains, the most it may register.`);
      await this.domains.insert(tx, domain);
      await this.outbox.append(tx, 'musubi.directory.domain.registered.v1', { domain: view }, { tenantId: req.tenantId });
    });
    return view;
  }

  async get(req: RequestOf<'musubi.directory.domain.get.v1'>, ctx: CallContext): Promise<DomainView> {
    authorize(ctx, req.tenantId, 'domains:read');
    return domainView(await this.find(req.tenantId, req.domainId));
  }

  async list(req: RequestOf<'musubi.directory.domain.list.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.directory.domain.list.v1'>> {
    authorize(ctx, req.tenantId, 'domains:read');
    const after = decodeCursor(req.cursor, { id: 'uuid' });
    if (!(await this.domains.findTenant(req.tenantId))) throw new DomainError('not_found', 'No such tenant.');
    const page = await this.domains.list(req.tenantId, after?.id ?? null, req.limit ?? 50);
    const last = page.items[page.items.length - 1];
    return { items: page.items.map(domainView), nextCursor: page.hasMore && last ? encodeCursor({ id: last.id }) : null };
  }

  /**
   * Looks the challenge record up now (outside any transaction), then records
   * what was found. Refused at once when another tenant holds the name; if
   * another tenant's verification wins a race meanwhile, the unique index
   * refuses this one (`domain_claimed`) and nothing is written.
   */
  async verify(req: RequestOf<'musubi.directory.domain.verify.v1'>, ctx: CallContext): Promise<DomainView> {
    authorize(ctx, req.tenantId, 'domains:write');
    const domain = await this.find(req.tenantId, req.domainId);
    const tenant = await this.domains.findTenant(req.tenantId);
    if (tenant?.status === 'terminated') throw new DomainError('conflict', 'The tenant is terminated.');
    if (domain.status === 'pending' && (await this.domains.claimedByAnother(undefined, domain.name, domain.tenantId))) throw claimed();
    const result = await this.dns.check(domain.name, domain.token, this.dns.onDemandBudgetMs);
    const next = await this.record(domain, result, new Date());
    if (!next) throw new DomainError('not_found', 'No such domain.');
    return domainView(next);
  }

  /**
   * Removes a domain. Refused while users of the tenant have login IDs in it
   * (they would keep a domain nobody vouches for); the tenant row is locked
   * so that no user can be created in the domain meanwhile.
   */
  async remove(req: RequestOf<'musubi.directory.domain.remove.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.directory.domain.remove.v1'>> {
    authorize(ctx, req.tenantId, 'domains:write');
    await this.uow.run(async (tx) => {
      const tenant = await this.domains.lockTenant(tx, req.tenantId);
      if (!tenant) throw new DomainError('not_found', 'No such domain.');
      const domain = await this.domains.lockById(tx, req.tenantId, req.domainId);
      if (!domain) throw new DomainError('not_found', 'No such domain.');
      const users = await this.domains.countUsersIn(tx, req.tenantId, domain.name);
      if (users > 0) {
        throw new DomainError('conflict', `${users} ${users === 1 ? 'user has a login ID' : 'users have login IDs'} in ${domain.name}; change or delete them first.`);
      }
      if (!(await this.domains.delete(tx, domain))) throw new DomainError('conflict', 'The domain changed meanwhile; try again.');
      await this.outbox.append(tx, 'musubi.directory.domain.removed.v1', { domain: domainView(domain) }, { tenantId: req.tenantId });
    });
    return {};
  }

  /**
   * One periodic round over every replica's shared queue: leases the verified
   * and lost domains due at `now`, checks them a few at a time, and records
   * each result, until none is due. Safe to run on several replicas at once.
   */
  async recheckDue(now: Date = new Date()): Promise<RecheckRound> {
    let checked = 0;
    let lost = 0;
    let restored = 0;
    for (;;) {
      const due = await this.domains.leaseDue(now, new Date(now.getTime() + RECHECK_LEASE_MS), RECHECK_BATCH);
      for (let i = 0; i < due.length; i += RECHECK_CONCURRENCY) {
        await Promise.all(
          due.slice(i, i + RECHECK_CONCURRENCY).map(async (d) => {
            const result = await this.dns.check(d.name, d.token, RECHECK_BUDGET_MS);
            const next = await this.record(d, result, now);
            checked++;
            if (d.status === 'verified' && next?.status === 'lost') lost++;
            if (d.status === 'lost' && next?.status === 'verified') restored++;
          }),
        );
      }
      if (due.length < RECHECK_BATCH) break;
    }
    return { checked, lost, restored };
  }

  /**
   * Records a check's result on the domain as it is now (locked), with the
   * event of the status change it made. Null when the domain was removed or
   * registered anew while the look-up ran.
   */
  private async record(checkedDomain: Domain, result: CheckResult, now: Date): Promise<Domain | null> {
    return this.uow.run(async (tx) => {
      const current = await this.domains.lockById(tx, checkedDomain.tenantId, checkedDomain.id);
      if (!current || current.token !== checkedDomain.token) return null;
      const { next, transition } = afterCheck(current, result, now, this.recheckIntervalMs);
      if (!(await this.domains.update(tx, current, next))) throw new Error('a locked domain changed');
      const view = domainView(next);
      if (transition?.to === 'verified') {
        await this.outbox.append(tx, 'musubi.directory.domain.verified.v1', { domain: view, previousStatus: transition.from === 'lost' ? 'lost' : 'pending' }, { tenantId: next.tenantId });
      } else if (transition?.to === 'lost') {
        this.logger.warn({ domainId: next.id, domain: next.name, tenantId: next.tenantId }, 'domain lost its DNS proof');
        await this.outbox.append(tx, 'musubi.directory.domain.lapsed.v1', { domain: view }, { tenantId: next.tenantId });
      }
      return next;
    });
  }

  private async find(tenantId: string, id: string): Promise<Domain> {
    const d = await this.domains.findById(tenantId, id);
    if (!d) throw new DomainError('not_found', 'No such domain.');
    return d;
  }

  private async writableTenant(tx: Tx, tenantId: string): Promise<DomainTenant> {
    const tenant = await this.domains.lockTenant(tx, tenantId);
    if (!tenant) throw new DomainError('not_found', 'No such tenant.');
    if (tenant.status === 'terminated') throw new DomainError('conflict', 'The tenant is terminated.');
    return tenant;
  }
}
