import type { MigrationInterface, QueryRunner } from 'typeorm';
import { createOutboxTable, dropOutboxTable } from '@musubi/platform/db';

export class Init1795305600000 implements MigrationInterface {
  name = 'Init1795305600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE directory.tenants (
        id             uuid        PRIMARY KEY,
        slug           text        NOT NULL,
        display_name   text        NOT NULL,
        status         text        NOT NULL CHECK (status IN ('active', 'suspended', 'terminated')),
        time_zone      text        NOT NULL,
        default_locale text        NOT NULL CHECK (default_locale IN ('ja-JP', 'en-US')),
        user_limit     integer     NOT NULL CHECK (user_limit > 0),
        group_limit    integer     NOT NULL CHECK (group_limit > 0),
        created_at     timestamptz NOT NULL,
        updated_at     timestamptz NOT NULL,
        version        integer     NOT NULL DEFAULT 1,
        CONSTRAINT tenants_slug_key UNIQUE (slug)
      )`);
    await q.query(`
      CREATE TABLE directory.users (
        id           uuid        PRIMARY KEY,
        tenant_id    uuid        NOT NULL REFERENCES directory.tenants (id),
        login_id     text        NOT NULL,
        display_name text        NOT NULL,
        family_name  text,
        given_name   text,
        email        text,
        roles        text[]      NOT NULL DEFAULT '{}',
        status       text        NOT NULL CHECK (status IN ('active', 'disabled')),
        created_at   timestamptz NOT NULL,
        updated_at   timestamptz NOT NULL,
        version      integer     NOT NULL DEFAULT 1
      )`);
    // Login IDs are unique per tenant regardless of case.
    await q.query(`CREATE UNIQUE INDEX users_tenant_login_id_key ON directory.users (tenant_id, lower(login_id))`);
    await createOutboxTable(q, 'directory');
  }

  async down(q: QueryRunner): Promise<void> {
    await dropOutboxTable(q, 'directory');
    await q.query('DROP TABLE directory.users');
    await q.query('DROP TABLE directory.tenants');
  }
}
