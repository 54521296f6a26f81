import { Injectable } from '@nestjs/common';
import type { CallContext, ReplyOf, RequestOf } from '@musubi/contracts';
import { authorize } from '@musubi/platform/authz';
import { decodeCursor, encodeCursor } from '@musubi/platform/db';
import { SettingsService } from '../settings/settings.service.js';
import { OperatorReads } from '../trail/operator-reads.js';
import { AuditEventRepository } from './audit-event.repository.js';
import { checkFilters, filtersOf } from './event-filters.js';
import { eventViewOf } from './event-view.js';

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
    private readonly reads: OperatorReads,
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
    await this.reads.note(ctx, tenantId, { operation: 'search', filters, ...(req.cursor ? { cursor: req.cursor } : {}), returned: items.length });
    const last = items[items.length - 1];
    return { items, nextCursor: page.hasMore && last ? encodeCursor({ at: last.occurredAt, id: last.id }) : null, timeZone };
  }
}
