// @ts-check
// directory alone, as a process, for the benchmarks that talk to it over the bus:
// a private NATS, a database cloned from the migrated template, an admin pool for
// seeding with SQL, and a bus client acting as the gateway.
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { devSecrets, importDist } from '../../tools/dev/common.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export async function startDirectoryBench() {
  const { Fleet, fleetProcesses, ensureInfrastructure } = await importDist(root, 'fleet');
  const { createTestDatabase, startNatsServer, freePort } = await importDist(root, 'testing');
  const { BusClient } = await importDist(root, 'bus');
  const { directoryService } = await import(pathToFileURL(join(root, 'apps', 'directory', 'dist', 'service.js')).href);
  const infra = await ensureInfrastructure({ dataDir: join(root, '.musubi'), env: process.env, log: (l) => console.log(`bench: ${l}`), postgresPassword: devSecrets(join(root, '.musubi')).postgresPassword });
  process.env.MUSUBI_TEST_PG_ADMIN_URL = infra.pgAdminUrl;
  const [nats, db] = await Promise.all([startNatsServer(), createTestDatabase([{ schema: 'directory', migrations: directoryService.database.migrations }])]);
  const processes = fleetProcesses([{ name: 'directory', settings: directoryService.settings, database: { schema: 'directory' } }], {
    root,
    natsUrl: nats.url,
    redisUrl: 'redis://127.0.0.1:1',
    databaseAdminUrl: db.adminUrl,
    databaseUrlFor: (schema) => db.urlFor(schema),
    operatorToken: randomUUID(),
    publicUrl: 'http://localhost',
    ports: { directory: { management: await freePort() } },
    extra: { LOG_LEVEL: 'warn', BUS_REQUEST_TIMEOUT_MS: '30000' },
  });
  const fleet = new Fleet((service, line) => {
    if (/"level":"(error|fatal)"/.test(line)) console.error(`[${service}] ${line}`);
  });
  const admin = new pg.Pool({ connectionString: db.adminUrl, max: 2 });
  const nc = await connect({ servers: nats.url, name: 'bench' });
  const bus = new BusClient(nc, 'gateway', 30_000);
  const stop = async () => {
    await nc.drain().catch(() => undefined);
    await admin.end().catch(() => undefined);
    await fleet.stopAll();
    await Promise.all([nats.stop(), db.drop()]);
    await infra.stop();
  };
  try {
    await fleet.startAll(processes);
  } catch (err) {
    await stop();
    throw err;
  }
  return { bus, admin, db, stop, operator: () => ({ requestId: randomUUID(), tenantId: null, caller: { kind: 'operator', id: 'bench' } }) };
}

/**
 * Latency percentiles (ms) of `fn` called `n` times with `concurrency` in flight,
 * after `warmup` calls; printed as one line and returned.
 * @param {string} name @param {(i: number) => Promise<unknown>} fn @param {{ n: number, concurrency: number, warmup: number }} o
 */
export async function measure(name, fn, { n, concurrency, warmup }) {
  for (let i = 0; i < Math.min(warmup, n); i++) await fn(i);
  const times = [];
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        const t0 = process.hrtime.bigint();
        await fn(i);
        times.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  times.sort((a, b) => a - b);
  const at = (p) => Math.round(times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))] * 100) / 100;
  const r = { name, n, concurrency, perSecond: Math.round(n / seconds), p50: at(50), p90: at(90), p99: at(99), max: at(100) };
  console.log(`${name.padEnd(72)} c=${concurrency}  ${String(r.perSecond).padStart(5)}/s  p50 ${String(r.p50).padStart(6)} ms  p99 ${String(r.p99).padStart(6)} ms  max ${r.max} ms`);
  return r;
}
