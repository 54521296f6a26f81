import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServiceName } from '@musubi/contracts';
import { Fleet, fleetProcesses, type ServiceProcess } from '@musubi/platform/fleet';
import { createTestDatabase, freePort, startNatsServer, startRedisServer, type PrivateServer, type TestDatabase } from '@musubi/platform/testing';
import { schemaSpecs, serviceEntries } from './services.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface TestFleet {
  readonly fleet: Fleet;
  readonly gatewayUrl: string;
  readonly operatorToken: string;
  readonly db: TestDatabase;
  readonly nats: PrivateServer;
  readonly redis: PrivateServer;
  readonly processes: readonly ServiceProcess[];
  /** Every line a service printed. */
  logs(service: ServiceName): string[];
  /** Starts a service that was killed, and waits until it is ready. */
  restart(service: ServiceName): Promise<void>;
  stop(): Promise<void>;
}

export interface TestFleetOptions {
  readonly busTimeoutMs?: number;
  readonly extra?: Record<string, string>;
}

/**
 * The whole fleet as child processes, built output (`npm run build`), with a
 * NATS, a Redis and a database of its own: nothing else on the machine can
 * answer its requests or see its data.
 */
export async function startTestFleet(opts: TestFleetOptions = {}): Promise<TestFleet> {
  if (!existsSync(join(ROOT, 'apps', 'gateway', 'dist', 'main.js'))) throw new Error('the fleet is not built: run `npm run build` (npm test does it)');
  const [nats, redis, db] = await Promise.all([startNatsServer(), startRedisServer(), createTestDatabase(schemaSpecs)]);
  const ports: Partial<Record<ServiceName, { management: number; public?: number }>> = {};
  for (const e of serviceEntries) ports[e.name] = { management: await freePort() };
  const publicPort = await freePort();
  ports.gateway = { management: ports.gateway?.management ?? (await freePort()), public: publicPort };
  const operatorToken = randomBytes(32).toString('base64url');
  const gatewayUrl = `http://localhost:${publicPort}`;
  const processes = fleetProcesses(serviceEntries, {
    root: ROOT,
    natsUrl: nats.url,
    redisUrl: redis.url,
    databaseAdminUrl: db.adminUrl,
    databaseUrlFor: (schema) => db.urlFor(schema),
    operatorToken,
    publicUrl: gatewayUrl,
    ports,
    extra: {
      LOG_LEVEL: process.env['MUSUBI_TEST_LOG_LEVEL'] ?? 'info',
      BUS_REQUEST_TIMEOUT_MS: String(opts.busTimeoutMs ?? 3000),
      SHUTDOWN_TIMEOUT_MS: '5000',
      // federation seals its OIDC signing keys with this; one per fleet.
      OIDC_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      ...opts.extra,
    },
  });
  const lines = new Map<string, string[]>();
  const fleet = new Fleet((service, line) => {
    const list = lines.get(service) ?? [];
    list.push(line);
    lines.set(service, list);
    if (process.env['MUSUBI_TEST_LOG_ECHO']) process.stderr.write(`[${service}] ${line}\n`);
  });
  const stop = async () => {
    await fleet.stopAll(10_000);
    await Promise.all([nats.stop(), redis.stop(), db.drop()]);
  };
  try {
    await fleet.startAll(processes, 90_000);
  } catch (err) {
    const dump = [...lines.entries()].map(([s, l]) => `--- ${s}\n${l.slice(-15).join('\n')}`).join('\n');
    await stop();
    throw new Error(`${(err as Error).message}\n${dump}`);
  }
  return {
    fleet,
    gatewayUrl,
    operatorToken,
    db,
    nats,
    redis,
    processes,
    logs: (s) => lines.get(s) ?? [],
    restart: async (service) => {
      const spec = processes.find((p) => p.name === service);
      if (!spec) throw new Error(`no such service ${service}`);
      fleet.start(spec);
      await fleet.waitReady(service, 60_000);
    },
    stop,
  };
}

/** fetch against the gateway with the operator's token. */
export function operatorFetch(f: Pick<TestFleet, 'gatewayUrl' | 'operatorToken'>, path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${f.operatorToken}`);
  if (init.body !== undefined && !headers.has('content-type')) headers.set('content-type', 'application/json');
  return fetch(`${f.gatewayUrl}${path}`, { ...init, headers });
}
