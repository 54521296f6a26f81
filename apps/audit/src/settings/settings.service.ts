import { Inject, Injectable } from '@nestjs/common';
import { AUDIT_OWN_TYPES, type AuditSettingsView, type CallContext, type RequestOf } from '@musubi/contracts';
import { authorize, authorizeOperator } from '@musubi/platform/authz';
import { CONFIG } from '@musubi/platform/runtime';
import type { AuditConfig } from '../config/env.schema.js';
import { AuditTrail } from '../trail/audit-trail.js';
import { DEFAULT_TIME_ZONE } from '../trail/time.js';
import { TrailRepository } from '../trail/trail.repository.js';
import { SettingsRepository } from './settings.repository.js';

/**
 * A tenant's audit settings: the time zone times are shown in (the directory's,
 * learnt from its tenant events) and the retention (the platform's default
 * unless the operator set one, e.g. for a longer-retention contract).
 */
@Injectable()
export class SettingsService {
  constructor(
    private readonly repo: SettingsRepository,
    private readonly trailRepo: TrailRepository,
    private readonly trail: AuditTrail,
    @Inject(CONFIG) private readonly config: AuditConfig,
  ) {}

  async timeZoneOf(tenantId: string): Promise<string> {
    return (await this.repo.current(tenantId)).timeZone ?? DEFAULT_TIME_ZONE;
  }

  async get(req: RequestOf<'musubi.audit.settings.get.v1'>, ctx: CallContext): Promise<AuditSettingsView> {
    authorize(ctx, req.tenantId, 'audit:read');
    return this.view(req.tenantId);
  }

  /**
   * Changes the retention of records recorded from now on, and records the change
   * in the tenant's own trail (in the same transaction, under the chain's lock).
   */
  async update(req: RequestOf<'musubi.audit.settings.update.v1'>, ctx: CallContext): Promise<AuditSettingsView> {
    authorizeOperator(ctx);
    const tenantId = req.tenantId.toLowerCase();
    const before = await this.view(tenantId);
    if (before.retentionDays === req.retentionDays && !before.retentionIsDefault) return before;
    const after = { ...before, retentionDays: req.retentionDays, retentionIsDefault: false };
    await this.trail.recordOwn(
      AUDIT_OWN_TYPES.settingsUpdated,
      tenantId,
      ctx,
      { before: { retentionDays: before.retentionDays }, after: { retentionDays: after.retentionDays } },
      (tx) => this.trailRepo.insertSettings(tx, [{ tenantId, timeZone: null, retentionDays: req.retentionDays, source: ctx.requestId }]),
    );
    return this.view(tenantId);
  }

  private async view(tenantId: string): Promise<AuditSettingsView> {
    const s = await this.repo.current(tenantId);
    return {
      tenantId,
      retentionDays: s.retentionDays ?? this.config.AUDIT_RETENTION_DAYS,
      retentionIsDefault: s.retentionDays === null,
      timeZone: s.timeZone ?? DEFAULT_TIME_ZONE,
    };
  }
}
