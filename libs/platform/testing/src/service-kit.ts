import { randomUUID } from 'node:crypto';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import pg from 'pg';
import {
  streamNameOf,
  type AdminRole,
  type CallContext,
  type ErrorCode,
  type EventEnvelope,
  type RequestOf,
  type ServiceName,
  type TenantView,
  type UserView,
} from '@musubi/contracts';
import { BusClient } from '@musubi/platform/bus';
import type { ConfigSpec } from '@musubi/platform/config';
import { RemoteError } from '@musubi/platform/errors';
import { startService, type RunningService, type ServiceDefinition } from '@musubi/platform/runtime';
import { captureLogs, type CapturedLogs } from './logger.js';
import { createTestDatabase, type SchemaSpec, type TestDatabase } from './database.js';
import { startNatsServer, startRedisServer, type PrivateServer } from './servers.js';

/**
 * What a service integration test file needs: its own NATS (with JetStream),
 * database and, when asked, Redis; the services under test started in-process
 * by `startService` exactly as `main.ts` does; and a bus client of its own,
 * talking to them the way another service would.
 */
export interface Kit {
  readonly db: TestDatabase;
  readonly nats: PrivateServer;
  readonly redis: PrivateServer | null;
  /** Every line the services logged, at trace level. */
  readonly logs: CapturedLogs;
  readonly nc: NatsConnection;
  readonly jsm: JetStreamManager;
  readonly bus: BusClient;
  /** Starts a service on this kit's NATS, database and Redis (stopped by `stop()`); `env` adds or overrides settings. */
  start<S extends ConfigSpec>(def: ServiceDefinition<S>, env?: Readonly<Record<string, string>>): Promise<RunningService>;
  /** One statement as the database superuser (this file's database only). */
  sql<R extends pg.QueryResultRow = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<R[]>;
  stop(): Promise<void>;
}

export interface KitOptions {
  /** Schemas to migrate in the test database. */
  readonly schemas: readonly SchemaSpec[];
  readonly redis?: boolean;
}

/** The schema a service definition owns, for `createTestDatabase`. */
export const schemaOf = (def: { readonly database?: { readonly schema: string; readonly migrations: SchemaSpec['migrations'] } }): SchemaSpec => {
  if (!def.database) throw new Error('this service owns no schema');
  return { schema: def.database.schema, migrations: def.database.migrations };
};

export async function startKit(opts: KitOptions): Promise<Kit> {
  const infra = await Promise.allSettled([startNatsServer(), createTestDatabase(opts.schemas), opts.redis ? startRedisServer() : Promise.resolve(null)] as const);
  const [natsR, dbR, redisR] = infra;
  if (natsR.status === 'rejected' || dbR.status === 'rejected' || redisR.status === 'rejected') {
    // Nothing half-started outlives a failed start.
    await Promise.allSettled([
      natsR.status === 'fulfilled' ? natsR.value.stop() : null,
      dbR.status === 'fulfilled' ? dbR.value.drop() : null,
      redisR.status === 'fulfilled' ? redisR.value?.stop() : null,
    ]);
    throw infra.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []))[0];
  }
  const [nats, db, redis] = [natsR.value, dbR.value, redisR.value];
  const logs = captureLogs('it');
  // Trace level: a secret logged at any level fails the "never in a log line" checks.
  logs.logger.level = 'trace';
  const admin = new pg.Pool({ connectionString: db.adminUrl, max: 2, application_name: 'musubi-test-assert' });
  // An idle connection of this assertion pool ended by the server (its database dropped at the end of a file whose
  // teardown overran) must not surface as an unhandled 'error' in whichever test runs next in the worker; a query
  // that needs the connection still fails on its own.
  admin.on('error', () => undefined);
  const nc = await connect({ servers: nats.url, name: 'test-client' });
  const jsm = await jetstreamManager(nc);
  const running: RunningService[] = [];
  return {
    db,
    nats,
    redis,
    logs,
    nc,
    jsm,
    bus: new BusClient(nc, 'gateway', 5000),
    async start(def, env = {}) {
      const schema = def.database?.schema;
      const svc = await startService(def, {
        env: {
          NATS_URL: nats.url,
          ...(schema ? { DATABASE_URL: db.urlFor(schema), DATABASE_POOL_SIZE: '8' } : {}),
          ...(redis ? { REDIS_URL: redis.url } : {}),
          LOG_LEVEL: 'trace',
          SHUTDOWN_TIMEOUT_MS: '2000',
          BUS_REQUEST_TIMEOUT_MS: '5000',
          ...env,
        },
        managementPort: 0,
        logger: logs.logger.child({ service: def.name }),
      });
      running.push(svc);
      return svc;
    },
    async sql<R extends pg.QueryResultRow>(text: string, params: readonly unknown[] = []) {
      return (await admin.query<R>(text, [...params])).rows;
    },
    async stop() {
      // Last started first: authn needs directory until it has stopped.
      for (const svc of running.splice(0).reverse()) await svc.stop().catch(() => undefined);
      await nc.drain().catch(() => undefined);
      await admin.end().catch(() => undefined);
      await Promise.all([nats.stop(), redis?.stop(), db.drop()]);
    },
  };
}

/** Call contexts, as the gateway would send them. */
export const operator = (): CallContext => ({ requestId: randomUUID(), tenantId: null, caller: { kind: 'operator', id: 'bootstrap' } });
export const asUser = (tenantId: string, userId: string = randomUUID(), roles: AdminRole[] = []): CallContext => ({
  requestId: randomUUID(),
  tenantId,
  caller: { kind: 'user', userId, tenantId, roles },
});
export const asService = (service: ServiceName, tenantId: string | null = null): CallContext => ({ requestId: randomUUID(), tenantId, caller: { kind: 'service', service } });

/** The error reply a call got; fails the test if the call succeeded or failed otherwise than by a reply. */
export async function errorOf(call: Promise<unknown>): Promise<RemoteError> {
  let result: unknown;
  try {
    result = await call;
  } catch (err) {
    if (err instanceof RemoteError) return err;
    throw err;
  }
  throw new Error(`expected an error reply, got ${JSON.stringify(result)}`);
}

/** Asserts the call fails with `code` and, when given, a detail at exactly `pointer`. */
export async function expectError(call: Promise<unknown>, code: ErrorCode, pointer?: string): Promise<RemoteError> {
  // Plain assertions: this kit is also loaded outside Jest (by the fleet tooling), so no `expect` here.
  const err = await errorOf(call);
  if (err.code !== code || typeof err.message !== 'string' || err.message === '') {
    throw new Error(`expected a ${code} error reply, got ${err.code}: ${err.message}`);
  }
  const pointers = err.details.map((d) => d.pointer);
  if (pointer !== undefined && !pointers.includes(pointer)) {
    throw new Error(`expected a detail at ${pointer}, got ${JSON.stringify(pointers)}`);
  }
  return err;
}

/** Slugs unique within a run, so tests never depend on each other's tenants. */
let slugSeq = 0;
export const uniqueSlug = (prefix = 't'): string => `${prefix}-${process.pid.toString(36)}-${(slugSeq++).toString(36)}`;

export function createTenant(kit: Pick<Kit, 'bus'>, fields: Partial<RequestOf<'musubi.directory.tenant.create.v1'>> = {}): Promise<TenantView> {
  return kit.bus.request('musubi.directory.tenant.create.v1', { slug: uniqueSlug(), displayName: 'テスト株式会社', ...fields }, operator());
}

export function createUser(
  kit: Pick<Kit, 'bus'>,
  tenant: TenantView,
  local: string,
  fields: Partial<RequestOf<'musubi.directory.user.create.v1'>> = {},
  ctx: CallContext = operator(),
): Promise<UserView> {
  return kit.bus.request('musubi.directory.user.create.v1', { tenantId: tenant.id, loginId: `${local}@${tenant.platformDomain}`, ...fields }, ctx);
}

/**
 * Every message in a producer's stream, in stream order (empty when the stream does not exist yet).
 * Given the kit's `sql`, it first waits until the producer's outbox is drained, so every event
 * committed before the call is there (the relay publishes asynchronously; reading at once raced it).
 */
export async function streamMessages(kit: Pick<Kit, 'jsm'> & Partial<Pick<Kit, 'sql'>>, owner: ServiceName): Promise<Array<{ seq: number; subject: string; raw: string; envelope: EventEnvelope }>> {
  if (kit.sql) {
    const sql = kit.sql.bind(kit);
    const [hasOutbox] = await sql<{ ok: boolean }>('SELECT to_regclass($1) IS NOT NULL AS ok', [`"${owner}".outbox`]);
    if (hasOutbox?.ok) await outboxDrained({ sql }, owner);
  }
  const stream = streamNameOf(owner);
  let first: number;
  let last: number;
  try {
    const info = await kit.jsm.streams.info(stream);
    first = info.state.first_seq;
    last = info.state.last_seq;
  } catch (err) {
    if (/stream not found/i.test((err as Error).message)) return [];
    throw err;
  }
  const out: Array<{ seq: number; subject: string; raw: string; envelope: EventEnvelope }> = [];
  for (let seq = first; seq <= last && last > 0; seq++) {
    const m = await kit.jsm.streams.getMessage(stream, { seq });
    if (!m) continue;
    const raw = m.string();
    out.push({ seq, subject: m.subject, raw, envelope: JSON.parse(raw) as EventEnvelope });
  }
  return out;
}

/** Waits until the relay has moved every committed event of `schema` to JetStream. */
export async function outboxDrained(kit: Pick<Kit, 'sql'>, schema: string, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const [row] = await kit.sql<{ n: number }>(`SELECT count(*)::int AS n FROM "${schema}".outbox`);
    if (row?.n === 0) return;
    if (Date.now() > until) throw new Error(`${row?.n} events still in ${schema}.outbox after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
