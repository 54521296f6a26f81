#!/usr/bin/env node
// @ts-check
// Benchmark: the users list and search on a tenant of 100,000 users, through the
// bus — a NATS request from this process → directory (its own process) →
// Postgres → reply — as the gateway makes it for GET /api/v1/tenants/{id}/users.
//
//   npm run build && node bench/directory-users.mjs [--users 100000] [--requests 300] [--concurrency 1]
//
// Users are seeded with one INSERT … SELECT straight into the directory schema
// (Japanese names with kana, emails, external IDs, two domains, 5 % disabled and
// 1 % pending deletion, a nested group holding ~10 %); the stored sort keys and
// search vector are the table's generated columns, and the search terms table is
// filled by the table's triggers, so they are what the service itself would have
// written.
import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { measure as measureLatency, startDirectoryBench } from './support/directory.mjs';

const { values: args } = parseArgs({
  options: {
    users: { type: 'string', default: '100000' },
    requests: { type: 'string', default: '300' },
    concurrency: { type: 'string', default: '1' },
    'deep-pages': { type: 'string', default: '250' },
    /** Keep the seeded database this long after seeding (to look at plans with psql), then measure. */
    'hold-seconds': { type: 'string', default: '0' },
  },
});
const USERS = Number(args.users);
const REQUESTS = Number(args.requests);
const CONCURRENCY = Number(args.concurrency);
const DEEP_PAGES = Number(args['deep-pages']);

const { bus, admin, db, operator, stop } = await startDirectoryBench();
const cleanup = stop;
const measure = (name, fn, n = REQUESTS, concurrency = CONCURRENCY) => measureLatency(name, fn, { n, concurrency, warmup: 30 });

// Common Japanese family and given names with their readings.
const FAMILY = [
  ['佐藤', 'サトウ', 'sato'], ['鈴木', 'スズキ', 'suzuki'], ['高橋', 'タカハシ', 'takahashi'], ['田中', 'タナカ', 'tanaka'], ['伊藤', 'イトウ', 'ito'],
  ['渡辺', 'ワタナベ', 'watanabe'], ['山本', 'ヤマモト', 'yamamoto'], ['中村', 'ナカムラ', 'nakamura'], ['小林', 'コバヤシ', 'kobayashi'], ['加藤', 'カトウ', 'kato'],
  ['吉田', 'ヨシダ', 'yoshida'], ['山田', 'ヤマダ', 'yamada'], ['佐々木', 'ササキ', 'sasaki'], ['山口', 'ヤマグチ', 'yamaguchi'], ['松本', 'マツモト', 'matsumoto'],
  ['井上', 'イノウエ', 'inoue'], ['木村', 'キムラ', 'kimura'], ['林', 'ハヤシ', 'hayashi'], ['斎藤', 'サイトウ', 'saito'], ['清水', 'シミズ', 'shimizu'],
];
const GIVEN = [
  ['太郎', 'タロウ', 'taro'], ['花子', 'ハナコ', 'hanako'], ['一郎', 'イチロウ', 'ichiro'], ['陽子', 'ヨウコ', 'yoko'], ['健', 'ケン', 'ken'],
  ['舞', 'マイ', 'mai'], ['翔', 'ショウ', 'sho'], ['美咲', 'ミサキ', 'misaki'], ['大輔', 'ダイスケ', 'daisuke'], ['愛', 'アイ', 'ai'],
  ['拓也', 'タクヤ', 'takuya'], ['由美', 'ユミ', 'yumi'], ['直樹', 'ナオキ', 'naoki'], ['恵', 'メグミ', 'megumi'], ['誠', 'マコト', 'makoto'],
];

try {
  const tenant = await bus.request('musubi.directory.tenant.create.v1', { slug: 'bench', displayName: 'ベンチ株式会社', limits: { users: USERS + 1000, groups: 1000 } }, operator());
  const verified = 'acme-bench.example';
  await admin.query(
    `INSERT INTO directory.domains (id, tenant_id, name, status, token, verified_at, next_check_at, created_at, updated_at)
     VALUES ($1, $2, $3, 'verified', repeat('x', 32), now(), now() + interval '1 day', now(), now())`,
    [randomUUID(), tenant.id, verified],
  );

  const t0 = Date.now();
  // One statement: i → family i % 20, given (i / 20) % 15; every user unique by its number.
  await admin.query(
    `WITH f AS (SELECT * FROM unnest($3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS f(name, kana, roman, n)),
          g AS (SELECT * FROM unnest($6::text[], $7::text[], $8::text[]) WITH ORDINALITY AS g(name, kana, roman, n))
     INSERT INTO directory.users (id, tenant_id, login_id, display_name, family_name, given_name, family_name_kana, given_name_kana, email, department,
                                  external_id, status, restore_status, deleted_at, created_at, updated_at)
     SELECT gen_random_uuid(), $1,
            g.roman || '.' || f.roman || i || '@' || CASE WHEN i % 4 = 0 THEN $9 ELSE $2 END,
            f.name || ' ' || g.name, f.name, g.name, f.kana, g.kana,
            g.roman || '.' || f.roman || i || '@mail.example',
            '部署' || (i % 50),
            'EMP' || lpad(i::text, 6, '0'),
            CASE WHEN i % 100 = 7 THEN 'pending_deletion' WHEN i % 20 = 3 THEN 'disabled' ELSE 'active' END,
            CASE WHEN i % 100 = 7 THEN 'active' END,
            CASE WHEN i % 100 = 7 THEN now() END,
            now() - make_interval(secs => $10 - i), now() - make_interval(secs => ($10 - i) / 2.0)
     FROM generate_series(1, $10) AS i
     JOIN f ON f.n = i % 20 + 1
     JOIN g ON g.n = (i / 20) % 15 + 1`,
    [tenant.id, tenant.platformDomain, ...[0, 1, 2].map((k) => FAMILY.map((x) => x[k])), ...[0, 1, 2].map((k) => GIVEN.map((x) => x[k])), verified, USERS],
  );
  const seeded = Date.now() - t0;

  // A group (through the service) with a nested one; ~10 % of users are in them.
  const outer = await bus.request('musubi.directory.group.create.v1', { tenantId: tenant.id, name: '営業本部' }, operator());
  const inner = await bus.request('musubi.directory.group.create.v1', { tenantId: tenant.id, name: '東京営業部' }, operator());
  await bus.request('musubi.directory.group.members-add.v1', { tenantId: tenant.id, groupId: outer.id, members: [{ kind: 'group', id: inner.id }] }, operator());
  await admin.query(
    `INSERT INTO directory.group_members (tenant_id, group_id, member_kind, member_id)
     SELECT $1, CASE WHEN row_number() OVER () % 2 = 0 THEN $2::uuid ELSE $3::uuid END, 'user', id FROM directory.users WHERE tenant_id = $1 AND random() < 0.1`,
    [tenant.id, outer.id, inner.id],
  );
  await admin.query('VACUUM ANALYZE directory.users');
  // Filled by the users triggers during the seeding; vacuumed here as autovacuum would soon (index-only scans need it).
  await admin.query('VACUUM ANALYZE directory.user_search_terms');
  await admin.query('VACUUM ANALYZE directory.group_members');
  await admin.query('VACUUM ANALYZE directory.group_closure');
  const [{ n: total }] = (await admin.query('SELECT count(*)::int AS n FROM directory.users WHERE tenant_id = $1', [tenant.id])).rows;
  const sizes = (
    await admin.query(
      `SELECT relname, pg_size_pretty(pg_relation_size(c.oid)) AS size FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'directory' AND (relname = 'users' OR relname LIKE 'users\\_%' OR relname LIKE 'user\\_search\\_terms%') ORDER BY pg_relation_size(c.oid) DESC`,
    )
  ).rows;
  console.log(`seeded ${total} users in ${seeded} ms; ${sizes.map((s) => `${s.relname} ${s.size}`).join(', ')}\n`);

  if (Number(args['hold-seconds']) > 0) {
    console.log(`holding for ${args['hold-seconds']} s: psql '${db.urlFor('directory')}'  (tenant ${tenant.id})`);
    await new Promise((r) => setTimeout(r, Number(args['hold-seconds']) * 1000));
  }
  const list = (q) => bus.request('musubi.directory.user.list.v1', { tenantId: tenant.id, ...q }, operator());
  const results = [];

  // First pages of every sort, both ways.
  for (const sort of ['loginId', 'displayName', 'familyNameKana', 'createdAt', 'updatedAt']) {
    for (const order of ['asc', 'desc']) results.push(await measure(`first page of 50, sort ${sort} ${order}`, () => list({ sort, order, limit: 50 })));
  }
  // Deep pages: a cursor DEEP_PAGES pages of 200 in (50,000 users down at the default), then the next page of 50.
  for (const sort of ['loginId', 'displayName', 'familyNameKana', 'createdAt', 'updatedAt']) {
    for (const order of ['asc', 'desc']) {
      let page = await list({ sort, order, limit: 200 });
      for (let i = 1; i < DEEP_PAGES && page.nextCursor; i++) page = await list({ sort, order, limit: 200, cursor: page.nextCursor });
      const cursor = page.nextCursor;
      results.push(await measure(`page after ${DEEP_PAGES * 200} users, sort ${sort} ${order}`, () => list({ sort, order, limit: 50, cursor })));
    }
  }
  // Search and filters.
  const searches = [
    ['search "yamada" (1 in 20 users, login ID word)', { q: 'yamada' }],
    ['search "taro yamada" (two words, ~330 users)', { q: 'taro yamada' }],
    ['search "やまだ" (hiragana → kana, 1 in 20)', { q: 'やまだ' }],
    ['search "山田 太郎" (kanji names)', { q: '山田 太郎' }],
    ['search "ta" (short prefix, ~1 in 4)', { q: 'ta' }],
    ['search one login ID "taro.yamada12@"', { q: 'taro.yamada12@' }],
    ['search an external ID "EMP004242"', { q: 'EMP004242' }],
    ['search "@acme" (domain prefix, 1 in 4)', { q: '@acme' }],
    ['search "yamada" sorted by kana desc', { q: 'yamada', sort: 'familyNameKana', order: 'desc' }],
    ['search "ササキ" sorted by loginId (matches far down the sort)', { q: 'ササキ', sort: 'loginId' }],
    ['search "nobody" (no match)', { q: 'nobody' }],
    ['status=disabled (5 %)', { status: 'disabled' }],
    ['status=pending_deletion (1 %) sorted by updatedAt desc', { status: 'pending_deletion', sort: 'updatedAt', order: 'desc' }],
    ['status=active (94 %)', { status: 'active' }],
    [`domain=${verified} (1 in 4)`, { domain: verified }],
    ['groupId of the outer group (effective, ~10,000)', { groupId: outer.id }],
    ['groupId of the outer group + search "sato"', { groupId: outer.id, q: 'sato' }],
    ['search "sato" + status=disabled + domain', { q: 'sato', status: 'disabled', domain: verified }],
  ];
  for (const [name, q] of searches) results.push(await measure(name, () => list({ limit: 50, ...q })));
  // And their second page.
  for (const [name, q] of searches.slice(0, 2)) {
    const first = await list({ limit: 50, ...q });
    if (first.nextCursor) results.push(await measure(`${name}, second page`, () => list({ limit: 50, ...q, cursor: first.nextCursor })));
  }
  if (CONCURRENCY === 1) {
    results.push(await measure('first page of 50, sort loginId asc', () => list({ limit: 50 }), REQUESTS * 2, 8));
    results.push(await measure('search "taro yamada"', () => list({ limit: 50, q: 'taro yamada' }), REQUESTS * 2, 8));
  }

  const worst = results.filter((r) => r.concurrency === 1).reduce((a, b) => (b.p99 > a.p99 ? b : a));
  console.log(`\nworst p99 at concurrency 1: ${worst.p99} ms (${worst.name}); target < 50 ms: ${worst.p99 < 50 ? 'met' : 'NOT met'}`);
  console.log(JSON.stringify({ users: total, seedMs: seeded, results, cores: availableParallelism(), node: process.version }, null, 2));
} finally {
  await cleanup();
}
