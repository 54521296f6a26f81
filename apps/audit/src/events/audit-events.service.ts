import { Injectable } from '@nestjs/common';
import { AUDIT_OWN_TYPES, type CallContext, type ReplyOf, type RequestOf } from '@musubi/contracts';
import { authorize } from '@musubi/platform/authz';
import { decodeCursor, encodeCursor } from '@musubi/platform/db';
import { SettingsService } from '../settings/settings.service.js';
import { AuditTrail } from '../trail/audit-trail.js';
import { AuditEventRepository } from './audit-event.repository.js';
import { eventViewOf } from './event-view.js';
import { checkFilters, filtersOf } from './event-filters.js';

/**
 * Searching a tenant's trail. A tenant's administrators and auditors see their own
 * tenant only; when the platform operator reads a tenant's trail, the read is
 * recorded in that trail (before the answer leaves).
 */
@Injectable()
export class AuditEventsService {
  constructor(
    private readonly events: AuditEventRepository,
    private readonly settings: SettingsService,
    private readonly trail: AuditTrail,
  ) {}

  async list(req: RequestOf<'musubi.audit.event.list.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.audit.event.list.v1'>> {
    authorize(ctx, req.tenantId, 'audit:read');
    const tenantId = req.tenantId.toLowerCase();
    const filters = filtersOf(req);
    const checked = checkFilters(filters);
    const before = decodeCursor(req.cursor, { at: 'timestamp', id: 'uuid' });
    const limit = req.limit ?? 50;
    const [page, timeZone] = await Promise.all([this.events.search(tenantId, checked, before, limit), this.settings.timeZoneOf(tenantId)]);
    const items = page.rows.map((r) => eventViewOf(r, timeZone));
    await this.noteOperatorRead(ctx, tenantId, { operation: 'search', filters, ...(req.cursor ? { cursor: req.cursor } : {}), returned: items.length });
    const last = items[items.length - 1];
    return { items, nextCursor: page.hasMore && last ? encodeCursor({ at: last.occurredAt, id: last.id }) : null, timeZone };
  }

  /** The platform operator reading a tenant's trail leaves a record in it. */
  async noteOperatorRead(ctx: CallContext, tenantId: string, what: Record<string, unknown>): Promise<void> {
    if (ctx.caller.kind !== 'operator') return;
    await this.trail.recordOwn(AUDIT_OWN_TYPES.trailRead, tenantId, ctx, what);
  }
}
