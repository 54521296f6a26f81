#!/usr/bin/env node
// @ts-check
// Benchmark: searching the audit trail — a NATS request from this process →
// audit (its own process, its read-and-append role) → Postgres → reply — over
// millions of records spread across 100 tenants and 90 days of daily partitions.
//
//   npm run build && node bench/audit-search.mjs [--events 10000000] [--tenants 100] [--requests 3000] [--concurrency 4]
//
// Records are seeded straight into the partitions with generate_series (each day's
// partition filled as a plain table, then attached, so its indexes are built once
// rather than row by row). Their hashes are random: this measures search, not
// verification. Each request is one tenant's first page (50, newest first) under
// one of the filters the API offers, or a later page through the cursor, as a
// tenant auditor (an auditor's search writes nothing).
import { randomUUID } from 'node:crypto';
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
  },
});
const EVENTS = Number(args.events);
const TENANTS = Number(args.tenants);
const DAYS = Number(args.days);
const REQUESTS = Number(args.requests);
const CONCURRENCY = Number(args.concurrency);

const { Fleet, fleetProcesses, ensureInfrastructure } = await importDist(root, 'fleet');
const { createTestDatabase, startNatsServer, freePort } = await importDist(root, 'testing');
const { BusClient } = await importDist(root, 'bus');
const { provisionRuntimeRole } = await importDist(root, 'db');
const { auditService } = await import(pathToFileURL(join(root, 'apps', 'audit', 'dist', 'service.js')).href);

const infra = await ensureInfrastructure({ dataDir: join(root, '.musubi'), env: process.env, log: (l) => console.log(`bench: ${l}`), postgresPassword: devSecrets(join(root, '.musubi')).postgresPassword });
process.env.MUSUBI_TEST_PG_ADMIN_URL = infra.pgAdminUrl;
const [nats, db] = await Promise.all([startNatsServer(), createTestDatabase([{ schema: 'audit', migrations: auditService.database.migrations }])]);
const runtime = new URL(db.urlFor('audit'));
runtime.username = 'musubi_t_audit_rt';
runtime.password = 'musubi-test-rt';
await provisionRuntimeRole({ adminUrl: db.adminUrl, ownerUrl: db.urlFor('audit'), runtimeUrl: runtime.toString(), schema: 'audit' });
const admin = new pg.Pool({ connectionString: db.adminUrl, max: 2 });
const fleet = new Fleet((service, line) => {
  if (/"level":"(error|fatal)"/.test(line)) console.error(`[${service}] ${line}`);
});
const cleanup = async () => {
  await fleet.stopAll(10_000).catch(() => undefined);
  await admin.end().catch(() => undefined);
  await Promise.all([nats.stop(), db.drop()]);
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
const tenants = Array.from({ length: TENANTS }, (_, i) => `00000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}`);
/** A user id of a tenant, as the seed SQL computes it. */
const userOf = (t, u) => {
  const hex = (BigInt(t + 1) * 1_000_000n + BigInt(u)).toString(16).padStart(12, '0');
  return `00000000-0000-4000-9000-${hex}`;
};

async function seed() {
  const started = Date.now();
  const now = Date.now();
  const perDay = Math.ceil(EVENTS / DAYS);
  const typesSql = `(ARRAY[${TYPES.map(([t]) => `'${t}'`).join(',')}])`;
  const catsSql = `(ARRAY[${TYPES.map(([, c]) => `'${c}'`).join(',')}])`;
  const resSql = `(ARRAY[${TYPES.map(([, , r]) => (r ? `'${r}'` : 'NULL')).join(',')}]::text[])`;
  for (let d = 0; d < DAYS; d++) {
    const from = d * perDay;
    const to = Math.min(EVENTS, from + perDay);
    if (from >= to) break;
    const dayStart = now - (DAYS - d) * 86_400_000;
    const occurredDay = new Date(dayStart).toISOString().slice(0, 10);
    const expires = new Date(Date.parse(`${occurredDay}T00:00:00Z`) + 90 * 86_400_000).toISOString().slice(0, 10);
    const name = `events_${expires.replace(/-/g, '')}`;
    await admin.query(`CREATE TABLE audit.${name} (LIKE audit.events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`);
    // i: the global index; tenant = i % TENANTS; seq = i / TENANTS + 1 (each tenant's chain in time order).
    await admin.query(
      `INSERT INTO audit.${name}
       SELECT
         ('00000000-0000-4000-8000-' || lpad(((i % $3) + 1)::text, 12, '0'))::uuid,
         i / $3 + 1,
         md5(i::text || 'ev')::uuid,
         1,
         ${typesSql}[(i % 8) + 1],
         ${catsSql}[(i % 8) + 1],
         to_timestamp(($4::bigint + ((i - $1)::bigint * 86400000 / ($2 - $1))) / 1000.0),
         to_timestamp(($4::bigint + ((i - $1)::bigint * 86400000 / ($2 - $1))) / 1000.0),
         $5::date,
         md5(i::text || 'rq'),
         jsonb_build_object('kind', 'user', 'userId', u.id, 'tenantId', ('00000000-0000-4000-8000-' || lpad(((i % $3) + 1)::text, 12, '0')), 'roles', '[]'::jsonb),
         u.id::text,
         'user', u.id::text, u.id,
         ${resSql}[(i % 8) + 1],
         CASE WHEN i % 8 < 4 THEN 'pwd' END,
         '10.' || ((i / 7) % 200) || '.' || ((i / 13) % 250) || '.' || (i % 250),
         'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/' || (120 + i % 10) || '.0.0.0',
         'fp-' || (i % 5000),
         CASE WHEN i % 8 IN (0, 4) THEN 'app-' || (i % ${APPS}) END,
         NULL,
         jsonb_build_object('userId', u.id, 'loginId', 'u' || (i % ${USERS_PER_TENANT}) || '@example.jp', 'ip', '10.0.0.1'),
         decode(md5(i::text || 'p') || md5(i::text || 'q'), 'hex'),
         decode(md5(i::text || 'h') || md5(i::text || 'k'), 'hex')
       FROM generate_series($1::bigint, $2::bigint - 1) AS i,
       LATERAL (SELECT ('00000000-0000-4000-9000-' || lpad(to_hex(((i % $3) + 1) * 1000000 + (i / $3) % ${USERS_PER_TENANT}), 12, '0'))::uuid AS id) u`,
      [from, to, TENANTS, dayStart, expires],
    );
    await admin.query(`ALTER TABLE audit.events ATTACH PARTITION audit.${name} FOR VALUES FROM ('${expires}') TO ('${expires}'::date + 1)`);
    if (d % 10 === 9 || to === EVENTS) console.log(`bench: seeded ${to.toLocaleString()} records (${d + 1} daily partitions) in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
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
    { name: 'ip', req: { ip: `10.${Math.floor(Math.random() * 200)}.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}` } },
    { name: 'ip-block', req: { ip: `10.${Math.floor(Math.random() * 200)}.0.0/16` } },
    { name: 'application', req: { application: `app-${Math.floor(Math.random() * APPS)}` } },
    { name: 'one-day', req: { from: new Date(day - 86_400_000).toISOString(), to: new Date(day).toISOString() } },
    { name: 'type+day', req: { type: 'musubi.authn.login.failed.v1', from: new Date(day - 86_400_000).toISOString(), to: new Date(day).toISOString() } },
    { name: 'user+failures', req: { user: userOf(tenantIndex, Math.floor(Math.random() * USERS_PER_TENANT)), result: 'failure' } },
    { name: 'page-3', req: {}, pages: 3 },
  ]);
  return { ...q, tenantId };
}

try {
  const seedSeconds = await seed();
  const [{ n }] = (await admin.query('SELECT count(*) AS n FROM audit.events')).rows;
  const [{ size }] = (await admin.query(`SELECT pg_size_pretty(sum(pg_total_relation_size(inhrelid))) AS size FROM pg_inherits WHERE inhparent = 'audit.events'::regclass`)).rows;
  if (process.env.BENCH_EXPLAIN) {
    const c = await admin.connect();
    await c.query(`SET plan_cache_mode = force_generic_plan`);
    await c.query(`PREPARE q(uuid) AS SELECT * FROM audit.events WHERE tenant_id = $1 ORDER BY occurred_at DESC, id DESC LIMIT 51`);
    const g = await c.query(`EXPLAIN (ANALYZE) EXECUTE q('${tenants[3]}')`);
    console.log('generic:', g.rows.map((r) => r['QUERY PLAN']).filter((l) => !/Index Cond|Index Scan|Buffers/.test(l)).join('\n'));
    c.release();
    const plan = await admin.query(`EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM audit.events WHERE tenant_id = $1 ORDER BY occurred_at DESC, id DESC LIMIT 51`, [tenants[7]]);
    console.log(plan.rows.map((r) => r['QUERY PLAN']).slice(0, 12).join('\n'), '\n...', plan.rows.slice(-3).map((r) => r['QUERY PLAN']).join('\n'));
  }
  console.log(`bench: ${Number(n).toLocaleString()} records across ${TENANTS} tenants in ${seedSeconds.toFixed(0)} s (${size} with indexes)`);

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
