import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Group tables: groups, direct members, the group-to-group closure.
 *
 * `group_members` and `group_closure` are a contract other features query (the
 * users list filters by effective group), so their names and columns stay as
 * they are:
 * - `group_members`: one row per direct member, a user or a nested group;
 * - `group_closure`: `(a, d, n)` means group d is nested in group a, n levels
 *   down by the shortest way; every group has its own `(g, g, 0)` row. The
 *   effective users of X are the user members of every d with a row `(X, d, _)`.
 * Composite foreign keys on `(tenant_id, group)` keep every row inside its
 * group's tenant; deleting a group cascades to its own rows.
 */
export class Groups1795392000002 implements MigrationInterface {
  name = 'Groups1795392000002';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE directory.groups (
        id          uuid        PRIMARY KEY,
        tenant_id   uuid        NOT NULL REFERENCES directory.tenants (id),
        name        text        NOT NULL,
        -- The case-insensitive key: unique per tenant, and the order of lists by name (code point order, not locale).
        name_key    text        COLLATE "C" GENERATED ALWAYS AS (lower(name)) STORED,
        email       text,
        description text,
        type        text        NOT NULL CHECK (type IN ('security', 'distribution', 'organization')),
        created_at  timestamptz NOT NULL,
        updated_at  timestamptz NOT NULL,
        version     integer     NOT NULL DEFAULT 1,
        CONSTRAINT groups_tenant_id_id_key UNIQUE (tenant_id, id)
      )`);
    await q.query('CREATE UNIQUE INDEX groups_tenant_name_key ON directory.groups (tenant_id, name_key)');
    await q.query('CREATE INDEX groups_tenant_created ON directory.groups (tenant_id, created_at, id)');

    await q.query(`
      CREATE TABLE directory.group_members (
        tenant_id   uuid        NOT NULL,
        group_id    uuid        NOT NULL,
        member_kind text        NOT NULL CHECK (member_kind IN ('user', 'group')),
        member_id   uuid        NOT NULL,
        added_at    timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (group_id, member_kind, member_id),
        CONSTRAINT group_members_group_fkey FOREIGN KEY (tenant_id, group_id) REFERENCES directory.groups (tenant_id, id) ON DELETE CASCADE,
        CONSTRAINT group_members_not_itself CHECK (member_kind <> 'group' OR member_id <> group_id)
      )`);
    // A user's or a group's own memberships (its groups; what to remove when it goes), index-only.
    await q.query('CREATE INDEX group_members_member ON directory.group_members (member_kind, member_id, group_id)');

    await q.query(`
      CREATE TABLE directory.group_closure (
        tenant_id     uuid    NOT NULL,
        ancestor_id   uuid    NOT NULL,
        descendant_id uuid    NOT NULL,
        depth         integer NOT NULL CHECK (depth >= 0),
        PRIMARY KEY (ancestor_id, descendant_id),
        CONSTRAINT group_closure_ancestor_fkey FOREIGN KEY (tenant_id, ancestor_id) REFERENCES directory.groups (tenant_id, id) ON DELETE CASCADE,
        CONSTRAINT group_closure_descendant_fkey FOREIGN KEY (tenant_id, descendant_id) REFERENCES directory.groups (tenant_id, id) ON DELETE CASCADE,
        CONSTRAINT group_closure_depth_zero_is_self CHECK ((depth = 0) = (ancestor_id = descendant_id))
      )`);
    // The groups a group is nested in (a user's groups, cycle checks), index-only.
    await q.query('CREATE INDEX group_closure_descendant ON directory.group_closure (descendant_id, ancestor_id, depth)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE directory.group_closure');
    await q.query('DROP TABLE directory.group_members');
    await q.query('DROP TABLE directory.groups');
  }
}
