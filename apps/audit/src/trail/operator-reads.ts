import { Injectable } from '@nestjs/common';
import { AUDIT_OWN_TYPES, type CallContext } from '@musubi/contracts';
import { AuditTrail } from './audit-trail.js';

/**
 * When the platform operator reads a tenant's trail (search, export, login
 * history, verification), the read is appended to that tenant's own trail
 * before the answer leaves, so the tenant sees who looked.
 */
@Injectable()
export class OperatorReads {
  constructor(private readonly trail: AuditTrail) {}

  async note(ctx: CallContext, tenantId: string, what: Record<string, unknown>): Promise<void> {
    if (ctx.caller.kind !== 'operator') return;
    await this.trail.recordOwn(AUDIT_OWN_TYPES.trailRead, tenantId, ctx, what);
  }
}
