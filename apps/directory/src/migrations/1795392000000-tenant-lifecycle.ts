import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Tenant settings (deletion retention, synced users read-only) and when it was suspended or terminated. */
export class TenantLifecycle1795392000000 implements MigrationInterface {
  name = 'TenantLifecycle1795392000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE directory.tenants
        ADD COLUMN deletion_retention_days integer NOT NULL DEFAULT 30 CHECK (deletion_retention_days BETWEEN 1 AND 365),
        ADD COLUMN synced_users_read_only  boolean NOT NULL DEFAULT true,
        ADD COLUMN suspended_at            timestamptz,
        ADD COLUMN terminated_at           timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE directory.tenants
        DROP COLUMN deletion_retention_days, DROP COLUMN synced_users_read_only,
        DROP COLUMN suspended_at, DROP COLUMN terminated_at`);
  }
}
