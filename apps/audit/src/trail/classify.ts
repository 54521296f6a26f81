import { isIP } from 'node:net';
import type { AuditCategory, AuditChange, AuditResult, Caller } from '@musubi/contracts';
import { diff } from './diff.js';
import { cleanString } from './redact.js';

/**
 * What the audit trail indexes about an event, derived from its type and payload
 * by rules that hold for every producer (present and future), not per subject:
 * `musubi.<owner>.<aggregate>.<event>.v<N>` says what kind of thing happened, and
 * the common payload shapes (`userId`, `ip`, `client.ip`, `before`/`after`, …)
 * say about whom, from where and what changed.
 */
export interface Classified {
  readonly category: AuditCategory;
  readonly result: AuditResult | null;
  readonly method: string | null;
  readonly actorId: string | null;
  readonly targetType: string | null;
  readonly targetId: string | null;
  readonly targetUserId: string | null;
  readonly ip: string | null;
  readonly userAgent: string | null;
  readonly device: string | null;
  readonly application: string | null;
  readonly changes: AuditChange[] | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown, max = 1024): string | null => (typeof v === 'string' && v.length > 0 ? cleanString(v.slice(0, max)) : null);
const uuid = (v: unknown): string | null => (typeof v === 'string' && UUID.test(v) ? v.toLowerCase() : null);
const first = <T>(...vs: Array<T | null>): T | null => vs.find((v) => v !== null) ?? null;

const CATEGORY_OF_AGGREGATE: Readonly<Record<string, AuditCategory>> = {
  login: 'login',
  logout: 'session',
  session: 'session',
  password: 'credential',
  'temporary-password': 'credential',
  'password-reset': 'credential',
  lockout: 'credential',
  credential: 'credential',
  factor: 'credential',
  mfa: 'credential',
  'recovery-code': 'credential',
  token: 'token',
  'access-token': 'token',
  'refresh-token': 'token',
  'api-token': 'token',
  job: 'job',
  import: 'job',
  export: 'job',
  sync: 'job',
  provisioning: 'job',
  trail: 'audit',
};

const FAILURE_EVENTS = /^(failed|rejected|denied|locked|expired|aborted)$/;
const SUCCESS_EVENTS = /^(succeeded|completed|verified)$/;
const JOB_SUCCESS = new Set(['succeeded', 'completed', 'done', 'success']);
const JOB_FAILURE = new Set(['failed', 'error', 'aborted', 'cancelled', 'canceled', 'partially_failed', 'failure']);

/** `user` → `user`, `temporary-password` → `temporaryPassword`: the payload key an aggregate is found under. */
const camel = (s: string) => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/**
 * An address as the trail stores it: IPv4 dotted, IPv6 in its RFC 5952 form
 * (the WHATWG URL parser writes it so), an IPv4-mapped IPv6 address as IPv4.
 * Anything else is not an address (it stays in the payload only).
 */
export function normalizeIp(raw: unknown): string | null {
  if (typeof raw !== 'string') return null;
  const s = raw.trim();
  const family = isIP(s);
  if (family === 4) return s;
  if (family !== 6) return null;
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(s);
  if (mapped?.[1] && isIP(mapped[1]) === 4) return mapped[1];
  try {
    return new URL(`http://[${s}]/`).hostname.slice(1, -1);
  } catch {
    return null;
  }
}

export function actorIdOf(actor: Caller): string | null {
  switch (actor.kind) {
    case 'operator':
      return actor.id;
    case 'user':
      return actor.userId.toLowerCase();
    case 'service':
      return actor.service;
    case 'anonymous':
      return null;
    default: {
      const never: never = actor;
      return String(never);
    }
  }
}

export function classify(subject: string, payload: unknown, actor: Caller): Classified {
  const [, , aggregate = '', event = ''] = subject.split('.');
  const p: Obj = isObj(payload) ? payload : {};
  const client: Obj = isObj(p['client']) ? p['client'] : {};
  const device: Obj = isObj(p['device']) ? p['device'] : {};
  const application: Obj = isObj(p['application']) ? p['application'] : {};
  const before = isObj(p['before']) ? p['before'] : null;
  const after = isObj(p['after']) ? p['after'] : null;
  const resource = isObj(p[camel(aggregate)]) ? (p[camel(aggregate)] as Obj) : null;

  const category: AuditCategory = CATEGORY_OF_AGGREGATE[aggregate] ?? 'admin';

  let result: AuditResult | null = null;
  if (FAILURE_EVENTS.test(event)) result = 'failure';
  else if (SUCCESS_EVENTS.test(event)) result = 'success';
  // A job says how it ended in its status (`{ job: { status: 'failed' } }`); queued or running is no result yet.
  const declared = str(p['result'], 32) ?? (category === 'job' ? (str(p['status'], 32) ?? str(resource?.['status'], 32)) : null);
  if (declared) {
    if (declared === 'success' || JOB_SUCCESS.has(declared)) result = 'success';
    else if (declared === 'failure' || JOB_FAILURE.has(declared)) result = 'failure';
  }

  // Sign-ins and credentials are about a user; everything else about the resource its type names.
  const aboutUser = category === 'login' || category === 'session' || category === 'credential';
  const targetId = aboutUser ? null : first(
    uuid(resource?.['id']) ?? str(resource?.['id'], 200),
    uuid(after?.['id']) ?? str(after?.['id'], 200),
    uuid(before?.['id']) ?? str(before?.['id'], 200),
    uuid(p[`${camel(aggregate)}Id`]) ?? str(p[`${camel(aggregate)}Id`], 200),
  );
  const userFromPayload = first(uuid(p['userId']), isObj(p['user']) ? uuid(p['user']['id']) : null);
  const targetUserId = aggregate === 'user' && targetId && UUID.test(targetId) ? targetId : userFromPayload;
  const target = targetId ? { type: aggregate, id: targetId } : targetUserId ? { type: 'user', id: targetUserId } : null;

  const changes = before && after ? diff(before, after) : null;

  return {
    category,
    result,
    method: str(p['method'], 32),
    actorId: actorIdOf(actor),
    targetType: target?.type ?? null,
    targetId: target?.id ?? null,
    targetUserId,
    ip: normalizeIp(p['ip'] ?? client['ip']),
    userAgent: first(str(p['userAgent']), str(client['userAgent'])),
    device: first(str(p['deviceFingerprint'], 256), str(device['fingerprint'], 256), str(client['deviceFingerprint'], 256)),
    application: first(
      str(p['applicationId'], 200),
      str(application['id'], 200),
      str(p['clientId'], 200),
      str(p['serviceProviderId'], 200),
      str(p['appId'], 200),
    ),
    changes,
  };
}
