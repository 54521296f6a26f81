import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { AuthPolicyView } from '@musubi/contracts';
import { runSql, type Tx } from '@musubi/platform/db';

interface Row {
  tenant_id: string;
  password_min_length: number | null;
  second_factor_required: boolean;
  password_complexity: boolean;
  password_history: number | null;
  password_expiry_days: number | null;
  temporary_password_hours: number;
  lockout_threshold: number;
  lockout_minutes: number;
  session_idle_minutes: number;
  session_absolute_hours: number;
  reset_mails_per_hour: number;
  reset_lock_minutes: number;
  logout_url: string | null;
  admin_allowed_cidrs: string[];
  logo_url: string | null;
  primary_color: string | null;
  version: number;
  updated_at: Date;
}

const toView = (r: Row): AuthPolicyView => ({
  tenantId: r.tenant_id,
  passwordMinLength: r.password_min_length,
  secondFactorRequired: r.second_factor_required,
  passwordComplexity: r.password_complexity,
  passwordHistory: r.password_history,
  passwordExpiryDays: r.password_expiry_days,
  temporaryPasswordHours: r.temporary_password_hours,
  lockoutThreshold: r.lockout_threshold,
  lockoutMinutes: r.lockout_minutes,
  sessionIdleMinutes: r.session_idle_minutes,
  sessionAbsoluteHours: r.session_absolute_hours,
  resetMailsPerHour: r.reset_mails_per_hour,
  resetLockMinutes: r.reset_lock_minutes,
  logoutUrl: r.logout_url,
  adminAllowedCidrs: r.admin_allowed_cidrs,
  logoUrl: r.logo_url,
  primaryColor: r.primary_color,
  version: r.version,
  updatedAt: r.updated_at.toISOString(),
});

@Injectable()
export class PolicyRepository {
  constructor(private readonly dataSource: DataSource) {}

  async find(tenantId: string, tx?: Tx, forUpdate = false): Promise<AuthPolicyView | null> {
    const rows = await runSql<Row>(this.dataSource, tx, `SELECT * FROM policies WHERE tenant_id = $1${forUpdate ? ' FOR UPDATE' : ''}`, [tenantId]);
    return rows[0] ? toView(rows[0]) : null;
  }

  async save(tx: Tx, p: AuthPolicyView): Promise<void> {
    await runSql(
      this.dataSource,
      tx,
      `INSERT INTO policies (tenant_id, password_min_length, second_factor_required, password_complexity, password_history, password_expiry_days,
         temporary_password_hours, lockout_threshold, lockout_minutes, session_idle_minutes, session_absolute_hours, reset_mails_per_hour,
         reset_lock_minutes, logout_url, admin_allowed_cidrs, logo_url, primary_color, version, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
       ON CONFLICT (tenant_id) DO UPDATE SET
         password_min_length = EXCLUDED.password_min_length, second_factor_required = EXCLUDED.second_factor_required,
         password_complexity = EXCLUDED.password_complexity, password_history = EXCLUDED.password_history,
         password_expiry_days = EXCLUDED.password_expiry_days, temporary_password_hours = EXCLUDED.temporary_password_hours,
         lockout_threshold = EXCLUDED.lockout_threshold, lockout_minutes = EXCLUDED.lockout_minutes,
         session_idle_minutes = EXCLUDED.session_idle_minutes, session_absolute_hours = EXCLUDED.session_absolute_hours,
         reset_mails_per_hour = EXCLUDED.reset_mails_per_hour, reset_lock_minutes = EXCLUDED.reset_lock_minutes,
         logout_url = EXCLUDED.logout_url, admin_allowed_cidrs = EXCLUDED.admin_allowed_cidrs, logo_url = EXCLUDED.logo_url,
         primary_color = EXCLUDED.primary_color, version = EXCLUDED.version, updated_at = EXCLUDED.updated_at`,
      [
        p.tenantId, p.passwordMinLength, p.secondFactorRequired, p.passwordComplexity, p.passwordHistory, p.passwordExpiryDays,
        p.temporaryPasswordHours, p.lockoutThreshold, p.lockoutMinutes, p.sessionIdleMinutes, p.sessionAbsoluteHours, p.resetMailsPerHour,
        p.resetLockMinutes, p.logoutUrl, p.adminAllowedCidrs, p.logoUrl, p.primaryColor, p.version, new Date(p.updatedAt),
      ],
    );
  }
}
