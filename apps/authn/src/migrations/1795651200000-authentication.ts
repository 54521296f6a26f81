import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Tenant policies, password history, lockout, reset links, mail templates and API tokens. */
export class Authentication1795651200000 implements MigrationInterface {
  name = 'Authentication1795651200000';

  async up(q: QueryRunner): Promise<void> {
    // When the "password expiring" mail went out for the password of this changed_at (sent once per password).
    await q.query('ALTER TABLE authn.credentials ADD COLUMN expiry_warned_for timestamptz');
    // One row per tenant that changed anything; a tenant without one has the defaults.
    await q.query(`
      CREATE TABLE authn.policies (
        tenant_id                uuid PRIMARY KEY,
        password_min_length      smallint CHECK (password_min_length BETWEEN 6 AND 24),
        second_factor_required   boolean NOT NULL,
        password_complexity      boolean NOT NULL,
        password_history         smallint CHECK (password_history BETWEEN 1 AND 24),
        password_expiry_days     smallint CHECK (password_expiry_days BETWEEN 1 AND 999),
        temporary_password_hours smallint NOT NULL CHECK (temporary_password_hours BETWEEN 1 AND 2160),
        lockout_threshold        smallint NOT NULL CHECK (lockout_threshold BETWEEN 1 AND 100),
        lockout_minutes          smallint NOT NULL CHECK (lockout_minutes BETWEEN 1 AND 60),
        session_idle_minutes     smallint NOT NULL CHECK (session_idle_minutes BETWEEN 1 AND 1440),
        session_absolute_hours   smallint NOT NULL CHECK (session_absolute_hours BETWEEN 1 AND 720),
        reset_mails_per_hour     smallint NOT NULL CHECK (reset_mails_per_hour BETWEEN 1 AND 20),
        reset_lock_minutes       smallint NOT NULL CHECK (reset_lock_minutes BETWEEN 1 AND 1440),
        logout_url               text,
        admin_allowed_cidrs      text[] NOT NULL DEFAULT '{}',
        logo_url                 text,
        primary_color            text,
        version                  integer NOT NULL,
        updated_at               timestamptz NOT NULL
      )`);
    // Earlier password hashes, newest first by changed_at; kept up to the largest history a policy allows (24).
    await q.query(`
      CREATE TABLE authn.password_history (
        tenant_id     uuid        NOT NULL,
        user_id       uuid        NOT NULL,
        password_hash text        NOT NULL,
        changed_at    timestamptz NOT NULL,
        PRIMARY KEY (tenant_id, user_id, changed_at)
      )`);
    // Consecutive failures per account: the source of truth for lockout, so a Redis flush unlocks nobody.
    await q.query(`
      CREATE TABLE authn.lockouts (
        tenant_id       uuid        NOT NULL,
        user_id         uuid        NOT NULL,
        failures        integer     NOT NULL,
        locked_until    timestamptz,
        last_failure_at timestamptz NOT NULL,
        PRIMARY KEY (tenant_id, user_id)
      )`);
    // Reset links by the SHA-256 of their token: the token itself is only ever in the mail.
    await q.query(`
      CREATE TABLE authn.password_resets (
        token_hash bytea       PRIMARY KEY,
        tenant_id  uuid        NOT NULL,
        user_id    uuid        NOT NULL,
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        used_at    timestamptz
      )`);
    await q.query('CREATE INDEX password_resets_user ON authn.password_resets (tenant_id, user_id)');
    await q.query(`
      CREATE TABLE authn.mail_templates (
        tenant_id  uuid        NOT NULL,
        kind       text        NOT NULL,
        lang       text        NOT NULL CHECK (lang IN ('ja', 'en')),
        subject    text        NOT NULL,
        body       text        NOT NULL,
        updated_at timestamptz NOT NULL,
        PRIMARY KEY (tenant_id, kind, lang)
      )`);
    await q.query(`
      CREATE TABLE authn.api_tokens (
        id           uuid        PRIMARY KEY,
        tenant_id    uuid        NOT NULL,
        name         text        NOT NULL,
        scopes       text[]      NOT NULL,
        token_hash   bytea       NOT NULL UNIQUE,
        prefix       text        NOT NULL,
        created_by   uuid        NOT NULL,
        created_at   timestamptz NOT NULL,
        expires_at   timestamptz NOT NULL,
        last_used_at timestamptz,
        revoked_at   timestamptz,
        warned_at    timestamptz
      )`);
    await q.query('CREATE INDEX api_tokens_tenant ON authn.api_tokens (tenant_id, created_at)');
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['api_tokens', 'mail_templates', 'password_resets', 'lockouts', 'password_history', 'policies']) await q.query(`DROP TABLE authn.${t}`);
    await q.query('ALTER TABLE authn.credentials DROP COLUMN expiry_warned_for');
  }
}
