#!/usr/bin/env node
// @ts-check
// Benchmark: audit's ingest — events in a producer's JetStream stream → audit's
// durable consumer (its own process, running as its read-and-append role) →
// hash-chained into Postgres. Measures sustained events/s.
//
//   npm run build && node bench/audit-ingest.mjs [--events 100000] [--tenants 100] [--mode backlog|live]
//
// backlog: the events wait in the stream before audit starts (a consumer catching
// up after an outage); live: they are published while audit runs, as fast as
// JetStream takes them. Events are sign-ins as authn emits them, spread over the
// tenants, so every batch appends to many chains.
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { devSecrets, importDist } from '../tools/dev/common.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '100000' },
    tenants: { type: 'string', default: '100' },
    mode: { type: 'string', default: 'backlog' },
  },
});
const EVENTS = Number(args.events);
const TENANTS = Number(args.tenants);
const MODE = args.mode;

const { Fleet, fleetProcesses, ensureInfrastructure } = await importDist(root, 'fleet');
const { createTestDatabase, startNatsServer, freePort } = await importDist(root, 'testing');
const { ensureStream, uuidv7 } = await importDist(root, 'bus');
const { provisionRuntimeRole } = await importDist(root, 'db');
const { auditService } = await import(pathToFileURL(join(root, 'apps', 'audit', 'dist', 'service.js')).href);

const infra = await ensureInfrastructure({ dataDir: join(root, '.musubi'), env: process.env, log: (l) => console.log(`bench: ${l}`), postgresPassword: devSecrets(join(root, '.musubi')).postgresPassword });
process.env.MUSUBI_TEST_PG_ADMIN_URL = infra.pgAdminUrl;
const [nats, db] = await Promise.all([startNatsServer(), createTestDatabase([{ schema: 'audit', migrations: auditService.database.migrations }])]);
const runtime = new URL(db.urlFor('audit'));
runtime.username = 'musubi_t_audit_rt';
runtime.password = 'musubi-test-rt';
await provisionRuntimeRole({ adminUrl: db.adminUrl, ownerUrl: db.urlFor('audit'), runtimeUrl: runtime.toString(), schema: 'audit' });

const processes = fleetProcesses([{ name: 'audit', settings: auditService.settings, database: { schema: 'audit' } }], {
  root,
  natsUrl: nats.url,
  redisUrl: 'redis://127.0.0.1:1',
  databaseAdminUrl: db.adminUrl,
  databaseUrlFor: () => runtime.toString(),
  operatorToken: randomUUID(),
  publicUrl: 'http://localhost',
  ports: { audit: { management: await freePort() } },
  extra: { LOG_LEVEL: 'warn' },
});
const fleet = new Fleet((service, line) => {
  if (/"level":"(error|fatal)"/.test(line)) console.error(`[${service}] ${line}`);
});
const admin = new pg.Pool({ connectionString: db.adminUrl, max: 2 });
const nc = await connect({ servers: nats.url, name: 'bench' });
const js = jetstream(nc);
const jsm = await jetstreamManager(nc);
await ensureStream(jsm, 'authn', { replicas: 1 });

const cleanup = async () => {
  await fleet.stopAll(10_000).catch(() => undefined);
  await nc.drain().catch(() => undefined);
  await admin.end().catch(() => undefined);
  await Promise.all([nats.stop(), db.drop()]);
  await infra.stop();
};

const tenants = Array.from({ length: TENANTS }, () => randomUUID());
function event(i) {
  const tenantId = tenants[i % TENANTS];
  const userId = randomUUID();
  const ok = i % 5 !== 0;
  const base = { id: uuidv7(), occurredAt: new Date().toISOString(), tenantId, requestId: randomUUID() };
  const ip = `203.0.${(i >> 8) & 255}.${i & 255}`;
  const userAgent = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36';
  return ok
    ? { ...base, subject: 'musubi.authn.login.succeeded.v1', actor: { kind: 'user', userId, tenantId, roles: [] }, payload: { userId, loginId: `u${i}@example.jp`, method: 'pwd', ip, userAgent } }
    : { ...base, subject: 'musubi.authn.login.failed.v1', actor: { kind: 'anonymous' }, payload: { loginId: `u${i}@example.jp`, userId: null, ip, userAgent } };
}

async function publishAll() {
  const started = Date.now();
  const WINDOW = 2000;
  for (let i = 0; i < EVENTS; i += WINDOW) {
    const batch = [];
    for (let j = i; j < Math.min(EVENTS, i + WINDOW); j++) {
      const e = event(j);
      batch.push(js.publish(e.subject, JSON.stringify(e), { msgID: e.id }));
    }
    await Promise.all(batch);
  }
  return (Date.now() - started) / 1000;
}

const stored = async () => Number((await admin.query('SELECT count(*) AS n FROM audit.events')).rows[0].n);

try {
  let publishSeconds = null;
  if (MODE === 'backlog') {
    publishSeconds = await publishAll();
    console.log(`bench: ${EVENTS} events waiting in the stream (published in ${publishSeconds.toFixed(1)} s)`);
  }
  await fleet.startAll(processes, 60_000);
  const t0 = Date.now();
  const publishing = MODE === 'live' ? publishAll() : Promise.resolve(null);
  const samples = [];
  for (;;) {
    const n = await stored();
    samples.push({ t: (Date.now() - t0) / 1000, n });
    if (n >= EVENTS) break;
    if (Date.now() - t0 > 600_000) throw new Error(`only ${n} of ${EVENTS} after 10 minutes`);
    await new Promise((r) => setTimeout(r, 500));
  }
  const livePublish = await publishing;
  const total = samples[samples.length - 1];
  // Sustained: from the first sample with 10 % stored to the first with 90 %.
  const a = samples.find((s) => s.n >= EVENTS * 0.1);
  const b = samples.find((s) => s.n >= EVENTS * 0.9);
  const sustained = a && b && b.t > a.t ? (b.n - a.n) / (b.t - a.t) : NaN;
  if (process.env.BENCH_SAMPLES) console.log(samples.map((s) => `${s.t.toFixed(1)}s:${s.n}`).join(" "));
  const [{ chains, max_seq }] = (await admin.query('SELECT count(*) AS chains, max(seq) AS max_seq FROM audit.heads')).rows;
  console.log(
    JSON.stringify(
      {
        mode: MODE,
        events: EVENTS,
        tenants: TENANTS,
        chains: Number(chains),
        longestChain: Number(max_seq),
        secondsToIngestAll: Number(total.t.toFixed(2)),
        eventsPerSecondOverall: Math.round(EVENTS / total.t),
        eventsPerSecondSustained10to90: Math.round(sustained),
        ...(livePublish ? { publishSeconds: Number(livePublish.toFixed(2)) } : {}),
      },
      null,
      2,
    ),
  );
} finally {
  await cleanup();
}
