import { assertUnreachable } from '@musubi/platform/errors';

/**
 * A tenant's own domain: `pending` until its DNS proof is found, then
 * `verified`; a verified domain whose proof is gone or wrong on two
 * consecutive checks is `lost` (still the tenant's, but closed to new login
 * IDs) until a check finds the proof again.
 */
export type DomainStatus = 'pending' | 'verified' | 'lost';

/**
 * What one look-up of the challenge record found. `record_missing` and
 * `wrong_value` are evidence about the domain; `dns_error` and `timeout` are
 * not (the resolver failed, not the proof) and change nothing but the report.
 */
export type CheckOutcome = 'matched' | 'record_missing' | 'wrong_value' | 'dns_error' | 'timeout';

export interface CheckResult {
  readonly outcome: CheckOutcome;
  /** For the tenant's administrator: what was looked up and what was found. */
  readonly message: string;
}

/** A domain as the directory's domain logic sees it. */
export interface Domain {
  readonly id: string;
  readonly tenantId: string;
  /** Lower case, A-labels (punycode), no trailing dot. */
  readonly name: string;
  readonly status: DomainStatus;
  /** Random, ≥ 128 bits, base64url: the proof is `musubi-domain-verification=<token>`. */
  readonly token: string;
  /** When the proof was last found after the domain was pending or lost. */
  readonly verifiedAt: Date | null;
  readonly lostAt: Date | null;
  readonly lastCheckedAt: Date | null;
  readonly lastCheckOutcome: CheckOutcome | null;
  readonly lastCheckMessage: string | null;
  /** Consecutive checks of a verified or lost domain that found the proof gone or wrong. */
  readonly failedChecks: number;
  /** When a verified or lost domain is due to be checked again; null while pending. */
  readonly nextCheckAt: Date | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly version: number;
}

/** The label of the TXT record, under the domain: `_musubi-challenge.acme.co.jp`. */
export const CHALLENGE_LABEL = '_musubi-challenge';
export const CHALLENGE_VALUE_PREFIX = 'musubi-domain-verification=';
/** A verified domain is lost after this many consecutive checks found its proof gone or wrong. */
export const LOST_AFTER_FAILED_CHECKS = 2;
/** A tenant registers at most this many domains (pending ones included). */
export const MAX_DOMAINS_PER_TENANT = 100;

export const challengeNameOf = (name: string): string => `${CHALLENGE_LABEL}.${name}`;
export const challengeValueOf = (token: string): string => `${CHALLENGE_VALUE_PREFIX}${token}`;

/** Whether the domain holds its name against every other tenant (a lost domain still does, until it is removed). */
export const holdsClaim = (status: DomainStatus): boolean => status !== 'pending';

export interface AfterCheck {
  readonly next: Domain;
  /** The status change the check made, for its event. */
  readonly transition: { readonly from: DomainStatus; readonly to: 'verified' | 'lost' } | null;
}

/**
 * What one check does to a domain, on demand or periodic alike:
 * - the proof found: verified (from pending, or restored from lost), the failure count reset;
 * - the proof gone or wrong: a pending domain stays pending; a verified one counts the
 *   failure and is lost at the second in a row; a lost one stays lost;
 * - the resolver failed: nothing but the report changes, the count included, so a DNS
 *   outage never takes a domain away.
 * Verified and lost domains are due again `recheckIntervalMs` after each check.
 */
export function afterCheck(d: Domain, result: CheckResult, now: Date, recheckIntervalMs: number): AfterCheck {
  const checked = {
    ...d,
    lastCheckedAt: now,
    lastCheckOutcome: result.outcome,
    lastCheckMessage: result.message,
    updatedAt: now,
    version: d.version + 1,
  };
  const due = new Date(now.getTime() + recheckIntervalMs);
  switch (result.outcome) {
    case 'matched':
      return {
        next: { ...checked, status: 'verified', verifiedAt: d.status === 'verified' ? d.verifiedAt : now, lostAt: null, failedChecks: 0, nextCheckAt: due },
        transition: d.status === 'verified' ? null : { from: d.status, to: 'verified' },
      };
    case 'record_missing':
    case 'wrong_value': {
      if (d.status === 'pending') return { next: checked, transition: null };
      const failedChecks = d.failedChecks + 1;
      if (d.status === 'verified' && failedChecks >= LOST_AFTER_FAILED_CHECKS) {
        return { next: { ...checked, status: 'lost', lostAt: now, failedChecks, nextCheckAt: due }, transition: { from: 'verified', to: 'lost' } };
      }
      return { next: { ...checked, failedChecks, nextCheckAt: due }, transition: null };
    }
    case 'dns_error':
    case 'timeout':
      return { next: { ...checked, nextCheckAt: d.status === 'pending' ? null : due }, transition: null };
    default:
      return assertUnreachable(result.outcome, 'check outcome');
  }
}
