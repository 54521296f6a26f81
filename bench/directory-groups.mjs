#!/usr/bin/env node
// @ts-check
// Benchmark: effective group membership through the bus — a NATS request from
// this process → directory (its own process) → Postgres → reply — on a tenant
// with ~10,000 users spread over a nested tree of 200 groups.
//
//   npm run build && node bench/directory-groups.mjs [--requests 2000] [--concurrency 8]
//
// Users, groups and user memberships are seeded with SQL; the ~220 group-in-group
// edges are added through the service, so the closure is the one its code built
// (checked against a from-scratch computation before measuring).
import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { measure as measureLatency, startDirectoryBench } from './support/directory.mjs';

const { values: args } = parseArgs({
  options: {
    requests: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '8' },
    users: { type: 'string', default: '10000' },
  },
});
const REQUESTS = Number(args.requests);
const CONCURRENCY = Number(args.concurrency);
const USERS = Number(args.users);

const { bus, admin, db, operator, stop } = await startDirectoryBench();
const cleanup = stop;
const measure = (name, fn, n = REQUESTS, concurrency = 1) => measureLatency(name, fn, { n, concurrency, warmup: 200 });

try {
  const tenant = await bus.request('musubi.directory.tenant.create.v1', { slug: 'bench', displayName: 'Bench', limits: { users: USERS + 1000, groups: 1000 } }, operator());

  // The tree: root → 5 divisions → 4 departments each → 3 sections each → ~2 teams each (200 groups, 4 levels),
  // and 20 teams also in a section of another division (diamonds).
  const groups = [];
  const edges = [];
  const group = (name, level) => {
    const g = { id: randomUUID(), name, level };
    groups.push(g);
    return g;
  };
  const top = group('Company', 0);
  const sections = [];
  const teams = [];
  for (let d = 0; d < 5; d++) {
    const division = group(`Division ${d}`, 1);
    edges.push([top, division]);
    for (let p = 0; p < 4; p++) {
      const department = group(`Department ${d}.${p}`, 2);
      edges.push([division, department]);
      for (let s = 0; s < 3; s++) {
        const section = group(`Section ${d}.${p}.${s}`, 3);
        sections.push(section);
        edges.push([department, section]);
      }
    }
  }
  for (let i = 0; groups.length < 200; i++) {
    const team = group(`Team ${i}`, 4);
    teams.push(team);
    edges.push([sections[i % sections.length], team]);
  }
  for (let i = 0; i < 20; i++) edges.push([sections[(i * 7 + 31) % sections.length], teams[i * 5]]);

  const t0 = Date.now();
  await admin.query(
    `INSERT INTO directory.groups (id, tenant_id, name, type, created_at, updated_at)
     SELECT id, $1, name, 'security', date_trunc('milliseconds', now()), date_trunc('milliseconds', now()) FROM unnest($2::uuid[], $3::text[]) AS g(id, name)`,
    [tenant.id, groups.map((g) => g.id), groups.map((g) => g.name)],
  );
  await admin.query('INSERT INTO directory.group_closure (tenant_id, ancestor_id, descendant_id, depth) SELECT $1, id, id, 0 FROM unnest($2::uuid[]) AS id', [tenant.id, groups.map((g) => g.id)]);
  const userIds = (
    await admin.query(
      `INSERT INTO directory.users (id, tenant_id, login_id, display_name, status, created_at, updated_at)
       SELECT gen_random_uuid(), $1, 'user' || i || '@bench.musubi.localhost', 'User ' || i, 'active', now(), now() FROM generate_series(1, $2) AS i
       RETURNING id`,
      [tenant.id, USERS],
    )
  ).rows.map((r) => r.id);
  // Every user in one team; one in five also directly in a section, one in two hundred directly in the company.
  const memberships = [];
  userIds.forEach((id, i) => {
    memberships.push([teams[i % teams.length].id, id]);
    if (i % 5 === 0) memberships.push([sections[i % sections.length].id, id]);
    if (i % 200 === 0) memberships.push([top.id, id]);
  });
  await admin.query(
    `INSERT INTO directory.group_members (tenant_id, group_id, member_kind, member_id) SELECT $1, g, 'user', u FROM unnest($2::uuid[], $3::uuid[]) AS m(g, u)`,
    [tenant.id, memberships.map((m) => m[0]), memberships.map((m) => m[1])],
  );
  const seeded = Date.now() - t0;

  // Group edges through the service: one request per parent, its children at once.
  const t1 = Date.now();
  const byParent = new Map();
  for (const [p, c] of edges) byParent.set(p.id, [...(byParent.get(p.id) ?? []), { kind: 'group', id: c.id }]);
  for (const [parent, members] of byParent) await bus.request('musubi.directory.group.members-add.v1', { tenantId: tenant.id, groupId: parent, members }, operator());
  const linked = Date.now() - t1;
  await admin.query('ANALYZE directory.group_members, directory.group_closure, directory.users, directory.groups');

  // The closure the service built, against a breadth-first search over the edges.
  const children = new Map();
  for (const [p, c] of edges) children.set(p.id, [...(children.get(p.id) ?? []), c.id]);
  const expected = new Set();
  for (const g of groups) {
    const depth = new Map([[g.id, 0]]);
    const queue = [g.id];
    while (queue.length) {
      const at = queue.shift();
      for (const c of children.get(at) ?? []) if (!depth.has(c)) (depth.set(c, depth.get(at) + 1), queue.push(c));
    }
    for (const [d, n] of depth) expected.add(`${g.id}>${d}:${n}`);
  }
  const stored = (await admin.query("SELECT ancestor_id || '>' || descendant_id || ':' || depth AS r FROM directory.group_closure WHERE tenant_id = $1", [tenant.id])).rows.map((r) => r.r);
  if (stored.length !== expected.size || !stored.every((r) => expected.has(r))) throw new Error(`the closure does not match: ${stored.length} rows stored, ${expected.size} expected`);
  const effectiveCount = (
    await admin.query(
      "SELECT count(DISTINCT m.member_id)::int AS n FROM directory.group_closure c JOIN directory.group_members m ON m.group_id = c.descendant_id AND m.member_kind = 'user' WHERE c.ancestor_id = $1",
      [top.id],
    )
  ).rows[0].n;
  console.log(
    `seeded ${groups.length} groups, ${edges.length} group edges (${stored.length} closure rows, max depth ${Math.max(...stored.map((r) => Number(r.split(':')[1])))}), ` +
      `${userIds.length} users, ${memberships.length} user memberships; ${effectiveCount} effective users of the top group. SQL seed ${seeded} ms, edges through the bus ${linked} ms\n`,
  );

  const effective = (groupId, limit, cursor) =>
    bus.request('musubi.directory.group.effective-users-list.v1', { tenantId: tenant.id, groupId, limit, ...(cursor ? { cursor } : {}) }, operator());
  const results = [];
  results.push(await measure('effective users of the top group (10,000), first page of 50', () => effective(top.id, 50)));
  results.push(await measure('effective users of the top group (10,000), first page of 50', () => effective(top.id, 50), REQUESTS, CONCURRENCY));
  results.push(await measure('effective users of the top group, first page of 200', () => effective(top.id, 200), REQUESTS, CONCURRENCY));
  // A cursor from the middle of the list: later pages aggregate fewer rows.
  let mid = null;
  for (let i = 0, page = await effective(top.id, 200); i < 24; i++, page = await effective(top.id, 200, page.nextCursor)) mid = page.nextCursor;
  results.push(await measure('effective users of the top group, page 26 of 50 (limit 200)', () => effective(top.id, 200, mid), REQUESTS, CONCURRENCY));
  results.push(await measure('effective users of a division (~2,000), first page of 50', () => effective(groups[1].id, 50), REQUESTS, CONCURRENCY));
  results.push(await measure('effective users of a team (~60), all of them', () => effective(teams[3].id, 200), REQUESTS, CONCURRENCY));

  const walkStart = Date.now();
  let walked = 0;
  for (let page = await effective(top.id, 200); ; page = await effective(top.id, 200, page.nextCursor)) {
    walked += page.items.length;
    if (!page.nextCursor) break;
  }
  const walkMs = Date.now() - walkStart;
  console.log(`${'walking all effective users of the top group, 200 a page'.padEnd(70)} ${walked} users in ${walkMs} ms`);

  const someone = userIds[0];
  results.push(
    await measure("a user's effective groups (in the company, a section and a team)", () =>
      bus.request('musubi.directory.group.user-groups-list.v1', { tenantId: tenant.id, userId: someone }, operator()), REQUESTS, CONCURRENCY),
  );
  // Writes: nesting a team under a second section and taking it out again (closure extended, then repaired).
  const writeTeam = teams[50];
  const writeSection = sections[17];
  results.push(
    await measure(
      'add a team (~60 users) to a second section, then remove it (2 requests)',
      async () => {
        await bus.request('musubi.directory.group.members-add.v1', { tenantId: tenant.id, groupId: writeSection.id, members: [{ kind: 'group', id: writeTeam.id }] }, operator());
        await bus.request('musubi.directory.group.member-remove.v1', { tenantId: tenant.id, groupId: writeSection.id, member: { kind: 'group', id: writeTeam.id } }, operator());
      },
      400,
      1,
    ),
  );
  const plan = (
    await admin.query(
      `EXPLAIN (ANALYZE, FORMAT JSON)
       SELECT u.id, min(c.depth) AS depth, u.login_id, u.display_name, u.status
       FROM directory.group_closure c
       JOIN directory.group_members m ON m.group_id = c.descendant_id AND m.member_kind = 'user'
       JOIN directory.users u ON u.id = m.member_id
       WHERE c.ancestor_id = $1 AND m.member_id > '00000000-0000-0000-0000-000000000000'::uuid AND u.status <> 'purged'
       GROUP BY u.id ORDER BY u.id LIMIT 51`,
      [top.id],
    )
  ).rows[0]['QUERY PLAN'][0];
  console.log(`\nthe effective-users query alone in Postgres (first page, top group): ${plan['Execution Time'].toFixed(2)} ms`);
  console.log(JSON.stringify({ results, walkAllMs: walkMs, sqlExecutionMs: plan['Execution Time'], cores: availableParallelism(), node: process.version }, null, 2));
} finally {
  await cleanup();
}
