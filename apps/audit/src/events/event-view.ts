import type { AuditCategory, AuditChange, AuditEventView, AuditResult, Caller } from '@musubi/contracts';
import { PLATFORM_CHAIN } from '../trail/audit-trail.js';
import { formatLocal, isoFromPg } from '../trail/time.js';
import type { ChainRow } from '../verification/chain.reader.js';

/** A stored record as the API shows it, times also in the tenant's zone. */
export function eventViewOf(r: ChainRow, timeZone: string): AuditEventView {
  const occurredAt = isoFromPg(r.occurred_at);
  return {
    id: r.id,
    tenantId: r.tenant_id === PLATFORM_CHAIN ? null : r.tenant_id,
    seq: Number(r.seq),
    type: r.type,
    category: r.category as AuditCategory,
    occurredAt,
    occurredAtLocal: formatLocal(occurredAt, timeZone),
    recordedAt: isoFromPg(r.recorded_at),
    actor: r.actor as Caller,
    requestId: r.request_id,
    result: r.result as AuditResult | null,
    method: r.method,
    targetUserId: r.target_user_id,
    target: r.target_type && r.target_id ? { type: r.target_type, id: r.target_id } : null,
    ip: r.ip,
    userAgent: r.user_agent,
    device: r.device,
    application: r.application,
    changes: (r.changes as AuditChange[] | null) ?? null,
    payload: r.payload,
  };
}
