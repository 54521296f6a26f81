import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { GroupMemberKind, GroupType } from '@musubi/contracts';
import { runSql, type Tx } from '@musubi/platform/db';
import type { EffectiveUser, KeysetPage, Member, MemberRef, UserGroupMembership } from './group.js';
import { toGroup } from './group.repository.js';

/**
 * Direct members (`group_members`) and the nesting closure (`group_closure`,
 * one row per (ancestor, descendant) pair with the shortest depth, and a
 * (g, g, 0) row per group).
 *
 * Every change to the graph runs under `lockGraph`, a transaction-scoped
 * advisory lock per tenant: the cycle check reads the closure and the write
 * changes it, and two transactions interleaving those steps (A→B and B→A at
 * once) would both pass the check. Under the lock they take turns, and each
 * reads (READ COMMITTED: every statement takes a new snapshot) what the other
 * committed. Groups of different tenants never wait for each other.
 */
@Injectable()
export class GroupMembershipRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Serialises every change to the tenant's group graph until the transaction ends. Take it before reading the graph. */
  async lockGraph(tx: Tx, tenantId: string): Promise<void> {
    await runSql(this.dataSource, tx, 'SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`musubi:directory:group-graph:${tenantId}`]);
  }

  /** Every direct membership in the tenant, groups in groups first-class (bulk CSV jobs), as `kind:memberId` per group id. */
  async directMemberships(tenantId: string, tx?: Tx): Promise<Array<{ groupId: string; kind: GroupMemberKind; memberId: string }>> {
    const rows = await runSql<{ group_id: string; member_kind: GroupMemberKind; member_id: string }>(
      this.dataSource,
      tx,
      'SELECT group_id, member_kind, member_id FROM group_members WHERE tenant_id = $1',
      [tenantId],
    );
    return rows.map((r) => ({ groupId: r.group_id, kind: r.member_kind, memberId: r.member_id }));
  }

  /** A group's direct members as a CSV export writes them: user login IDs and group names, in order. */
  async exportMembers(groupId: string): Promise<Array<{ kind: GroupMemberKind; key: string }>> {
    return runSql<{ kind: GroupMemberKind; key: string }>(
      this.dataSource,
      undefined,
      `SELECT m.member_kind AS kind, coalesce(u.login_id, g.name) AS key
       FROM group_members m
       LEFT JOIN users u ON m.member_kind = 'user' AND u.id = m.member_id AND u.status <> 'purged'
       LEFT JOIN groups g ON m.member_kind = 'group' AND g.id = m.member_id
       WHERE m.group_id = $1 AND coalesce(u.login_id, g.name) IS NOT NULL
       ORDER BY m.member_kind DESC, coalesce(u.sort_login, g.name_key)`,
      [groupId],
    );
  }

  /** Adds the group's own closure row (it contains itself, at depth 0). */
  async insertSelf(tx: Tx, tenantId: string, groupId: string): Promise<void> {
    await runSql(this.dataSource, tx, 'INSERT INTO group_closure (tenant_id, ancestor_id, descendant_id, depth) VALUES ($1, $2, $2, 0)', [tenantId, groupId]);
  }

  /**
   * The statuses of those of `ids` that are users of the tenant, locked
   * against change (a purge, say) until the transaction ends.
   */
  async lockUsers(tx: Tx, tenantId: string, ids: readonly string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const rows = await runSql<{ id: string; status: string }>(
      this.dataSource,
      tx,
      'SELECT id, status FROM users WHERE tenant_id = $1 AND id = ANY($2::uuid[]) ORDER BY id FOR SHARE',
      [tenantId, [...ids]],
    );
    return new Map(rows.map((r) => [r.id, r.status]));
  }

  async userStatus(tenantId: string, userId: string): Promise<string | null> {
    const rows = await runSql<{ status: string }>(this.dataSource, undefined, 'SELECT status FROM users WHERE tenant_id = $1 AND id = $2', [tenantId, userId]);
    return rows[0]?.status ?? null;
  }

  /** The groups that contain `groupId`, itself included (depth 0). */
  async ancestorsOf(tx: Tx, groupId: string): Promise<Set<string>> {
    const rows = await runSql<{ id: string }>(this.dataSource, tx, 'SELECT ancestor_id AS id FROM group_closure WHERE descendant_id = $1', [groupId]);
    return new Set(rows.map((r) => r.id));
  }

  /**
   * Inserts the members that are not members yet and returns them; the others
   * are left as they were. Does not touch the closure: see `link`.
   */
  async insertMembers(tx: Tx, tenantId: string, groupId: string, members: readonly MemberRef[], at: Date): Promise<MemberRef[]> {
    const rows = await runSql<{ member_kind: GroupMemberKind; member_id: string }>(
      this.dataSource,
      tx,
      `INSERT INTO group_members (tenant_id, group_id, member_kind, member_id, added_at)
       SELECT $1, $2, m.kind, m.id, $5 FROM unnest($3::text[], $4::uuid[]) AS m(kind, id)
       ON CONFLICT DO NOTHING
       RETURNING member_kind, member_id`,
      [tenantId, groupId, members.map((m) => m.kind), members.map((m) => m.id), at],
    );
    const added = new Set(rows.map((r) => `${r.member_kind}:${r.member_id}`));
    return members.filter((m) => added.has(`${m.kind}:${m.id}`));
  }

  /**
   * Extends the closure after groups `childIds` became members of `parentId`:
   * every ancestor of the parent now contains every descendant of each child.
   * A shortest path uses at most one of the new edges (they all leave the
   * parent; using two would visit it twice), and the depths to the parent and
   * from the children do not change (that would take a cycle), so the new
   * depth of a pair is the smaller of its old one and the best way through a
   * new edge. The caller has checked that no child contains the parent.
   */
  async link(tx: Tx, tenantId: string, parentId: string, childIds: readonly string[]): Promise<void> {
    if (childIds.length === 0) return;
    await runSql(
      this.dataSource,
      tx,
      `INSERT INTO group_closure (tenant_id, ancestor_id, descendant_id, depth)
       SELECT $1, a.ancestor_id, d.descendant_id, min(a.depth + 1 + d.depth)
       FROM group_closure a JOIN group_closure d ON d.ancestor_id = ANY($3::uuid[])
       WHERE a.descendant_id = $2
       GROUP BY a.ancestor_id, d.descendant_id
       ON CONFLICT (ancestor_id, descendant_id) DO UPDATE SET depth = EXCLUDED.depth WHERE EXCLUDED.depth < group_closure.depth`,
      [tenantId, parentId, [...childIds]],
    );
  }

  /** Removes one direct membership; for a group member, repairs the closure. False when it was no member. */
  async removeMember(tx: Tx, tenantId: string, groupId: string, member: MemberRef): Promise<boolean> {
    const span = member.kind === 'group' ? await this.span(tx, groupId, member.id) : null;
    const rows = await runSql<{ group_id: string }>(
      this.dataSource,
      tx,
      'DELETE FROM group_members WHERE group_id = $1 AND member_kind = $2 AND member_id = $3 RETURNING group_id',
      [groupId, member.kind, member.id],
    );
    if (rows.length === 0) return false;
    if (span) await this.repair(tx, tenantId, span.ancestors, span.descendants);
    return true;
  }

  /**
   * Before a group is deleted: removes it from the groups it is a member of
   * and removes all its own members, then repairs the closure between the
   * groups around it. Returns the groups it was removed from and how many
   * members it had. Its own closure rows go when the group row does.
   */
  async detach(tx: Tx, tenantId: string, groupId: string): Promise<{ removedFrom: string[]; memberCount: number }> {
    const span = await this.span(tx, groupId, groupId);
    const parents = await runSql<{ group_id: string }>(
      this.dataSource,
      tx,
      "DELETE FROM group_members WHERE member_kind = 'group' AND member_id = $1 RETURNING group_id",
      [groupId],
    );
    const members = await runSql<{ n: number }>(
      this.dataSource,
      tx,
      'WITH gone AS (DELETE FROM group_members WHERE group_id = $1 RETURNING 1) SELECT count(*)::int AS n FROM gone',
      [groupId],
    );
    // With none of its edges left, no path runs through it: the pairs around it are recomputed without it.
    await this.repair(
      tx,
      tenantId,
      span.ancestors.filter((id) => id !== groupId),
      span.descendants.filter((id) => id !== groupId),
    );
    return { removedFrom: parents.map((r) => r.group_id).sort(), memberCount: members[0]?.n ?? 0 };
  }

  /** The groups containing `top` and those nested in `bottom` (both included), from the closure as it is now. */
  private async span(tx: Tx, top: string, bottom: string): Promise<{ ancestors: string[]; descendants: string[] }> {
    const rows = await runSql<{ ancestors: string[]; descendants: string[] }>(
      this.dataSource,
      tx,
      `SELECT array(SELECT ancestor_id FROM group_closure WHERE descendant_id = $1) AS ancestors,
              array(SELECT descendant_id FROM group_closure WHERE ancestor_id = $2) AS descendants`,
      [top, bottom],
    );
    return rows[0] ?? { ancestors: [], descendants: [] };
  }

  /**
   * Recomputes the closure rows between `ancestors` and `descendants` after
   * edges between them were removed (the pairs whose paths may have used a
   * removed edge; no other pair's shortest path did). Those rows are deleted
   * and rebuilt from what remains: any path from an ancestor a to a
   * descendant d leaves the ancestor set for the last time on some edge x→y,
   * so it is a row (a, x) outside the suspect pairs, the edge, and a row
   * (y, d) outside them too (y is no ancestor); both kept rows are exact, so
   * the minimum over such compositions is the new shortest depth, and a pair
   * with none is no longer nested. A diamond keeps its other side.
   */
  private async repair(tx: Tx, tenantId: string, ancestors: readonly string[], descendants: readonly string[]): Promise<void> {
    if (ancestors.length === 0 || descendants.length === 0) return;
    await runSql(this.dataSource, tx, 'DELETE FROM group_closure WHERE ancestor_id = ANY($1::uuid[]) AND descendant_id = ANY($2::uuid[])', [
      [...ancestors],
      [...descendants],
    ]);
    await runSql(
      this.dataSource,
      tx,
      `INSERT INTO group_closure (tenant_id, ancestor_id, descendant_id, depth)
       SELECT $1, t1.ancestor_id, t2.descendant_id, min(t1.depth + 1 + t2.depth)
       FROM group_closure t1
       JOIN group_members e ON e.group_id = t1.descendant_id AND e.member_kind = 'group'
       JOIN group_closure t2 ON t2.ancestor_id = e.member_id
       WHERE t1.ancestor_id = ANY($2::uuid[]) AND t2.descendant_id = ANY($3::uuid[])
       GROUP BY t1.ancestor_id, t2.descendant_id`,
      [tenantId, [...ancestors], [...descendants]],
    );
  }

  /** A page of direct members, groups first, each kind by id. */
  async listMembers(groupId: string, kind: GroupMemberKind | null, after: MemberRef | null, limit: number): Promise<KeysetPage<Member, MemberRef>> {
    const rows = await runSql<{ member_kind: GroupMemberKind; member_id: string; added_at: Date; name: string | null; login_id: string | null; status: string | null }>(
      this.dataSource,
      undefined,
      `SELECT m.member_kind, m.member_id, m.added_at,
              CASE m.member_kind WHEN 'user' THEN u.display_name ELSE g.name END AS name,
              u.login_id, u.status
       FROM group_members m
       LEFT JOIN users u ON m.member_kind = 'user' AND u.id = m.member_id
       LEFT JOIN groups g ON m.member_kind = 'group' AND g.id = m.member_id
       WHERE m.group_id = $1 AND (m.member_kind, m.member_id) > ($2::text, $3::uuid) AND ($4::text IS NULL OR m.member_kind = $4)
       ORDER BY m.member_kind, m.member_id
       LIMIT $5`,
      [groupId, after?.kind ?? '', after?.id ?? '00000000-0000-0000-0000-000000000000', kind, limit + 1],
    );
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map((r) => ({ kind: r.member_kind, id: r.member_id, name: r.name ?? '', loginId: r.login_id, status: r.status, addedAt: r.added_at })),
      next: rows.length > limit && last ? { kind: last.member_kind, id: last.member_id } : null,
    };
  }

  /**
   * A page of the users in `groupId` directly or through nested groups, by
   * user id, each with its shortest depth: the closure gives the group and
   * everything nested in it, the members table their user members. Purged
   * users are left out.
   */
  async effectiveUsers(groupId: string, afterId: string | null, limit: number): Promise<KeysetPage<EffectiveUser, string>> {
    const rows = await runSql<{ id: string; depth: number; login_id: string; display_name: string; status: string }>(
      this.dataSource,
      undefined,
      `SELECT u.id, min(c.depth) AS depth, u.login_id, u.display_name, u.status
       FROM group_closure c
       JOIN group_members m ON m.group_id = c.descendant_id AND m.member_kind = 'user'
       JOIN users u ON u.id = m.member_id
       WHERE c.ancestor_id = $1 AND m.member_id > $2::uuid AND u.status <> 'purged'
       GROUP BY u.id
       ORDER BY u.id
       LIMIT $3`,
      [groupId, afterId ?? '00000000-0000-0000-0000-000000000000', limit + 1],
    );
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map((r) => ({ id: r.id, loginId: r.login_id, displayName: r.display_name, status: r.status, depth: r.depth })),
      next: rows.length > limit && last ? last.id : null,
    };
  }

  /** A page of the groups `userId` is in, directly or through nesting, by name, each with its shortest depth. */
  async userGroups(tenantId: string, userId: string, afterNameKey: string | null, limit: number): Promise<KeysetPage<UserGroupMembership, string>> {
    const rows = await runSql<{
      id: string;
      tenant_id: string;
      name: string;
      name_key: string;
      email: string | null;
      description: string | null;
      type: GroupType;
      created_at: Date;
      updated_at: Date;
      version: number;
      depth: number;
    }>(
      this.dataSource,
      undefined,
      `WITH mine AS (
         SELECT c.ancestor_id AS group_id, min(c.depth) AS depth
         FROM group_members m JOIN group_closure c ON c.descendant_id = m.group_id
         WHERE m.member_kind = 'user' AND m.member_id = $2 AND m.tenant_id = $1
         GROUP BY c.ancestor_id
       )
       SELECT g.id, g.tenant_id, g.name, g.name_key, g.email, g.description, g.type, g.created_at, g.updated_at, g.version, mine.depth
       FROM mine JOIN groups g ON g.id = mine.group_id
       WHERE g.name_key > $3
       ORDER BY g.name_key
       LIMIT $4`,
      [tenantId, userId, afterNameKey ?? '', limit + 1],
    );
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return { items: page.map((r) => ({ group: toGroup(r), depth: r.depth })), next: rows.length > limit && last ? last.name_key : null };
  }
}
