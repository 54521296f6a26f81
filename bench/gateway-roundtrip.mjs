#!/usr/bin/env node
// @ts-check
// Benchmark: a read through the whole path — HTTP at the gateway → NATS request →
// directory → Postgres → reply — with autocannon, on a fleet started for the run
// (private NATS and Redis, a fresh database cloned from the migrated template).
//
//   npm run build && node bench/gateway-roundtrip.mjs [--connections 50] [--duration 20]
//
// Prints req/s and latency percentiles. Target on the 2-core machine: ≥ 4,000 req/s,
// p99 < 30 ms.
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { SERVICE_NAMES, importDist } from '../tools/dev/common.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    connections: { type: 'string', default: '50' },
    duration: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '5' },
    path: { type: 'string', default: 'tenant' },
    profile: { type: 'string' },
    pool: { type: 'string', default: '10' },
  },
});

const { Fleet, fleetProcesses, ensureInfrastructure } = await importDist(root, 'fleet');
const { createTestDatabase, startNatsServer, startRedisServer, freePort } = await importDist(root, 'testing');
const { devSecrets } = await import('../tools/dev/common.mjs');

const defs = (await Promise.all(SERVICE_NAMES.map((n) => import(pathToFileURL(join(root, 'apps', n, 'dist', 'service.js')).href)))).map((m) => Object.values(m)[0]);
const entries = defs.map((d) => ({ name: d.name, settings: d.settings, ...(d.database ? { database: { schema: d.database.schema } } : {}) }));

const infra = await ensureInfrastructure({ dataDir: join(root, '.musubi'), env: process.env, log: (l) => console.log(`bench: ${l}`), postgresPassword: devSecrets(join(root, '.musubi')).postgresPassword });
process.env.MUSUBI_TEST_PG_ADMIN_URL = infra.pgAdminUrl;
const [nats, redis, db] = await Promise.all([
  startNatsServer(),
  startRedisServer(),
  createTestDatabase(defs.filter((d) => d.database).map((d) => ({ schema: d.database.schema, migrations: d.database.migrations }))),
]);
const ports = {};
for (const e of entries) ports[e.name] = { management: await freePort() };
const publicPort = await freePort();
ports.gateway.public = publicPort;
const token = randomBytes(32).toString('base64url');
const base = `http://127.0.0.1:${publicPort}`;
const processes = fleetProcesses(entries, {
  root,
  natsUrl: nats.url,
  redisUrl: redis.url,
  databaseAdminUrl: db.adminUrl,
  databaseUrlFor: (schema) => db.urlFor(schema),
  operatorToken: token,
  publicUrl: base,
  ports,
  extra: { LOG_LEVEL: 'warn', DATABASE_POOL_SIZE: args.pool },
});
// --profile <dir>: CPU profiles of the gateway and directory, written when they stop.
if (args.profile) {
  for (const p of processes.filter((x) => x.name === 'gateway' || x.name === 'directory')) {
    p.execArgv = ['--cpu-prof', `--cpu-prof-dir=${args.profile}/${p.name}`];
  }
}
const fleet = new Fleet((service, line) => {
  if (/"level":"(error|fatal)"/.test(line)) console.error(`[${service}] ${line}`);
});

/** CPU seconds (user + system) used so far by a process and, for Postgres, all its backends. */
const TICK = 100; // USER_HZ on Linux
function cpuOf(pid) {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / TICK;
  } catch {
    return 0;
  }
}
function postgresCpu() {
  let total = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres') total += cpuOf(pid);
    } catch {
      // gone
    }
  }
  return total;
}
const snapshot = () => ({
  ...Object.fromEntries(['gateway', 'directory'].map((n) => [n, cpuOf(fleet.pidOf(n))])),
  'nats-server': cpuOf(nats.pid),
  postgres: postgresCpu(),
  'load generator': (process.cpuUsage().user + process.cpuUsage().system) / 1e6,
});

const cleanup = async () => {
  await fleet.stopAll();
  await Promise.all([nats.stop(), redis.stop(), db.drop()]);
  await infra.stop();
};

try {
  await fleet.startAll(processes);
  const auth = { authorization: `Bearer ${token}` };
  const res = await fetch(`${base}/api/v1/tenants`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ slug: 'bench', displayName: 'Bench Co.' }),
  });
  if (res.status !== 201) throw new Error(`could not create the tenant: ${res.status} ${await res.text()}`);
  const tenant = await res.json();
  const url = args.path === 'health' ? `${base}/health` : `${base}/api/v1/tenants/${tenant.id}`;

  const run = (duration) =>
    autocannon({ url, connections: Number(args.connections), duration, headers: auth, pipelining: 1 });
  await run(Number(args.warmup));
  const before = snapshot();
  const r = await run(Number(args.duration));
  const after = snapshot();
  const non2xx = r.non2xx + r.errors + r.timeouts;
  const result = {
    what: `GET ${args.path === 'health' ? '/health' : '/api/v1/tenants/{id}'} (gateway → NATS → directory → Postgres)`,
    connections: Number(args.connections),
    durationSeconds: Number(args.duration),
    requestsPerSecond: Math.round(r.requests.average),
    latencyMs: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max },
    totalRequests: r.requests.total,
    failures: non2xx,
    cpuMicrosecondsPerRequest: Object.fromEntries(Object.keys(after).map((k) => [k, Math.round(((after[k] - before[k]) * 1e6) / r.requests.total)])),
    cores: (await import('node:os')).availableParallelism(),
    node: process.version,
  };
  console.log(JSON.stringify(result, null, 2));
  console.log(`\n${result.requestsPerSecond} req/s, p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms, ${non2xx} failures`);
} finally {
  await cleanup();
}
