import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Searches fast at 10 million records (bench/audit-search.mjs).
 *
 * - **Weekly partitions.** A search orders by occurredAt, which says nothing about
 *   the partition (its expiry day), so every search probes every partition: with one
 *   per day, 90 index probes (and a record read for the first match in each) before
 *   the first of 50 results. New partitions now hold the records expiring in one ISO
 *   week (Monday to Sunday, UTC) and are named after its Sunday, the last day they
 *   hold: 13 or 14 of them for 90 days. The purge is unchanged — it drops a
 *   partition once the day in its name has passed — so a record is now removed on
 *   the Monday after the week of its expiry day: kept at least its tenant's
 *   retention, at most 6 days longer. Daily partitions made before this migration
 *   stay and are purged as before; a new week's partition is clipped so as not to
 *   overlap them.
 * - **Covering search indexes.** The search first finds the page's keys with an
 *   index-only scan (no record read for rows it filters out or sorts away: an IP
 *   block matches hundreds of records of a tenant in no time order, a user's
 *   failures are a few of their records), then reads only the 50 records shown,
 *   each in the one partition its expiry names. So each search index carries the
 *   expiry and the result (the filter most often combined with another).
 */
export class WeeklyPartitionsCoveringSearch1795564800000 implements MigrationInterface {
  name = 'WeeklyPartitionsCoveringSearch1795564800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE OR REPLACE FUNCTION audit.ensure_partition(p_day date) RETURNS boolean
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = audit, pg_temp SET lock_timeout = '10s' AS $$
      DECLARE
        v_monday date := p_day - (extract(isodow FROM p_day)::int - 1);
        v_from date;
        v_to date;
        v_name text;
      BEGIN
        IF p_day < (clock_timestamp() AT TIME ZONE 'UTC')::date OR p_day > (clock_timestamp() AT TIME ZONE 'UTC')::date + 402 THEN
          RAISE EXCEPTION 'audit.ensure_partition: % is out of range', p_day;
        END IF;
        IF EXISTS (SELECT 1 FROM audit.partition_bounds() b WHERE p_day >= b.from_day AND p_day < b.to_day) THEN
          RETURN false;
        END IF;
        PERFORM pg_advisory_xact_lock(hashtext('musubi:audit:partition'));
        IF EXISTS (SELECT 1 FROM audit.partition_bounds() b WHERE p_day >= b.from_day AND p_day < b.to_day) THEN
          RETURN false;
        END IF;
        -- The ISO week of p_day, less any day an older (daily) partition already holds.
        SELECT greatest(v_monday, max(b.to_day) FILTER (WHERE b.to_day <= p_day)),
               least(v_monday + 7, min(b.from_day) FILTER (WHERE b.from_day > p_day))
        INTO v_from, v_to
        FROM audit.partition_bounds() b;
        v_from := coalesce(v_from, v_monday);
        v_to := coalesce(v_to, v_monday + 7);
        v_name := 'events_' || to_char(v_to - 1, 'YYYYMMDD');
        -- Made apart, then attached: CREATE TABLE ... PARTITION OF would take an exclusive lock on
        -- audit.events and stall every search meanwhile; ATTACH PARTITION takes one that reads and
        -- appends pass (indexes and triggers are cloned onto the empty table).
        EXECUTE format('CREATE TABLE audit.%I (LIKE audit.events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', v_name);
        EXECUTE format('ALTER TABLE audit.events ATTACH PARTITION audit.%I FOR VALUES FROM (%L) TO (%L)', v_name, v_from, v_to);
        RETURN true;
      END $$`);
    // The days each partition holds [from_day, to_day), read from the catalogue.
    await q.query(`
      CREATE FUNCTION audit.partition_bounds() RETURNS TABLE (name text, from_day date, to_day date)
      LANGUAGE sql STABLE SET search_path = audit, pg_temp AS $$
        SELECT c.relname::text, m[1]::date, m[2]::date
        FROM pg_inherits i
        JOIN pg_class c ON c.oid = i.inhrelid
        CROSS JOIN LATERAL regexp_match(pg_get_expr(c.relpartbound, c.oid), 'FROM \\(''([0-9-]+)''\\) TO \\(''([0-9-]+)''\\)') AS m
        WHERE i.inhparent = 'audit.events'::regclass
      $$`);
    await q.query('REVOKE ALL ON FUNCTION audit.partition_bounds() FROM PUBLIC');

    // Covering indexes (built on every partition; the old ones are dropped after).
    const indexes: Array<[string, string]> = [
      ['events_time', '(tenant_id, occurred_at DESC, id DESC) INCLUDE (expires_on, result)'],
      ['events_type', '(tenant_id, type, occurred_at DESC, id DESC) INCLUDE (expires_on, result)'],
      ['events_user', '(tenant_id, target_user_id, occurred_at DESC, id DESC) INCLUDE (expires_on, result, category) WHERE target_user_id IS NOT NULL'],
      ['events_actor', '(tenant_id, actor_id, occurred_at DESC, id DESC) INCLUDE (expires_on, result) WHERE actor_id IS NOT NULL'],
      ['events_ip', '(tenant_id, (ip::inet), occurred_at DESC, id DESC) INCLUDE (expires_on, ip, result) WHERE ip IS NOT NULL'],
      ['events_app', '(tenant_id, application, occurred_at DESC, id DESC) INCLUDE (expires_on, result) WHERE application IS NOT NULL'],
      ['events_failed', "(tenant_id, occurred_at DESC, id DESC) INCLUDE (expires_on) WHERE result = 'failure'"],
    ];
    for (const [name, def] of indexes) {
      await q.query(`ALTER INDEX audit.${name} RENAME TO ${name}_old`);
      await q.query(`CREATE INDEX ${name} ON audit.events ${def}`);
      await q.query(`DROP INDEX audit.${name}_old`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    const indexes: Array<[string, string]> = [
      ['events_time', '(tenant_id, occurred_at DESC, id DESC)'],
      ['events_type', '(tenant_id, type, occurred_at DESC, id DESC)'],
      ['events_user', '(tenant_id, target_user_id, occurred_at DESC, id DESC) WHERE target_user_id IS NOT NULL'],
      ['events_actor', '(tenant_id, actor_id, occurred_at DESC, id DESC) WHERE actor_id IS NOT NULL'],
      ['events_ip', '(tenant_id, (ip::inet), occurred_at DESC, id DESC) WHERE ip IS NOT NULL'],
      ['events_app', '(tenant_id, application, occurred_at DESC, id DESC) WHERE application IS NOT NULL'],
      ['events_failed', "(tenant_id, occurred_at DESC, id DESC) WHERE result = 'failure'"],
    ];
    for (const [name, def] of indexes) {
      await q.query(`DROP INDEX audit.${name}`);
      await q.query(`CREATE INDEX ${name} ON audit.events ${def}`);
    }
    // Back to one partition per day (weekly ones already made stay as they are).
    await q.query(`
      CREATE OR REPLACE FUNCTION audit.ensure_partition(p_day date) RETURNS boolean
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = audit, pg_temp SET lock_timeout = '10s' AS $$
      DECLARE
        v_name text := 'events_' || to_char(p_day, 'YYYYMMDD');
      BEGIN
        IF p_day < (clock_timestamp() AT TIME ZONE 'UTC')::date OR p_day > (clock_timestamp() AT TIME ZONE 'UTC')::date + 402 THEN
          RAISE EXCEPTION 'audit.ensure_partition: % is out of range', p_day;
        END IF;
        IF to_regclass('audit.' || v_name) IS NOT NULL THEN
          RETURN false;
        END IF;
        PERFORM pg_advisory_xact_lock(hashtext('musubi:audit:partition:' || v_name));
        IF to_regclass('audit.' || v_name) IS NOT NULL THEN
          RETURN false;
        END IF;
        EXECUTE format('CREATE TABLE audit.%I (LIKE audit.events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', v_name);
        EXECUTE format('ALTER TABLE audit.events ATTACH PARTITION audit.%I FOR VALUES FROM (%L) TO (%L)', v_name, p_day, p_day + 1);
        RETURN true;
      END $$`);
    await q.query('DROP FUNCTION audit.partition_bounds()');
  }
}
