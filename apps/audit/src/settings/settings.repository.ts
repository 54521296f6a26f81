import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { runSql, type Tx } from '@musubi/platform/db';

export interface TenantSettings {
  readonly timeZone: string | null;
  readonly retentionDays: number | null;
}

@Injectable()
export class SettingsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** The latest time zone and retention a tenant's settings log holds (nulls: never set). */
  async current(tenantId: string, tx?: Tx): Promise<TenantSettings> {
    const [r] = await runSql<{ time_zone: string | null; retention_days: number | null }>(
      this.dataSource,
      tx,
      `SELECT (SELECT time_zone FROM audit.tenant_settings WHERE tenant_id = $1 AND time_zone IS NOT NULL ORDER BY version DESC LIMIT 1) AS time_zone,
              (SELECT retention_days FROM audit.tenant_settings WHERE tenant_id = $1 AND retention_days IS NOT NULL ORDER BY version DESC LIMIT 1) AS retention_days`,
      [tenantId],
    );
    return { timeZone: r?.time_zone ?? null, retentionDays: r?.retention_days ?? null };
  }
}
