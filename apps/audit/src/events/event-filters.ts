import { isIP } from 'node:net';
import type { AuditFilters } from '@musubi/contracts';
import { validationError } from '@musubi/platform/errors';
import { normalizeIp } from '../trail/classify.js';

/** A filter set, checked and ready for SQL. */
export interface CheckedFilters {
  readonly from?: string;
  readonly to?: string;
  readonly type?: string;
  readonly category?: string;
  readonly actor?: string;
  readonly user?: string;
  readonly result?: 'success' | 'failure';
  /** An exact address (normalised as the trail stores it) or a CIDR block. */
  readonly ip?: { readonly exact: string } | { readonly cidr: string };
  readonly application?: string;
}

const FILTER_KEYS = ['from', 'to', 'type', 'category', 'actor', 'user', 'result', 'ip', 'application'] as const;

/** Only the filters, from a request that also carries other fields. */
export function filtersOf(req: Partial<AuditFilters>): AuditFilters {
  const out: Record<string, unknown> = {};
  for (const k of FILTER_KEYS) if (req[k] !== undefined) out[k] = req[k];
  return out;
}

/** True when only a time range (or nothing) is asked: what an export needs to carry a complete chain. */
export const onlyTimeRange = (f: AuditFilters): boolean => Object.keys(f).every((k) => k === 'from' || k === 'to');

export function checkFilters(f: AuditFilters): CheckedFilters {
  let ip: CheckedFilters['ip'];
  if (f.ip !== undefined) {
    const [addr = '', bits, ...rest] = f.ip.split('/');
    const family = isIP(addr);
    const n = bits === undefined ? null : /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
    if (rest.length > 0 || family === 0 || (n !== null && !(n >= 0 && n <= (family === 4 ? 32 : 128)))) {
      throw validationError([{ pointer: '/ip', detail: 'must be an IP address or a CIDR block' }]);
    }
    ip = n === null ? { exact: normalizeIp(addr) ?? addr } : { cidr: `${addr}/${n}` };
  }
  if (f.from !== undefined && f.to !== undefined && Date.parse(f.from) >= Date.parse(f.to)) {
    throw validationError([{ pointer: '/to', detail: 'must be after from' }]);
  }
  return {
    ...(f.from !== undefined ? { from: new Date(f.from).toISOString() } : {}),
    ...(f.to !== undefined ? { to: new Date(f.to).toISOString() } : {}),
    ...(f.type !== undefined ? { type: f.type } : {}),
    ...(f.category !== undefined ? { category: f.category } : {}),
    ...(f.actor !== undefined ? { actor: f.actor } : {}),
    ...(f.user !== undefined ? { user: f.user.toLowerCase() } : {}),
    ...(f.result !== undefined ? { result: f.result } : {}),
    ...(ip ? { ip } : {}),
    ...(f.application !== undefined ? { application: f.application } : {}),
  };
}

/**
 * WHERE clauses for the filters, with parameters numbered from `first`. Each
 * filter names its column as the matching index does (the partial indexes'
 * predicates are written out, so the planner can use them with parameters).
 * `time` says whether from/to bound occurredAt (search) or recordedAt (export).
 */
export function filterSql(f: CheckedFilters, first: number, time: 'occurred_at' | 'recorded_at'): { clauses: string[]; params: unknown[] } {
  const clauses: string[] = [];
  const params: unknown[] = [];
  const p = (v: unknown) => {
    params.push(v);
    return `$${first + params.length - 1}`;
  };
  if (f.from) clauses.push(`${time} >= ${p(f.from)}::timestamptz`);
  if (f.to) clauses.push(`${time} < ${p(f.to)}::timestamptz`);
  if (f.type) clauses.push(`type = ${p(f.type)}`);
  if (f.category) clauses.push(`category = ${p(f.category)}`);
  if (f.actor) clauses.push(`actor_id IS NOT NULL AND actor_id = ${p(f.actor)}`);
  if (f.user) clauses.push(`target_user_id IS NOT NULL AND target_user_id = ${p(f.user)}::uuid`);
  if (f.result === 'failure') clauses.push(`result = 'failure'`);
  if (f.result === 'success') clauses.push(`result = 'success'`);
  if (f.ip && 'exact' in f.ip) clauses.push(`ip IS NOT NULL AND (ip::inet) = ${p(f.ip.exact)}::inet`);
  if (f.ip && 'cidr' in f.ip) clauses.push(`ip IS NOT NULL AND (ip::inet) <<= ${p(f.ip.cidr)}::inet`);
  if (f.application) clauses.push(`application IS NOT NULL AND application = ${p(f.application)}`);
  return { clauses, params };
}
