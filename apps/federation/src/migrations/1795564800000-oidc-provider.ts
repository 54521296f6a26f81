import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The OpenID provider's state:
 * - `oidc_clients`: registered applications; the secret only as a SHA-256 hash
 *   (secrets are 256-bit random, so a fast hash is enough), the rest of the
 *   registration as one JSON document;
 * - `signing_keys`: per tenant and algorithm, the private key sealed with
 *   AES-256-GCM under OIDC_KEY_ENCRYPTION_KEY; `not_before`/`not_after` say when
 *   it signs, `expires_at` when it leaves the JWKS;
 * - `authorization_requests`: requests held while the user signs in, and pushed
 *   ones (PAR);
 * - `grants`: what a user allowed a client in one authorization; codes and
 *   refresh tokens (hashed) hang off it, and revoking it revokes them all, and
 *   every access token that names it;
 * - `revoked_tokens`: access tokens (JWT) revoked one by one, until they expire;
 * - `consents`: scopes a user allowed a client before;
 * - `client_assertion_ids`: private_key_jwt `jti`s seen, so none is replayed;
 * - `issued_tokens`: client-credentials tokens waiting to be reported to the trail.
 */
export class OidcProvider1795564800000 implements MigrationInterface {
  name = 'OidcProvider1795564800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE federation.oidc_clients (
        id                uuid        PRIMARY KEY,
        tenant_id         uuid        NOT NULL,
        settings          jsonb       NOT NULL,
        secret_hash       bytea,
        secret_created_at timestamptz,
        created_at        timestamptz NOT NULL,
        updated_at        timestamptz NOT NULL,
        version           integer     NOT NULL DEFAULT 1
      )`);
    await q.query('CREATE INDEX oidc_clients_tenant_created ON federation.oidc_clients (tenant_id, created_at, id)');

    await q.query(`
      CREATE TABLE federation.signing_keys (
        kid         text        PRIMARY KEY,
        tenant_id   uuid        NOT NULL,
        alg         text        NOT NULL CHECK (alg IN ('ES256', 'RS256')),
        public_jwk  jsonb       NOT NULL,
        private_key bytea       NOT NULL,
        not_before  timestamptz NOT NULL,
        not_after   timestamptz NOT NULL,
        expires_at  timestamptz NOT NULL,
        created_at  timestamptz NOT NULL,
        CHECK (not_before < not_after AND not_after <= expires_at)
      )`);
    await q.query('CREATE INDEX signing_keys_tenant ON federation.signing_keys (tenant_id, alg, not_before)');

    await q.query(`
      CREATE TABLE federation.authorization_requests (
        id         uuid        PRIMARY KEY,
        tenant_id  uuid        NOT NULL,
        client_id  uuid        NOT NULL,
        params     jsonb       NOT NULL,
        pushed     boolean     NOT NULL,
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        done_at    timestamptz
      )`);
    await q.query('CREATE INDEX authorization_requests_expiry ON federation.authorization_requests (expires_at)');

    await q.query(`
      CREATE TABLE federation.grants (
        id          uuid        PRIMARY KEY,
        tenant_id   uuid        NOT NULL,
        client_id   uuid        NOT NULL,
        user_id     uuid        NOT NULL,
        scopes      jsonb       NOT NULL,
        sid         text,
        auth_time   timestamptz NOT NULL,
        amr         jsonb       NOT NULL,
        acr         text,
        nonce       text,
        created_at  timestamptz NOT NULL,
        expires_at  timestamptz NOT NULL,
        revoked_at  timestamptz
      )`);
    await q.query('CREATE INDEX grants_sid ON federation.grants (tenant_id, sid) WHERE sid IS NOT NULL');
    await q.query('CREATE INDEX grants_client ON federation.grants (client_id)');

    await q.query(`
      CREATE TABLE federation.authorization_codes (
        code_hash      bytea       PRIMARY KEY,
        tenant_id      uuid        NOT NULL,
        grant_id       uuid        NOT NULL REFERENCES federation.grants (id) ON DELETE CASCADE,
        client_id      uuid        NOT NULL,
        redirect_uri   text        NOT NULL,
        code_challenge text,
        expires_at     timestamptz NOT NULL,
        used_at        timestamptz
      )`);
    await q.query('CREATE INDEX authorization_codes_grant ON federation.authorization_codes (grant_id)');

    await q.query(`
      CREATE TABLE federation.refresh_tokens (
        token_hash bytea       PRIMARY KEY,
        tenant_id  uuid        NOT NULL,
        grant_id   uuid        NOT NULL REFERENCES federation.grants (id) ON DELETE CASCADE,
        client_id  uuid        NOT NULL,
        scopes     jsonb       NOT NULL,
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        used_at    timestamptz
      )`);
    await q.query('CREATE INDEX refresh_tokens_grant ON federation.refresh_tokens (grant_id)');

    await q.query(`
      CREATE TABLE federation.revoked_tokens (
        jti        text        PRIMARY KEY,
        tenant_id  uuid        NOT NULL,
        expires_at timestamptz NOT NULL
      )`);

    await q.query(`
      CREATE TABLE federation.consents (
        tenant_id  uuid        NOT NULL,
        user_id    uuid        NOT NULL,
        client_id  uuid        NOT NULL,
        scopes     jsonb       NOT NULL,
        updated_at timestamptz NOT NULL,
        PRIMARY KEY (tenant_id, user_id, client_id)
      )`);

    // Client-credentials tokens issued and not yet reported to the trail: written by the group commit before
    // the tokens are handed out, reported as one token.issued event per client and scope set each second.
    await q.query(`
      CREATE TABLE federation.issued_tokens (
        seq         bigserial   PRIMARY KEY,
        tenant_id   uuid        NOT NULL,
        client_id   uuid        NOT NULL,
        client_name text        NOT NULL,
        scope       text        NOT NULL,
        jti         text        NOT NULL,
        issued_at   timestamptz NOT NULL
      )`);

    await q.query(`
      CREATE TABLE federation.client_assertion_ids (
        client_id  uuid        NOT NULL,
        jti        text        NOT NULL,
        expires_at timestamptz NOT NULL,
        PRIMARY KEY (client_id, jti)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['issued_tokens', 'client_assertion_ids', 'consents', 'revoked_tokens', 'refresh_tokens', 'authorization_codes', 'grants', 'authorization_requests', 'signing_keys', 'oidc_clients']) {
      await q.query(`DROP TABLE IF EXISTS federation.${t}`);
    }
  }
}
