#!/usr/bin/env node
// @ts-check
// Benchmark: searching the audit trail — a NATS request from this process →
// audit (its own process, its read-and-append role) → Postgres → reply — over
// millions of records spread across 100 tenants and 90 days of records in weekly partitions.
//
//   npm run build && node bench/audit-search.mjs [--events 10000000] [--tenants 100] [--requests 3000] [--concurrency 4] [--reuse]
//
// --reuse keeps the seeded database as `musubi_bench_audit_<key>` (key: the seed
// parameters, this seed's SQL and audit's migrations) and later runs clone it
// (CREATE DATABASE … TEMPLATE, file copy: about a minute for 10 million records)
// instead of seeding again; a new key drops the kept databases of other keys.
//
// Records are seeded straight into the partitions with generate_series (each week's
// partition filled as a plain table, vacuumed, then attached, so its indexes are built
// once rather than row by row). Their hashes are random: this measures search, not
// verification. Each request is one tenant's first page (50, newest first) under
// one of the filters the API offers, or a later page through the cursor, as a
// tenant auditor (an auditor's search writes nothing).
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { devSecrets, importDist } from '../tools/dev/common.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '10000000' },
    tenants: { type: 'string', default: '100' },
    days: { type: 'string', default: '90' },
    requests: { type: 'string', default: '3000' },
    concurrency: { type: 'string', default: '4' },
    reuse: { type: 'boolean', default: false },
  },
});
const EVENTS = Number(args.events);
const TENANTS = Number(args.tenants);
const DAYS = Number(args.days);
const REQUESTS = Number(args.requests);
const CONCURRENCY = Number(args.concurrency);
const REUSE = args.reuse;

const { Fleet, fleetProcesses, ensureInfrastructure } = await importDist(root, 'fleet');
const { createTestDatabase, startNatsServer, freePort, testRoleOf, TEST_ROLE_PASSWORD } = await importDist(root, 'testing');
const { BusClient } = await importDist(root, 'bus');
const { provisionRuntimeRole } = await importDist(root, 'db');
const { auditService } = await import(pathToFileURL(join(root, 'apps', 'audit', 'dist', 'service.js')).href);

const infra = await ensureInfrastructure({ dataDir: join(root, '.musubi'), env: process.env, log: (l) => console.log(`bench: ${l}`), postgresPassword: devSecrets(join(root, '.musubi')).postgresPassword });
process.env.MUSUBI_TEST_PG_ADMIN_URL = infra.pgAdminUrl;
const auditSpecs = [{ schema: 'audit', migrations: auditService.database.migrations }];
const adminAt = (name) => {
  const u = new URL(infra.pgAdminUrl);
  u.pathname = `/${name}`;
  return u.toString();
};
const asAdmin = async (sql, params) => {
  const c = new pg.Client({ connectionString: infra.pgAdminUrl });
  await c.connect();
  try {
    return await c.query(sql, params);
  } finally {
    await c.end();
  }
};
/** A database of our own cloned from a kept one (file copy: no WAL for gigabytes). */
async function cloneOf(template) {
  const name = `musubi_t_${randomBytes(6).toString('hex')}`;
  await asAdmin(`CREATE DATABASE ${name} TEMPLATE ${template} STRATEGY FILE_COPY`);
  return {
    name,
    adminUrl: adminAt(name),
    urlFor: (schema) => {
      const u = new URL(adminAt(name));
      u.username = testRoleOf(schema);
      u.password = TEST_ROLE_PASSWORD;
      return u.toString();
    },
    drop: () => asAdmin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

const nats = await startNatsServer();
let db = null;
let admin = null;
const fleet = new Fleet((service, line) => {
  if (/"level":"(error|fatal)"/.test(line)) console.error(`[${service}] ${line}`);
});
const cleanup = async () => {
  await fleet.stopAll(10_000).catch(() => undefined);
  await admin?.end().catch(() => undefined);
  await Promise.all([nats.stop(), db?.drop()]);
  await infra.stop();
};

const TYPES = [
  ['musubi.authn.login.succeeded.v1', 'login', 'success'],
  ['musubi.authn.login.succeeded.v1', 'login', 'success'],
  ['musubi.authn.login.succeeded.v1', 'login', 'success'],
  ['musubi.authn.login.failed.v1', 'login', 'failure'],
  ['musubi.federation.token.issued.v1', 'token', null],
  ['musubi.directory.user.updated.v1', 'admin', null],
  ['musubi.directory.group.members-added.v1', 'admin', null],
  ['musubi.directory.job.finished.v1', 'job', 'success'],
];
const USERS_PER_TENANT = 1000;
const APPS = 20;
// Addresses 10.a.c.d (a < 200, c < IP_C, d < IP_D): each used about twice per tenant, a /16 block about 500 times.
const IP_C = 10;
const IP_D = 25;
const tenants = Array.from({ length: TENANTS }, (_, i) => `00000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}`);
/** A user id of a tenant, as the seed SQL computes it. */
const userOf = (t, u) => {
  const hex = (BigInt(t + 1) * 1_000_000n + BigInt(u)).toString(16).padStart(12, '0');
  return `00000000-0000-4000-9000-${hex}`;
};

async function seed(admin) {
  const started = Date.now();
  const now = Date.now();
  const perDay = Math.ceil(EVENTS / DAYS);
  const typesSql = `(ARRAY[${TYPES.map(([t]) => `'${t}'`).join(',')}])`;
  const catsSql = `(ARRAY[${TYPES.map(([, c]) => `'${c}'`).join(',')}])`;
  const resSql = `(ARRAY[${TYPES.map(([, , r]) => (r ? `'${r}'` : 'NULL')).join(',')}]::text[])`;
  let filling = null;
  let partitions = 0;
  // Vacuumed before it is attached (so its pages are marked all-visible, as autovacuum does to a
  // partition after its inserts), then attached: its indexes are built once, not row by row.
  const attach = async ({ name, monday }) => {
    await admin.query(`VACUUM (ANALYZE) audit.${name}`);
    await admin.query(`ALTER TABLE audit.events ATTACH PARTITION audit.${name} FOR VALUES FROM ('${monday}') TO ('${monday}'::date + 7)`);
  };
  for (let d = 0; d < DAYS; d++) {
    const from = d * perDay;
    const to = Math.min(EVENTS, from + perDay);
    if (from >= to) break;
    const dayStart = now - (DAYS - d) * 86_400_000;
    const occurredDay = new Date(dayStart).toISOString().slice(0, 10);
    const expires = new Date(Date.parse(`${occurredDay}T00:00:00Z`) + 90 * 86_400_000).toISOString().slice(0, 10);
    // As audit.ensure_partition makes them: one partition per ISO week (Monday to Sunday) of expiry, named after its Sunday.
    const monday = new Date(Date.parse(`${expires}T00:00:00Z`) - ((new Date(`${expires}T00:00:00Z`).getUTCDay() + 6) % 7) * 86_400_000).toISOString().slice(0, 10);
    const sunday = new Date(Date.parse(`${monday}T00:00:00Z`) + 6 * 86_400_000).toISOString().slice(0, 10);
    const name = `events_${sunday.replace(/-/g, '')}`;
    if (filling && filling.name !== name) await attach(filling);
    if (!filling || filling.name !== name) {
      await admin.query(`CREATE TABLE audit.${name} (LIKE audit.events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`);
      filling = { name, monday };
      partitions++;
    }
    // i: the global index; tenant = i % TENANTS; j = i / TENANTS, the record's place in its tenant's chain
    // (seq = j + 1, in time order). Type, result, user, application and address follow j, so every tenant
    // has every type, all its users and applications and addresses in every block (not tied to the tenant).
    await admin.query(
      `INSERT INTO audit.${name}
       SELECT
         ('00000000-0000-4000-8000-' || lpad(((i % $3) + 1)::text, 12, '0'))::uuid,
         i / $3 + 1,
         md5(i::text || 'ev')::uuid,
         1,
         ${typesSql}[((i / $3) % 8) + 1],
         ${catsSql}[((i / $3) % 8) + 1],
         to_timestamp(($4::bigint + ((i - $1)::bigint * 86400000 / ($2 - $1))) / 1000.0),
         to_timestamp(($4::bigint + ((i - $1)::bigint * 86400000 / ($2 - $1))) / 1000.0),
         $5::date,
         md5(i::text || 'rq'),
         jsonb_build_object('kind', 'user', 'userId', u.id, 'tenantId', ('00000000-0000-4000-8000-' || lpad(((i % $3) + 1)::text, 12, '0')), 'roles', '[]'::jsonb),
         u.id::text,
         'user', u.id::text, u.id,
         ${resSql}[((i / $3) % 8) + 1],
         CASE WHEN (i / $3) % 8 < 4 THEN 'pwd' END,
         '10.' || ((i / $3) % 200) || '.' || ((i / $3 / 200) % ${IP_C}) || '.' || ((i / $3 / 2000) % ${IP_D}),
         'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/' || (120 + i % 10) || '.0.0.0',
         'fp-' || (i % 5000),
         CASE WHEN (i / $3) % 8 IN (0, 4) THEN 'app-' || ((i / $3 / 8) % ${APPS}) END,
         NULL,
         jsonb_build_object('userId', u.id, 'loginId', 'u' || (i % ${USERS_PER_TENANT}) || '@example.jp', 'ip', '10.0.0.1'),
         decode(md5(i::text || 'p') || md5(i::text || 'q'), 'hex'),
         decode(md5(i::text || 'h') || md5(i::text || 'k'), 'hex')
       FROM generate_series($1::bigint, $2::bigint - 1) AS i,
       LATERAL (SELECT ('00000000-0000-4000-9000-' || lpad(to_hex(((i % $3) + 1) * 1000000 + (i / $3 / 8) % ${USERS_PER_TENANT}), 12, '0'))::uuid AS id) u`,
      [from, to, TENANTS, dayStart, expires],
    );
    if (d % 10 === 9 || to === EVENTS) console.log(`bench: seeded ${to.toLocaleString()} records (${d + 1} days, ${partitions} weekly partitions) in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
  if (filling) await attach(filling);
  await admin.query(
    `INSERT INTO audit.heads (tenant_id, seq, hash, recorded_at, expires_on)
     SELECT tenant_id, max(seq), '\\x00'::bytea, max(recorded_at), max(expires_on) FROM audit.events GROUP BY tenant_id`,
  );
  // A (fake) checkpoint at every head, so audit's first checkpoint round has nothing to verify and sign during the measurement.
  await admin.query(
    `INSERT INTO audit.checkpoints (tenant_id, seq, hash, recorded_at, issued_at, key_id, signature)
     SELECT tenant_id, seq, hash, recorded_at, now(), 'bench', '\\x00'::bytea FROM audit.heads`,
  );
  await admin.query('ANALYZE audit.events');
  return (Date.now() - started) / 1000;
}

const pick = (a) => a[Math.floor(Math.random() * a.length)];
function query(tenantIndex) {
  const tenantId = tenants[tenantIndex];
  const day = Date.now() - Math.floor(Math.random() * DAYS) * 86_400_000;
  const q = pick([
    { name: 'newest', req: {} },
    { name: 'type', req: { type: pick(TYPES)[0] } },
    { name: 'failures', req: { result: 'failure' } },
    { name: 'user', req: { user: userOf(tenantIndex, Math.floor(Math.random() * USERS_PER_TENANT)) } },
    { name: 'actor', req: { actor: userOf(tenantIndex, Math.floor(Math.random() * USERS_PER_TENANT)) } },
    { name: 'ip', req: { ip: `10.${Math.floor(Math.random() * 200)}.${Math.floor(Math.random() * IP_C)}.${Math.floor(Math.random() * IP_D)}` } },
    { name: 'ip-block', req: { ip: `10.${Math.floor(Math.random() * 200)}.0.0/16` } },
    { name: 'application', req: { application: `app-${Math.floor(Math.random() * APPS)}` } },
    { name: 'one-day', req: { from: new Date(day - 86_400_000).toISOString(), to: new Date(day).toISOString() } },
    { name: 'type+day', req: { type: 'musubi.authn.login.failed.v1', from: new Date(day - 86_400_000).toISOString(), to: new Date(day).toISOString() } },
    { name: 'user+failures', req: { user: userOf(tenantIndex, Math.floor(Math.random() * USERS_PER_TENANT)), result: 'failure' } },
    { name: 'page-3', req: {}, pages: 3 },
  ]);
  return { ...q, tenantId };
}

/** What a kept seeded database depends on: the seed's parameters and SQL, and audit's migrations. */
const keptName = (() => {
  const h = createHash('sha256').update(JSON.stringify({ EVENTS, TENANTS, DAYS, TYPES, USERS_PER_TENANT, APPS, IP_C, IP_D })).update(String(seed));
  for (const m of auditService.database.migrations) h.update(m.name).update(String(m.prototype.up));
  return `musubi_bench_audit_${h.digest('hex').slice(0, 16)}`;
})();

try {
  let seedSeconds = null;
  const kept = REUSE ? (await asAdmin('SELECT shobj_description(oid, \'pg_database\') AS note FROM pg_database WHERE datname = $1', [keptName])).rows[0] : undefined;
  if (kept) {
    const t = Date.now();
    db = await cloneOf(keptName);
    console.log(`bench: cloned the kept ${keptName} (${kept.note}) in ${((Date.now() - t) / 1000).toFixed(0)} s`);
  } else {
    db = await createTestDatabase(auditSpecs);
    admin = new pg.Pool({ connectionString: db.adminUrl, max: 2 });
    seedSeconds = await seed(admin);
    if (REUSE) {
      await admin.end();
      admin = null;
      for (const { datname } of (await asAdmin(`SELECT datname FROM pg_database WHERE datname LIKE 'musubi\\_bench\\_audit\\_%' AND datname <> $1`, [keptName])).rows) {
        await asAdmin(`DROP DATABASE ${datname} WITH (FORCE)`);
        console.log(`bench: dropped ${datname} (a kept seed of other parameters or migrations)`);
      }
      await asAdmin(`ALTER DATABASE ${db.name} RENAME TO ${keptName}`);
      await asAdmin(`COMMENT ON DATABASE ${keptName} IS '${EVENTS} records seeded ${new Date().toISOString()} in ${seedSeconds.toFixed(0)} s'`);
      console.log(`bench: kept the seeded database as ${keptName}`);
      db = await cloneOf(keptName);
    }
  }
  const runtime = new URL(db.urlFor('audit'));
  runtime.username = 'musubi_t_audit_rt';
  runtime.password = 'musubi-test-rt';
  await provisionRuntimeRole({ adminUrl: db.adminUrl, ownerUrl: db.urlFor('audit'), runtimeUrl: runtime.toString(), schema: 'audit' });
  admin ??= new pg.Pool({ connectionString: db.adminUrl, max: 2 });
  if (kept) {
    // A kept seed from an earlier day: its oldest partitions may have expired since, as audit's own round would find.
    const owner = new pg.Client({ connectionString: db.urlFor('audit') });
    await owner.connect();
    const purged = await owner.query('SELECT partition, records FROM audit.purge_expired()').finally(() => owner.end());
    if (purged.rowCount) console.log(`bench: purged ${purged.rowCount} expired partitions of the kept seed`);
  }
  const [{ n }] = (await admin.query('SELECT count(*) AS n FROM audit.events')).rows;
  const [{ size }] = (await admin.query(`SELECT pg_size_pretty(sum(pg_total_relation_size(inhrelid))) AS size FROM pg_inherits WHERE inhparent = 'audit.events'::regclass`)).rows;
  if (process.env.BENCH_EXPLAIN) {
    // The statement's shape as AuditEventRepository.search writes it: the page's keys, then its records.
    const explain = async (label, where, params) => {
      const plan = await admin.query(
        `EXPLAIN (ANALYZE, BUFFERS) WITH page AS MATERIALIZED (
           SELECT occurred_at, id, expires_on FROM audit.events WHERE tenant_id = $1 AND ${where} ORDER BY occurred_at DESC, id DESC LIMIT 51)
         SELECT r.* FROM page CROSS JOIN LATERAL (
           SELECT * FROM audit.events e WHERE e.tenant_id = $1 AND e.expires_on = page.expires_on AND e.occurred_at = page.occurred_at AND e.id = page.id) r
         ORDER BY page.occurred_at DESC, page.id DESC`,
        [tenants[7], ...params],
      );
      console.log(`--- ${label}\n${plan.rows.map((r) => r['QUERY PLAN']).filter((l) => !/^\s+(Index Cond|Heap Fetches|Buffers: shared hit=\d+$)/.test(l)).join('\n')}`);
    };
    await explain('newest first', 'true', []);
    await explain('user', 'target_user_id IS NOT NULL AND target_user_id = $2::uuid', [userOf(7, 123)]);
    await explain('user + failures', "target_user_id IS NOT NULL AND target_user_id = $2::uuid AND result = 'failure'", [userOf(7, 123)]);
    await explain('IP block', 'ip IS NOT NULL AND (ip::inet) <<= $2::inet', ['10.42.0.0/16']);
  }
  console.log(`bench: ${Number(n).toLocaleString()} records across ${TENANTS} tenants${seedSeconds === null ? '' : ` seeded in ${seedSeconds.toFixed(0)} s`} (${size} with indexes)`);

  const processes = fleetProcesses([{ name: 'audit', settings: auditService.settings, database: { schema: 'audit' } }], {
    root,
    natsUrl: nats.url,
    redisUrl: 'redis://127.0.0.1:1',
    databaseAdminUrl: db.adminUrl,
    databaseUrlFor: () => runtime.toString(),
    operatorToken: randomUUID(),
    publicUrl: 'http://localhost',
    ports: { audit: { management: await freePort() } },
    extra: { LOG_LEVEL: 'warn', AUDIT_CHECKPOINT_INTERVAL_SECONDS: '86400' },
  });
  await fleet.startAll(processes, 60_000);
  const nc = await connect({ servers: nats.url, name: 'bench' });
  const bus = new BusClient(nc, 'gateway', 30_000);
  const ctx = (tenantId) => ({ requestId: randomUUID(), tenantId, caller: { kind: 'user', userId: randomUUID(), tenantId, roles: ['auditor'] } });

  const run = async (count, record) => {
    let next = 0;
    const worker = async () => {
      while (next < count) {
        next++;
        const q = query(Math.floor(Math.random() * TENANTS));
        let cursor;
        for (let p = 0; p < (q.pages ?? 1); p++) {
          const t = process.hrtime.bigint();
          let page;
          try {
            page = await bus.request('musubi.audit.event.list.v1', { tenantId: q.tenantId, limit: 50, ...q.req, ...(cursor ? { cursor } : {}) }, ctx(q.tenantId));
          } catch (err) {
            failures.push(`${q.name}: ${err.code ?? err.message}`);
            break;
          }
          const ms = Number(process.hrtime.bigint() - t) / 1e6;
          if (p === (q.pages ?? 1) - 1) record?.(q.name, ms, page.items.length);
          cursor = page.nextCursor ?? undefined;
          if (!cursor) break;
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  };
  const failures = [];
  await run(Math.min(300, REQUESTS), null); // warm-up
  const all = [];
  const by = new Map();
  const started = Date.now();
  await run(REQUESTS, (name, ms, items) => {
    all.push(ms);
    const e = by.get(name) ?? { ms: [], items: 0 };
    e.ms.push(ms);
    e.items += items;
    by.set(name, e);
  });
  const seconds = (Date.now() - started) / 1000;
  const pct = (xs, p) => {
    const s = [...xs].sort((a, b) => a - b);
    return Number(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))].toFixed(1));
  };
  console.log(
    JSON.stringify(
      {
        records: Number(n),
        tenants: TENANTS,
        requests: all.length,
        concurrency: CONCURRENCY,
        perSecond: Math.round(all.length / seconds),
        failed: failures.length,
        ...(failures.length ? { failures: failures.slice(0, 10) } : {}),
        ms: { p50: pct(all, 50), p95: pct(all, 95), p99: pct(all, 99), max: pct(all, 100) },
        byFilter: Object.fromEntries([...by].map(([k, v]) => [k, { requests: v.ms.length, avgItems: Math.round(v.items / v.ms.length), p50: pct(v.ms, 50), p99: pct(v.ms, 99) }])),
      },
      null,
      2,
    ),
  );
  await nc.drain();
} finally {
  await cleanup();
}
