import { Resolver } from 'node:dns/promises';
import { Inject, Injectable } from '@nestjs/common';
import { CONFIG } from '@musubi/platform/runtime';
import type { DirectoryConfig } from '../config/env.schema.js';
import { challengeNameOf, challengeValueOf, CHALLENGE_VALUE_PREFIX, type CheckResult } from './domain.js';

/** How long one check may take in all (the resolver is cancelled then). */
export const RECHECK_BUDGET_MS = 5000;

/**
 * Looks the challenge TXT record up with a real resolver: the `DNS_SERVERS`
 * when set, else the system's. A fresh resolver per check, so no answer is
 * served from a previous check's cache.
 */
@Injectable()
export class DnsChallenge {
  constructor(@Inject(CONFIG) private readonly config: DirectoryConfig) {}

  /**
   * A check answering within a bus request: the caller waits `BUS_REQUEST_TIMEOUT_MS`
   * for the reply, so the look-up gets that less a second (at most 4 s, at least 0.5 s).
   */
  get onDemandBudgetMs(): number {
    return Math.max(500, Math.min(4000, this.config.BUS_REQUEST_TIMEOUT_MS - 1000));
  }

  async check(name: string, token: string, budgetMs: number): Promise<CheckResult> {
    const recordName = challengeNameOf(name);
    const expected = challengeValueOf(token);
    // c-ares doubles the timeout on each try: three budget-thirds for two tries, and a hard stop at the budget.
    const resolver = new Resolver({ timeout: Math.max(100, Math.floor(budgetMs / 3)), tries: 2 });
    if (this.config.DNS_SERVERS.length > 0) resolver.setServers(this.config.DNS_SERVERS);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        resolver.cancel();
        reject(Object.assign(new Error('deadline'), { code: 'ETIMEOUT' }));
      }, budgetMs);
    });
    try {
      const records = await Promise.race([resolver.resolveTxt(recordName), deadline]);
      // A TXT record may come as several character-strings (255 bytes each at most): one value, joined.
      const values = records.map((chunks) => chunks.join(''));
      if (values.includes(expected)) return { outcome: 'matched', message: `Found the expected TXT record at ${recordName}.` };
      if (values.length === 0) return { outcome: 'record_missing', message: `There is no TXT record at ${recordName}.` };
      const ours = values.filter((v) => v.trim().startsWith(CHALLENGE_VALUE_PREFIX)).length;
      return {
        outcome: 'wrong_value',
        message:
          ours > 0
            ? `${recordName} has ${plural(ours, 'musubi-domain-verification value')}, but not this registration's (see challenge.recordValue; no quotes or spaces around it).`
            : `${recordName} has ${plural(values.length, 'TXT record')}, none of them the expected musubi-domain-verification value.`,
      };
    } catch (err) {
      return describeFailure(recordName, (err as { code?: unknown }).code, budgetMs);
    } finally {
      clearTimeout(timer);
      resolver.cancel();
    }
  }
}

const plural = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;

/** The resolver's error codes (node:dns), as the administrator should read them. */
function describeFailure(recordName: string, code: unknown, budgetMs: number): CheckResult {
  switch (code) {
    case 'ENOTFOUND':
      return { outcome: 'record_missing', message: `${recordName} does not exist in DNS (NXDOMAIN): publish the TXT record there.` };
    case 'ENODATA':
      return { outcome: 'record_missing', message: `There is no TXT record at ${recordName}.` };
    case 'ETIMEOUT':
    case 'ECANCELLED':
      return { outcome: 'timeout', message: `The DNS servers did not answer for ${recordName} within ${(budgetMs / 1000).toFixed(1)} s; try again later.` };
    case 'ESERVFAIL':
      return { outcome: 'dns_error', message: `The DNS servers failed to answer for ${recordName} (SERVFAIL); check the domain's name servers and DNSSEC.` };
    case 'EREFUSED':
      return { outcome: 'dns_error', message: `The DNS servers refused to answer for ${recordName} (REFUSED).` };
    default:
      return { outcome: 'dns_error', message: `The DNS look-up of ${recordName} failed (${typeof code === 'string' ? code : 'unknown error'}); try again later.` };
  }
}
