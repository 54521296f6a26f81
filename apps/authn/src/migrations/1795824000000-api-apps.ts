import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Registered API applications (OAuth clients of the admin API), their refresh
 * tokens (one row per rotation family, at most 25 live per application, with
 * every secret it ever had so a replayed one is recognised), their short-lived
 * access tokens, and which event-driven mails went out (so a redelivered event
 * mails nobody twice). Secrets only as SHA-256 digests.
 */
export class ApiApps1795824000000 implements MigrationInterface {
  name = 'ApiApps1795824000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE authn.api_apps (
        id          uuid        PRIMARY KEY,
        tenant_id   uuid        NOT NULL,
        name        text        NOT NULL,
        client_id   text        NOT NULL UNIQUE,
        secret_hash bytea       NOT NULL,
        scopes      text[]      NOT NULL,
        created_by  uuid        NOT NULL,
        created_at  timestamptz NOT NULL
      )`);
    await q.query('CREATE INDEX api_apps_tenant ON authn.api_apps (tenant_id, created_at)');
    await q.query(`
      CREATE TABLE authn.app_refresh_tokens (
        id             uuid        PRIMARY KEY,
        tenant_id      uuid        NOT NULL,
        app_id         uuid        NOT NULL REFERENCES authn.api_apps (id) ON DELETE CASCADE,
        name           text        NOT NULL,
        created_by     uuid        NOT NULL,
        created_at     timestamptz NOT NULL,
        expires_at     timestamptz NOT NULL,
        last_used_at   timestamptz,
        rotations      integer     NOT NULL DEFAULT 0,
        revoked_at     timestamptz,
        revoked_reason text CHECK (revoked_reason IN ('admin', 'reuse', 'app_deleted')),
        CHECK ((revoked_at IS NULL) = (revoked_reason IS NULL))
      )`);
    await q.query('CREATE INDEX app_refresh_tokens_app ON authn.app_refresh_tokens (app_id, created_at)');
    // Every secret of a family: the current one has rotated_at NULL; presenting a rotated one is reuse.
    await q.query(`
      CREATE TABLE authn.app_refresh_secrets (
        secret_hash bytea       PRIMARY KEY,
        token_id    uuid        NOT NULL REFERENCES authn.app_refresh_tokens (id) ON DELETE CASCADE,
        rotated_at  timestamptz
      )`);
    await q.query('CREATE INDEX app_refresh_secrets_token ON authn.app_refresh_secrets (token_id)');
    await q.query(`
      CREATE TABLE authn.app_access_tokens (
        token_hash       bytea       PRIMARY KEY,
        tenant_id        uuid        NOT NULL,
        app_id           uuid        NOT NULL REFERENCES authn.api_apps (id) ON DELETE CASCADE,
        refresh_token_id uuid        NOT NULL REFERENCES authn.app_refresh_tokens (id) ON DELETE CASCADE,
        scopes           text[]      NOT NULL,
        expires_at       timestamptz NOT NULL
      )`);
    await q.query('CREATE INDEX app_access_tokens_refresh ON authn.app_access_tokens (refresh_token_id)');
    await q.query('CREATE INDEX app_access_tokens_app ON authn.app_access_tokens (app_id, expires_at)');
    await q.query(`
      CREATE TABLE authn.event_mails (
        event_id  uuid        NOT NULL,
        kind      text        NOT NULL,
        tenant_id uuid        NOT NULL,
        user_id   uuid        NOT NULL,
        sent_at   timestamptz NOT NULL,
        PRIMARY KEY (event_id, kind)
      )`);
    await q.query('CREATE INDEX event_mails_user ON authn.event_mails (tenant_id, user_id, kind)');
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['event_mails', 'app_access_tokens', 'app_refresh_secrets', 'app_refresh_tokens', 'api_apps']) await q.query(`DROP TABLE authn.${t}`);
  }
}
