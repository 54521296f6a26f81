import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The tamper-evident trail.
 *
 * Two roles: the schema's owner (runs these migrations, owns every table and the
 * SECURITY DEFINER functions below) and the runtime role audit runs as, which may
 * read and insert but never update or delete. `grant_runtime(role)` gives a
 * runtime role exactly that; the migrate command calls it after migrating.
 *
 * - `events`: one row per record, partitioned by `expires_on` (the last day it is
 *   kept, fixed when it is recorded): the daily purge drops whole partitions whose
 *   day has passed, whatever each tenant's retention.
 * - Each tenant's records form a hash chain (`seq`, `prev_hash`, `hash`); `heads`
 *   holds each chain's last record and is only changed by `append`, under a row
 *   lock, so replicas appending for one tenant take turns.
 * - `received`: event ids already recorded (a redelivered event is skipped).
 * - `checkpoints`: signed statements of a chain's hash at a sequence number.
 * - `tenant_settings`: time zone (learnt from directory's events) and retention,
 *   as a log of versions (the runtime role may not update).
 * - `purges`: what the purge removed, so verification can tell retention from loss.
 *
 * The unchained rows of the first, provisional trail stay in `events_v0`.
 */
export class TamperEvidentTrail1795478400000 implements MigrationInterface {
  name = 'TamperEvidentTrail1795478400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE audit.events RENAME TO events_v0');
    await q.query('ALTER INDEX audit.events_tenant_time RENAME TO events_v0_tenant_time');
    await q.query('ALTER TABLE audit.events_v0 RENAME CONSTRAINT events_pkey TO events_v0_pkey');

    await q.query(`
      CREATE TABLE audit.events (
        tenant_id      uuid        NOT NULL,
        seq            bigint      NOT NULL,
        id             uuid        NOT NULL,
        format         smallint    NOT NULL,
        type           text        NOT NULL,
        category       text        NOT NULL,
        occurred_at    timestamptz NOT NULL,
        recorded_at    timestamptz NOT NULL,
        expires_on     date        NOT NULL,
        request_id     text,
        actor          jsonb       NOT NULL,
        actor_id       text,
        target_type    text,
        target_id      text,
        target_user_id uuid,
        result         text,
        method         text,
        ip             text,
        user_agent     text,
        device         text,
        application    text,
        changes        jsonb,
        payload        jsonb       NOT NULL,
        prev_hash      bytea       NOT NULL,
        hash           bytea       NOT NULL
      ) PARTITION BY RANGE (expires_on)`);
    // Every search is within one tenant, newest first; each filter has its own index.
    await q.query('CREATE INDEX events_chain ON audit.events (tenant_id, seq)');
    await q.query('CREATE INDEX events_time ON audit.events (tenant_id, occurred_at DESC, id DESC)');
    await q.query('CREATE INDEX events_type ON audit.events (tenant_id, type, occurred_at DESC, id DESC)');
    await q.query('CREATE INDEX events_user ON audit.events (tenant_id, target_user_id, occurred_at DESC, id DESC) WHERE target_user_id IS NOT NULL');
    await q.query('CREATE INDEX events_actor ON audit.events (tenant_id, actor_id, occurred_at DESC, id DESC) WHERE actor_id IS NOT NULL');
    await q.query('CREATE INDEX events_ip ON audit.events (tenant_id, (ip::inet), occurred_at DESC, id DESC) WHERE ip IS NOT NULL');
    await q.query('CREATE INDEX events_app ON audit.events (tenant_id, application, occurred_at DESC, id DESC) WHERE application IS NOT NULL');
    await q.query("CREATE INDEX events_failed ON audit.events (tenant_id, occurred_at DESC, id DESC) WHERE result = 'failure'");

    await q.query(`
      CREATE TABLE audit.heads (
        tenant_id   uuid        PRIMARY KEY,
        seq         bigint      NOT NULL,
        hash        bytea       NOT NULL,
        recorded_at timestamptz NOT NULL,
        expires_on  date        NOT NULL
      )`);
    await q.query(`
      CREATE TABLE audit.received (
        id          uuid        PRIMARY KEY,
        received_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE INDEX received_at ON audit.received (received_at)');
    await q.query(`
      CREATE TABLE audit.checkpoints (
        tenant_id   uuid        NOT NULL,
        seq         bigint      NOT NULL,
        hash        bytea       NOT NULL,
        recorded_at timestamptz NOT NULL,
        issued_at   timestamptz NOT NULL,
        key_id      text        NOT NULL,
        signature   bytea       NOT NULL,
        PRIMARY KEY (tenant_id, seq)
      )`);
    await q.query(`
      CREATE TABLE audit.signing_keys (
        key_id        text        PRIMARY KEY,
        algorithm     text        NOT NULL,
        public_key    text        NOT NULL,
        first_used_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE audit.tenant_settings (
        tenant_id      uuid        NOT NULL,
        version        bigint      GENERATED ALWAYS AS IDENTITY,
        time_zone      text,
        retention_days integer     CHECK (retention_days BETWEEN 1 AND 400),
        changed_at     timestamptz NOT NULL DEFAULT now(),
        source         text        NOT NULL,
        PRIMARY KEY (tenant_id, version)
      )`);
    await q.query(`
      CREATE TABLE audit.purges (
        tenant_id    uuid        NOT NULL,
        through_seq  bigint      NOT NULL,
        partition    text        NOT NULL,
        records      bigint      NOT NULL,
        purged_at    timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, through_seq)
      )`);

    // Append-only for everyone, the owner included: no record or checkpoint is ever
    // updated, no record deleted (the purge drops whole partitions, which fires no
    // row trigger). A superuser can get round this (session_replication_role);
    // the hash chain and the signed checkpoints are what catch that.
    await q.query(`
      CREATE FUNCTION audit.refuse_change() RETURNS trigger
      LANGUAGE plpgsql SET search_path = audit, pg_temp AS $$
      BEGIN
        RAISE EXCEPTION 'audit.% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = '42501';
      END $$`);
    await q.query('CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON audit.events FOR EACH ROW EXECUTE FUNCTION audit.refuse_change()');
    await q.query('CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON audit.events FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_change()');
    await q.query('CREATE TRIGGER checkpoints_append_only BEFORE UPDATE ON audit.checkpoints FOR EACH ROW EXECUTE FUNCTION audit.refuse_change()');
    await q.query('CREATE TRIGGER checkpoints_no_truncate BEFORE TRUNCATE ON audit.checkpoints FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_change()');

    // ---- functions the runtime role may call (SECURITY DEFINER: they run as the owner)

    await q.query(`
      CREATE FUNCTION audit.claim(p_ids uuid[]) RETURNS SETOF uuid
      LANGUAGE sql SECURITY DEFINER SET search_path = audit, pg_temp AS $$
        INSERT INTO audit.received (id) SELECT DISTINCT unnest(p_ids) ON CONFLICT DO NOTHING RETURNING id
      $$`);

    await q.query(`
      CREATE FUNCTION audit.lock_heads(p_tenants uuid[])
      RETURNS TABLE (tenant_id uuid, seq bigint, hash bytea, recorded_at timestamptz, expires_on date, time_zone text, retention_days integer, clock timestamptz)
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = audit, pg_temp AS $$
      #variable_conflict use_column
      BEGIN
        INSERT INTO audit.heads (tenant_id, seq, hash, recorded_at, expires_on)
        SELECT t, 0, '\\x0000000000000000000000000000000000000000000000000000000000000000'::bytea, 'epoch', 'epoch'
        FROM unnest(p_tenants) AS t
        ON CONFLICT DO NOTHING;
        -- In one order, so two replicas locking overlapping tenants cannot deadlock.
        PERFORM 1 FROM audit.heads h WHERE h.tenant_id = ANY (p_tenants) ORDER BY h.tenant_id FOR UPDATE;
        RETURN QUERY
          SELECT h.tenant_id, h.seq, h.hash, h.recorded_at, h.expires_on, s.time_zone, s.retention_days, clock_timestamp()
          FROM audit.heads h
          LEFT JOIN LATERAL (
            SELECT (SELECT ts.time_zone FROM audit.tenant_settings ts WHERE ts.tenant_id = h.tenant_id AND ts.time_zone IS NOT NULL ORDER BY ts.version DESC LIMIT 1) AS time_zone,
                   (SELECT ts.retention_days FROM audit.tenant_settings ts WHERE ts.tenant_id = h.tenant_id AND ts.retention_days IS NOT NULL ORDER BY ts.version DESC LIMIT 1) AS retention_days
          ) s ON true
          WHERE h.tenant_id = ANY (p_tenants);
      END $$`);

    // Appends records to chains whose heads the caller locked. It checks that every
    // record continues its chain (sequence, previous hash, time and expiry never going
    // back), so even the runtime role cannot fork or rewind a chain through it.
    await q.query(`
      CREATE FUNCTION audit.append(p_rows jsonb) RETURNS integer
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = audit, pg_temp AS $$
      DECLARE
        v_bad integer;
        v_count integer;
        v_today date := (clock_timestamp() AT TIME ZONE 'UTC')::date;
      BEGIN
        PERFORM 1 FROM audit.heads h
        WHERE h.tenant_id IN (SELECT DISTINCT (x->>'tenant_id')::uuid FROM jsonb_array_elements(p_rows) x)
        ORDER BY h.tenant_id FOR UPDATE;

        SELECT count(*) FILTER (WHERE NOT ok), count(*) INTO v_bad, v_count FROM (
          SELECT
            length(r.hash_hex) = 64 AND length(r.prev_hash_hex) = 64
            AND r.recorded_at <= clock_timestamp() + interval '1 minute'
            AND r.expires_on > (r.recorded_at AT TIME ZONE 'UTC')::date
            AND r.expires_on <= v_today + 401
            AND CASE WHEN lag(r.seq) OVER w IS NULL
              THEN r.seq = h.seq + 1 AND decode(r.prev_hash_hex, 'hex') = h.hash AND r.recorded_at >= h.recorded_at AND r.expires_on >= h.expires_on
              ELSE r.seq = lag(r.seq) OVER w + 1 AND r.prev_hash_hex = lag(r.hash_hex) OVER w
                   AND r.recorded_at >= lag(r.recorded_at) OVER w AND r.expires_on >= lag(r.expires_on) OVER w
            END AS ok
          FROM jsonb_to_recordset(p_rows) AS r(tenant_id uuid, seq bigint, recorded_at timestamptz, expires_on date, prev_hash_hex text, hash_hex text)
          JOIN audit.heads h ON h.tenant_id = r.tenant_id
          WINDOW w AS (PARTITION BY r.tenant_id ORDER BY r.seq)
        ) c;
        IF v_bad > 0 OR v_count <> jsonb_array_length(p_rows) THEN
          RAISE EXCEPTION 'audit.append: % of % records do not continue their chain', v_bad + jsonb_array_length(p_rows) - v_count, jsonb_array_length(p_rows)
            USING ERRCODE = 'P0001';
        END IF;

        INSERT INTO audit.events (tenant_id, seq, id, format, type, category, occurred_at, recorded_at, expires_on, request_id, actor, actor_id,
                                  target_type, target_id, target_user_id, result, method, ip, user_agent, device, application, changes, payload, prev_hash, hash)
        SELECT r.tenant_id, r.seq, r.id, r.format, r.type, r.category, r.occurred_at, r.recorded_at, r.expires_on, r.request_id, r.actor, r.actor_id,
               r.target_type, r.target_id, r.target_user_id, r.result, r.method, r.ip, r.user_agent, r.device, r.application, r.changes, r.payload,
               decode(r.prev_hash_hex, 'hex'), decode(r.hash_hex, 'hex')
        FROM jsonb_to_recordset(p_rows) AS r(tenant_id uuid, seq bigint, id uuid, format smallint, type text, category text, occurred_at timestamptz,
          recorded_at timestamptz, expires_on date, request_id text, actor jsonb, actor_id text, target_type text, target_id text, target_user_id uuid,
          result text, method text, ip text, user_agent text, device text, application text, changes jsonb, payload jsonb, prev_hash_hex text, hash_hex text);

        UPDATE audit.heads h SET seq = l.seq, hash = decode(l.hash_hex, 'hex'), recorded_at = l.recorded_at, expires_on = l.expires_on
        FROM (
          SELECT DISTINCT ON (r.tenant_id) r.tenant_id, r.seq, r.hash_hex, r.recorded_at, r.expires_on
          FROM jsonb_to_recordset(p_rows) AS r(tenant_id uuid, seq bigint, hash_hex text, recorded_at timestamptz, expires_on date)
          ORDER BY r.tenant_id, r.seq DESC
        ) l
        WHERE h.tenant_id = l.tenant_id;
        RETURN v_count;
      END $$`);

    // Partitions are created ahead of need (by the maintenance round, or by the
    // ingest path when a day is missing), never for a day already past.
    await q.query(`
      CREATE FUNCTION audit.ensure_partition(p_day date) RETURNS boolean
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
        -- Made apart, then attached: CREATE TABLE ... PARTITION OF would take an exclusive lock on
        -- audit.events and stall every search meanwhile; ATTACH PARTITION takes one that reads and
        -- appends pass (indexes and triggers are cloned onto the empty table).
        EXECUTE format('CREATE TABLE audit.%I (LIKE audit.events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', v_name);
        EXECUTE format('ALTER TABLE audit.events ATTACH PARTITION audit.%I FOR VALUES FROM (%L) TO (%L)', v_name, p_day, p_day + 1);
        RETURN true;
      END $$`);

    // The purge: drops every partition whose last day has passed, noting per tenant
    // how far the chain was removed; checkpoints before that go too (the one at the
    // boundary stays: it anchors the first record kept).
    await q.query(`
      CREATE FUNCTION audit.purge_expired_as_of(p_today date) RETURNS TABLE (partition text, records bigint)
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = audit, pg_temp SET lock_timeout = '30s' AS $$
      #variable_conflict use_column
      DECLARE
        v record;
        v_rows bigint;
      BEGIN
        PERFORM pg_advisory_xact_lock(hashtext('musubi:audit:purge'));
        FOR v IN
          SELECT c.relname AS name
          FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
          JOIN pg_namespace n ON n.oid = p.relnamespace
          WHERE n.nspname = 'audit' AND p.relname = 'events' AND c.relname ~ '^events_[0-9]{8}$'
            AND to_date(substr(c.relname, 8), 'YYYYMMDD') < p_today
          ORDER BY c.relname
        LOOP
          EXECUTE format(
            'INSERT INTO audit.purges (tenant_id, through_seq, partition, records) SELECT tenant_id, max(seq), %L, count(*) FROM audit.%I GROUP BY tenant_id ON CONFLICT DO NOTHING',
            v.name, v.name);
          EXECUTE format('SELECT count(*) FROM audit.%I', v.name) INTO v_rows;
          DELETE FROM audit.checkpoints c USING audit.purges pu
          WHERE pu.partition = v.name AND c.tenant_id = pu.tenant_id AND c.seq < pu.through_seq;
          EXECUTE format('DROP TABLE audit.%I', v.name);
          partition := v.name;
          records := v_rows;
          RETURN NEXT;
        END LOOP;
        -- Redeliveries come within the stream's age (days); a month of ids is plenty.
        DELETE FROM audit.received WHERE received_at < now() - interval '30 days';
      END $$`);
    await q.query(`
      CREATE FUNCTION audit.purge_expired() RETURNS TABLE (partition text, records bigint)
      LANGUAGE sql SECURITY DEFINER SET search_path = audit, pg_temp AS $$
        SELECT * FROM audit.purge_expired_as_of((clock_timestamp() AT TIME ZONE 'UTC')::date)
      $$`);

    for (const fn of ['claim(uuid[])', 'lock_heads(uuid[])', 'append(jsonb)', 'ensure_partition(date)', 'purge_expired_as_of(date)', 'purge_expired()']) {
      await q.query(`REVOKE ALL ON FUNCTION audit.${fn} FROM PUBLIC`);
    }

    // What the runtime role may do: read everything, insert settings, checkpoints and
    // keys, and call the functions above. No UPDATE, no DELETE, no TRUNCATE.
    await q.query(`
      CREATE FUNCTION audit.grant_runtime(p_role name) RETURNS void
      LANGUAGE plpgsql SET search_path = audit, pg_temp AS $$
      BEGIN
        EXECUTE format('GRANT USAGE ON SCHEMA audit TO %I', p_role);
        EXECUTE format('GRANT SELECT ON audit.events, audit.heads, audit.received, audit.checkpoints, audit.signing_keys, audit.tenant_settings, audit.purges, audit.migrations TO %I', p_role);
        EXECUTE format('GRANT INSERT ON audit.checkpoints, audit.signing_keys, audit.tenant_settings TO %I', p_role);
        EXECUTE format('GRANT EXECUTE ON FUNCTION audit.claim(uuid[]), audit.lock_heads(uuid[]), audit.append(jsonb), audit.ensure_partition(date), audit.purge_expired() TO %I', p_role);
      END $$`);
    await q.query('REVOKE ALL ON FUNCTION audit.grant_runtime(name) FROM PUBLIC');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TRIGGER IF EXISTS checkpoints_no_truncate ON audit.checkpoints');
    await q.query('DROP TRIGGER IF EXISTS checkpoints_append_only ON audit.checkpoints');
    for (const fn of ['grant_runtime(name)', 'purge_expired()', 'purge_expired_as_of(date)', 'ensure_partition(date)', 'append(jsonb)', 'lock_heads(uuid[])', 'claim(uuid[])']) {
      await q.query(`DROP FUNCTION IF EXISTS audit.${fn}`);
    }
    await q.query('DROP TABLE IF EXISTS audit.events');
    await q.query('DROP FUNCTION IF EXISTS audit.refuse_change()');
    for (const t of ['purges', 'tenant_settings', 'signing_keys', 'checkpoints', 'received', 'heads', 'events']) await q.query(`DROP TABLE IF EXISTS audit.${t}`);
    await q.query('ALTER TABLE audit.events_v0 RENAME CONSTRAINT events_v0_pkey TO events_pkey');
    await q.query('ALTER INDEX audit.events_v0_tenant_time RENAME TO events_tenant_time');
    await q.query('ALTER TABLE audit.events_v0 RENAME TO events');
  }
}
