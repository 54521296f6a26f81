import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { LOGIN_HISTORY_LIMIT, type AuditResult, type CallContext, type LoginHistory, type LoginHistoryEntry, type RequestOf } from '@musubi/contracts';
import { authorize } from '@musubi/platform/authz';
import { AuditEventRepository } from '../events/audit-event.repository.js';
import { OperatorReads } from '../trail/operator-reads.js';
import { SettingsService } from '../settings/settings.service.js';
import { formatLocal, isoFromPg } from '../trail/time.js';

/**
 * What identifies a device across sign-ins: the fingerprint the client sent, or
 * else its user agent with every number blanked, so a browser or OS update does
 * not look like a new device while another browser or OS does.
 */
export function deviceKey(device: string | null, userAgent: string | null): string {
  if (device) return `fp:${device}`;
  const ua = (userAgent ?? '').replace(/\d+/g, '#').replace(/\s+/g, ' ').trim();
  return `ua:${createHash('sha256').update(ua).digest('base64url').slice(0, 22)}`;
}

/**
 * A user's last 100 sign-ins (for the self-service page), newest first, each
 * marked when no earlier successful sign-in of that user came from its device.
 * A user may read their own; administrators and auditors any of their tenant's.
 */
@Injectable()
export class LoginHistoryService {
  constructor(
    private readonly events: AuditEventRepository,
    private readonly settings: SettingsService,
    private readonly reads: OperatorReads,
  ) {}

  async list(req: RequestOf<'musubi.audit.login-history.list.v1'>, ctx: CallContext): Promise<LoginHistory> {
    const tenantId = req.tenantId.toLowerCase();
    const userId = req.userId.toLowerCase();
    const c = ctx.caller;
    const self = c.kind === 'user' && c.tenantId.toLowerCase() === tenantId && c.userId.toLowerCase() === userId;
    if (!self) authorize(ctx, tenantId, 'audit:read');
    const [rows, timeZone] = await Promise.all([this.events.logins(tenantId, userId, LOGIN_HISTORY_LIMIT), this.settings.timeZoneOf(tenantId)]);
    const oldest = rows[rows.length - 1];
    const known = new Set<string>();
    if (oldest) {
      for (const d of await this.events.earlierDevices(tenantId, userId, isoFromPg(oldest.occurred_at))) known.add(deviceKey(d.device, d.userAgent));
    }
    // Oldest first, so each sign-in is judged by the ones before it.
    const items: LoginHistoryEntry[] = [];
    for (const r of [...rows].reverse()) {
      const key = deviceKey(r.device, r.user_agent);
      const occurredAt = isoFromPg(r.occurred_at);
      items.push({
        id: r.id,
        occurredAt,
        occurredAtLocal: formatLocal(occurredAt, timeZone),
        result: r.result as AuditResult | null,
        method: r.method,
        ip: r.ip,
        userAgent: r.user_agent,
        device: r.device,
        application: r.application,
        newDevice: !known.has(key),
      });
      if (r.result === 'success') known.add(key);
    }
    await this.reads.note(ctx, tenantId, { operation: 'login-history', userId });
    return { timeZone, items: items.reverse() };
  }
}
