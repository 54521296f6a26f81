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
import { readFileSync, readdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { startBenchFleet } from './support/fleet.mjs';

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

// --profile <dir>: CPU profiles of the gateway and directory, written when they stop.
const fleet = await startBenchFleet({
  extra: { DATABASE_POOL_SIZE: args.pool },
  prepare: (processes) => {
    if (!args.profile) return;
    for (const p of processes.filter((x) => x.name === 'gateway' || x.name === 'directory')) p.execArgv = ['--cpu-prof', `--cpu-prof-dir=${args.profile}/${p.name}`];
  },
});
const { base, token } = fleet;

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
  ...Object.fromEntries(['gateway', 'directory', 'nats-server'].map((n) => [n, cpuOf(fleet.pidOf(n))])),
  postgres: postgresCpu(),
  'load generator': (process.cpuUsage().user + process.cpuUsage().system) / 1e6,
});

try {
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
  await fleet.stop();
}
