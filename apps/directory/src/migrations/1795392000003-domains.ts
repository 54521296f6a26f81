import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The tenant's own mail domains and their DNS proof. */
export class Domains1795392000003 implements MigrationInterface {
  name = 'Domains1795392000003';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE directory.domains (
        id                 uuid        PRIMARY KEY,
        tenant_id          uuid        NOT NULL REFERENCES directory.tenants (id),
        name               text        NOT NULL CHECK (name = lower(name) AND length(name) BETWEEN 3 AND 253),
        status             text        NOT NULL CHECK (status IN ('pending', 'verified', 'lost')),
        token              text        NOT NULL CHECK (length(token) >= 22),
        verified_at        timestamptz,
        lost_at            timestamptz,
        last_checked_at    timestamptz,
        last_check_outcome text        CHECK (last_check_outcome IN ('matched', 'record_missing', 'wrong_value', 'dns_error', 'timeout')),
        last_check_message text,
        failed_checks      integer     NOT NULL DEFAULT 0 CHECK (failed_checks >= 0),
        next_check_at      timestamptz,
        created_at         timestamptz NOT NULL,
        updated_at         timestamptz NOT NULL,
        version            integer     NOT NULL DEFAULT 1,
        CONSTRAINT domains_tenant_name_key UNIQUE (tenant_id, name),
        CONSTRAINT domains_checked_when_claimed CHECK (status = 'pending' OR (verified_at IS NOT NULL AND next_check_at IS NOT NULL))
      )`);
    // Several tenants may register a name, but only one may ever hold it (verified, or lost
    // and not yet removed): the second to commit fails here, however close the race.
    await q.query(`CREATE UNIQUE INDEX domains_claimed_name_key ON directory.domains (name) WHERE status IN ('verified', 'lost')`);
    // The periodic re-check finds the domains due without scanning the pending ones.
    await q.query(`CREATE INDEX domains_due_idx ON directory.domains (next_check_at) WHERE status IN ('verified', 'lost')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE directory.domains');
  }
}
