#!/usr/bin/env node
// @ts-check
// Benchmark: full password sign-ins through the hosted login page — an HTTP form post
// at the gateway → authn (directory lookup over NATS, credential and lockout read,
// argon2id verification, session in Redis, login event in the outbox) → a session
// cookie — against the raw argon2id verification rate of this machine, measured in
// the same run with the same parameters (19 MiB, t=2, p=1) on libuv's thread pool.
//
//   npm run build && node bench/login.mjs [--users 64] [--concurrency 8] [--duration 20]
//
// Targets on the 2-core machine: ≥ 80 sign-ins/s, ≥ 80 % of the raw argon2id rate,
// p99 < 200 ms. Also prints how long failures take (unknown ID, wrong password,
// locked account), which should be alike.
import { readFileSync, readdirSync } from 'node:fs';
import http from 'node:http';
import { parseArgs } from 'node:util';
import { hash as argon2Hash, verify as argon2Verify } from '@node-rs/argon2';
import { startBenchFleet } from './support/fleet.mjs';

const { values: args } = parseArgs({
  options: {
    users: { type: 'string', default: '64' },
    concurrency: { type: 'string', default: '8' },
    duration: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '3' },
    'raw-seconds': { type: 'string', default: '8' },
    profile: { type: 'string' },
  },
});
const USERS = Number(args.users);
const CONCURRENCY = Number(args.concurrency);
const PASSWORD = 'bench-passphrase-kumo-to-tsuki';
// The same implementation and parameters as authn's PasswordHasher (algorithm 2 = argon2id).
const PARAMS = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 };

/** Verifications per second with `workers` in flight, for `seconds`. */
async function rawArgon2Rate(seconds, workers) {
  const hash = await argon2Hash(PASSWORD, PARAMS);
  let done = 0;
  const until = Date.now() + seconds * 1000;
  const started = Date.now();
  const cpu0 = process.cpuUsage();
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (Date.now() < until) {
        if (!(await argon2Verify(hash, PASSWORD))) throw new Error('argon2 verify failed');
        done++;
      }
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  lastRawCpuMs = (cpu.user + cpu.system) / 1000 / done;
  return done / ((Date.now() - started) / 1000);
}
/** CPU milliseconds one verification cost in the last raw run (steal and contention show less here than in wall time). */
let lastRawCpuMs = 0;

/** CPU seconds (user + system) used so far by a process, and by all Postgres backends. */
function cpuOf(pid) {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return 0;
  }
}
function postgresCpu() {
  let total = 0;
  for (const pid of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres') total += cpuOf(pid);
    } catch {
      // gone
    }
  }
  return total;
}
const PROCESSES = ['gateway', 'authn', 'directory', 'audit', 'nats-server'];

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const median = (xs) => pct([...xs].sort((a, b) => a - b), 50);

// The raw rate first, on a quiet machine (the fleet is not running yet).
const rawBefore = await rawArgon2Rate(Number(args['raw-seconds']), 4);
const rawCpuBefore = lastRawCpuMs;
console.log(`raw argon2id (19 MiB, t=2, p=1), 4 in flight, fleet not started: ${rawBefore.toFixed(1)} verifications/s`);

// --profile <dir>: V8 CPU profiles of our services, written when they stop (tools/dev/profile-summary.mjs reads them).
const fleet = await startBenchFleet({
  extra: { LOGIN_IP_FAILURES: '100000', RESET_IP_PER_HOUR: '100000' },
  prepare: (processes) => {
    if (!args.profile) return;
    for (const p of processes.filter((x) => ['gateway', 'authn', 'directory', 'audit'].includes(x.name))) p.execArgv = ['--cpu-prof', `--cpu-prof-dir=${args.profile}/${p.name}`];
  },
});
const { base, api } = fleet;

// The simulated browsers speak HTTP/1.1 with keep-alive through node:http: fetch (undici)
// cost the load generator ~1.7 ms of CPU per sign-in, on the same two cores as the fleet.
const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY + 2 });
const target = new URL(base);

/** One request; resolves with status, set-cookie and location once the body is read. */
function request(method, path, headers, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: target.hostname, port: target.port, method, path, agent, headers: body ? { ...headers, 'content-length': Buffer.byteLength(body) } : headers }, (res) => {
      res.on('data', () => undefined);
      res.on('end', () => resolve({ status: res.statusCode, setCookie: res.headers['set-cookie'] ?? [], location: res.headers.location ?? null }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A cookie jar per simulated browser. */
function jar() {
  const cookies = new Map();
  return {
    header: () => [...cookies].map(([k, v]) => `${k}=${v}`).join('; '),
    take(res) {
      for (const c of res.setCookie) {
        const [pair] = c.split(';');
        const at = pair.indexOf('=');
        const v = pair.slice(at + 1);
        if (v) cookies.set(pair.slice(0, at), v);
        else cookies.delete(pair.slice(0, at));
      }
    },
    get: (k) => cookies.get(k),
  };
}

async function post(slug, j, path, fields) {
  const body = new URLSearchParams({ csrf: j.get('__Host-musubi-csrf') ?? '', ...fields }).toString();
  const res = await request('POST', `/t/${slug}${path}`, { 'content-type': 'application/x-www-form-urlencoded', cookie: j.header(), 'user-agent': 'bench/login' }, body);
  j.take(res);
  return res;
}

async function loginPage(slug, j) {
  j.take(await request('GET', `/t/${slug}/login`, { cookie: j.header() }));
}

try {
  const t = await api('/api/v1/tenants', { method: 'POST', body: JSON.stringify({ slug: 'bench-login', displayName: 'Bench Login' }) });
  if (t.status !== 201) throw new Error(`tenant: ${t.status} ${await t.text()}`);
  const tenant = await t.json();
  const slug = tenant.slug;

  // Users with a real password: one-time password issued, then changed through the pages.
  const users = [];
  for (let i = 0; i < USERS + 1; i++) {
    const u = await api(`/api/v1/tenants/${tenant.id}/users`, { method: 'POST', body: JSON.stringify({ loginId: `user${i}@${tenant.platformDomain}`, displayName: `User ${i}` }) });
    if (u.status !== 201) throw new Error(`user: ${u.status} ${await u.text()}`);
    const user = await u.json();
    const p = await api(`/api/v1/tenants/${tenant.id}/users/${user.id}/temporary-password`, { method: 'POST' });
    const { temporaryPassword } = await p.json();
    const j = jar();
    await loginPage(slug, j);
    const signedIn = await post(slug, j, '/login', { loginId: user.loginId, password: temporaryPassword });
    if (signedIn.status !== 303) throw new Error(`first sign-in: ${signedIn.status}`);
    const changed = await post(slug, j, '/password', { currentPassword: temporaryPassword, newPassword: PASSWORD, confirmPassword: PASSWORD });
    if (changed.status !== 303) throw new Error(`password change: ${changed.status}`);
    users.push(user);
  }
  const lockedUser = users.pop();
  console.log(`${users.length} users with passwords ready`);

  // One browser per worker, its CSRF cookie from the login page; each sign-in is one form post.
  async function runFor(seconds, latencies) {
    let ok = 0;
    let failed = 0;
    const until = Date.now() + seconds * 1000;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async (_, w) => {
        const j = jar();
        await loginPage(slug, j);
        let n = w;
        while (Date.now() < until) {
          const user = users[n++ % users.length];
          const started = performance.now();
          const res = await post(slug, j, '/login', { loginId: user.loginId, password: PASSWORD });
          const ms = performance.now() - started;
          if (res.status === 303 && res.location === `/t/${slug}/account`) {
            ok++;
            latencies?.push(ms);
          } else failed++;
        }
      }),
    );
    return { ok, failed };
  }

  await runFor(Number(args.warmup));
  const latencies = [];
  const snapshot = () => ({ ...Object.fromEntries(PROCESSES.map((n) => [n, cpuOf(fleet.pidOf(n))])), postgres: postgresCpu(), 'load generator': process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6 });
  const before = snapshot();
  const started = Date.now();
  const { ok, failed } = await runFor(Number(args.duration), latencies);
  const elapsed = (Date.now() - started) / 1000;
  const after = snapshot();
  const rate = ok / elapsed;
  latencies.sort((a, b) => a - b);

  // The raw rate again, while the fleet is up and idle (same run, same machine state).
  const rawDuring = await rawArgon2Rate(Number(args['raw-seconds']), 4);
  const rawCpu = Math.min(rawCpuBefore, lastRawCpuMs);

  // Failures: sequential, so each is timed alone.
  const j = jar();
  await loginPage(slug, j);
  const timeIt = async (loginId, password) => {
    const s = performance.now();
    const res = await post(slug, j, '/login', { loginId, password });
    if (res.status !== 401) throw new Error(`expected 401, got ${res.status}`);
    return performance.now() - s;
  };
  for (let i = 0; i < 12; i++) await timeIt(lockedUser.loginId, `wrong-${i}-xxxxxxxx`); // locks it (threshold 10)
  const unknown = [];
  const wrong = [];
  const locked = [];
  for (let i = 0; i < 20; i++) {
    unknown.push(await timeIt(`nobody${i}@${tenant.platformDomain}`, PASSWORD));
    wrong.push(await timeIt(users[i % users.length].loginId, `not-the-password-${i}`));
    locked.push(await timeIt(lockedUser.loginId, PASSWORD));
  }
  // Unlock what the wrong passwords counted, so nothing lingers.
  for (const u of users.slice(0, 20)) await api(`/api/v1/tenants/${tenant.id}/users/${u.id}/lockout`, { method: 'DELETE' });

  const raw = Math.max(rawBefore, rawDuring);
  console.log('');
  console.log(`sign-ins: ${ok} in ${elapsed.toFixed(1)} s with ${CONCURRENCY} in flight, ${failed} failed`);
  console.log(`  rate             ${rate.toFixed(1)} sign-ins/s   (target ≥ 80)`);
  console.log(`  latency          p50 ${pct(latencies, 50).toFixed(1)} ms   p90 ${pct(latencies, 90).toFixed(1)} ms   p99 ${pct(latencies, 99).toFixed(1)} ms   max ${latencies[latencies.length - 1].toFixed(1)} ms   (target p99 < 200)`);
  console.log(`raw argon2id       ${rawBefore.toFixed(1)}/s before the fleet started, ${rawDuring.toFixed(1)}/s with the fleet idle`);
  console.log(`  sign-ins / raw   ${((100 * rate) / raw).toFixed(1)} % of the better raw figure   (target ≥ 80 %)`);
  const perSignIn = Object.fromEntries(Object.keys(before).map((k) => [k, (1000 * (after[k] - before[k])) / Math.max(1, ok)]));
  const fleetCpu = Object.entries(perSignIn).filter(([k]) => k !== 'load generator' && k !== 'postgres').reduce((a, [, v]) => a + v, 0);
  console.log(`CPU per sign-in: ${Object.entries(perSignIn).map(([k, v]) => `${k} ${v.toFixed(1)} ms`).join(', ')}  (postgres counts every database on the machine)`);
  console.log(`CPU per raw argon2id verification: ${rawCpu.toFixed(1)} ms; our services spend ${fleetCpu.toFixed(1)} ms per sign-in: ${((100 * rawCpu) / fleetCpu).toFixed(1)} % of it is the hash`);
  console.log(`failures, sequential medians: unknown ID ${median(unknown).toFixed(1)} ms, wrong password ${median(wrong).toFixed(1)} ms, locked account ${median(locked).toFixed(1)} ms`);
} finally {
  agent.destroy();
  await fleet.stop();
}
