// @ts-check
// The whole fleet started for one benchmark run: private NATS and Redis, a fresh
// database cloned from the migrated template, the eight services as processes.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SERVICE_NAMES, devSecrets, importDist } from '../../tools/dev/common.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * @param {{ extra?: Record<string, string>, log?: (line: string) => void, prepare?: (processes: Array<{ name: string, execArgv?: string[] }>) => void }} [opts]
 *   `prepare` may change the processes before they start (e.g. add --cpu-prof).
 * @returns {Promise<{ base: string, token: string, api: (path: string, init?: RequestInit) => Promise<Response>, stop: () => Promise<void>, pidOf: (name: string) => number | undefined }>}
 */
export async function startBenchFleet(opts = {}) {
  const { Fleet, fleetProcesses, ensureInfrastructure } = await importDist(root, 'fleet');
  const { createTestDatabase, startNatsServer, startRedisServer, freePort } = await importDist(root, 'testing');
  const defs = (await Promise.all(SERVICE_NAMES.map((n) => import(pathToFileURL(join(root, 'apps', n, 'dist', 'service.js')).href)))).map((m) => Object.values(m)[0]);
  const entries = defs.map((d) => ({ name: d.name, settings: d.settings, ...(d.database ? { database: { schema: d.database.schema } } : {}) }));
  const log = opts.log ?? ((l) => console.log(`bench: ${l}`));
  const infra = await ensureInfrastructure({ dataDir: join(root, '.musubi'), env: process.env, log, postgresPassword: devSecrets(join(root, '.musubi')).postgresPassword });
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
    extra: {
      LOG_LEVEL: 'warn',
      // Keys the services refuse to start without (each service gets only the settings it declares).
      AUDIT_SIGNING_KEY: generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      OIDC_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      ...(opts.extra ?? {}),
    },
  });
  opts.prepare?.(processes);
  const fleet = new Fleet((service, line) => {
    if (/"level":"(error|fatal)"/.test(line)) console.error(`[${service}] ${line}`);
  });
  const stop = async () => {
    await fleet.stopAll();
    await Promise.all([nats.stop(), redis.stop(), db.drop()]);
    await infra.stop();
  };
  try {
    await fleet.startAll(processes);
  } catch (err) {
    await stop();
    throw err;
  }
  /** @type {(path: string, init?: RequestInit) => Promise<Response>} */
  const api = (path, init = {}) =>
    fetch(`${base}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, ...(typeof init.body === 'string' ? { 'content-type': 'application/json' } : {}), ...(init.headers ?? {}) } });
  /** @type {(name: string) => number | undefined} */
  const pidOf = (name) => (name === 'nats-server' ? nats.pid : fleet.pidOf(name));
  return { base, token, api, stop, pidOf };
}
