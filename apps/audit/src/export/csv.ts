import type { AuditEventView } from '@musubi/contracts';

export const CSV_COLUMNS = [
  'occurred_at',
  'occurred_at_utc',
  'type',
  'category',
  'result',
  'method',
  'actor_kind',
  'actor_id',
  'target_user_id',
  'target_type',
  'target_id',
  'ip',
  'user_agent',
  'device',
  'application',
  'changes',
  'request_id',
  'event_id',
  'seq',
] as const;

/**
 * One CSV cell (RFC 4180). A cell a spreadsheet would run as a formula (it starts
 * with = + - @ or a control character) gets a leading apostrophe.
 */
export function csvCell(value: unknown): string {
  let s = value === null || value === undefined ? '' : typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : JSON.stringify(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const csvLine = (cells: readonly unknown[]): string => `${cells.map(csvCell).join(',')}\r\n`;

export function csvRow(e: AuditEventView): string {
  const actorId = e.actor.kind === 'operator' ? e.actor.id : e.actor.kind === 'user' ? e.actor.userId : e.actor.kind === 'service' ? e.actor.service : '';
  return csvLine([
    e.occurredAtLocal,
    e.occurredAt,
    e.type,
    e.category,
    e.result,
    e.method,
    e.actor.kind,
    actorId,
    e.targetUserId,
    e.target?.type ?? null,
    e.target?.id ?? null,
    e.ip,
    e.userAgent,
    e.device,
    e.application,
    e.changes && e.changes.length > 0 ? e.changes : null,
    e.requestId,
    e.id,
    e.seq,
  ]);
}
