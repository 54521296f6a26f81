import 'reflect-metadata';
import type { Server } from 'node:http';
import { NestFactory } from '@nestjs/core';
import type { DynamicModule, INestApplication, INestApplicationContext, Provider, Type } from '@nestjs/common';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { Redis } from 'ioredis';
import { DataSource } from 'typeorm';
import type { ServiceName } from '@musubi/contracts';
import {
  loadConfig,
  type databaseSettings,
  type redisSettings,
  type serviceSettings,
  type ConfigOf,
  type ConfigSpec,
  type Environment,
} from '@musubi/platform/config';
import {
  BusClient,
  BusServer,
  EventConsumer,
  OutboxRelay,
  JetStreamPublisher,
  OutboxWriter,
  RpcErrorFilter,
  connectNats,
  ensureStream,
  type NatsConnection,
} from '@musubi/platform/bus';
import {
  UnitOfWork,
  assertMigrated,
  createDataSource,
  provisionRuntimeRole,
  provisionSchema,
  runMigrations,
  type EntityClass,
  type MigrationClass,
} from '@musubi/platform/db';
import { HealthRegistry, ManagementServer, collectProcessMetrics, natsIndicator, postgresIndicator, redisIndicator } from '@musubi/platform/health';
import { NestPinoLogger, createLogger, type Logger } from '@musubi/platform/logging';
import { EventConsumers, NATS, PlatformModule, REDIS } from './platform.module.js';

type BaseSpec = ReturnType<typeof serviceSettings>;
type DbSpec = typeof databaseSettings;

export interface HttpSurface<C> {
  /** The public port (the gateway's PORT). */
  readonly port: (config: C) => number;
  /** Creates the Nest application for the root module (Fastify, for the gateway). */
  readonly create: (args: { root: DynamicModule; nestLogger: NestPinoLogger; logger: Logger; config: C }) => Promise<INestApplication>;
}

export interface ServiceDefinition<S extends ConfigSpec> {
  readonly name: ServiceName;
  /** The service's settings; must include `serviceSettings(...)`, and database/redis settings when used. */
  readonly settings: S;
  readonly database?: {
    readonly schema: string;
    readonly entities: readonly EntityClass[];
    readonly migrations: readonly MigrationClass[];
  };
  readonly redis?: boolean;
  /** Builds the root module of the service from its validated config. */
  readonly module: (config: ConfigOf<S>) => Type | DynamicModule;
  /** A service with a public HTTP surface (the gateway) is an HTTP app instead of a bus responder. */
  readonly http?: HttpSurface<ConfigOf<S>>;
}

export interface RunningService {
  readonly name: ServiceName;
  readonly managementPort: number;
  /** The public HTTP port, for a service with an HTTP surface. */
  readonly httpPort: number | null;
  readonly app: INestApplicationContext;
  readonly shutdownTimeoutMs: number;
  /** The graceful stop SIGTERM triggers. */
  stop(): Promise<void>;
}

export interface StartOptions {
  readonly env?: Environment;
  /** Overrides the management port (tests pass 0 for a free one). */
  readonly managementPort?: number;
  /** Overrides the public HTTP port (tests pass 0 for a free one). */
  readonly httpPort?: number;
  readonly logger?: Logger;
}

const isDb = (c: object): c is ConfigOf<DbSpec> => 'DATABASE_URL' in c;
const hasOwner = (c: object): c is { DATABASE_OWNER_URL: string } => typeof (c as { DATABASE_OWNER_URL?: unknown }).DATABASE_OWNER_URL === 'string';
const isRedis = (c: object): c is ConfigOf<typeof redisSettings> => 'REDIS_URL' in c;

/** Loads config or throws `ConfigError` naming every bad or missing setting. */
export function loadServiceConfig<S extends ConfigSpec>(def: ServiceDefinition<S>, env?: Environment): ConfigOf<S> & ConfigOf<BaseSpec> {
  return loadConfig(def.settings, env) as ConfigOf<S> & ConfigOf<BaseSpec>;
}

/**
 * The migrate command: provision role and schema (when an admin URL is given), then
 * run migrations. A service that declares DATABASE_OWNER_URL runs as a restricted
 * role: the owner URL's role owns the schema and runs the migrations, and
 * DATABASE_URL's role is provisioned as the runtime role afterwards.
 */
export async function migrateService<S extends ConfigSpec>(def: ServiceDefinition<S>, opts: StartOptions = {}): Promise<string[]> {
  const config = loadServiceConfig(def, opts.env);
  if (!def.database || !isDb(config)) return [];
  const ownerUrl = hasOwner(config) ? config.DATABASE_OWNER_URL : undefined;
  const migrateUrl = ownerUrl ?? config.DATABASE_URL;
  if (config.DATABASE_ADMIN_URL) {
    await provisionSchema({ adminUrl: config.DATABASE_ADMIN_URL, serviceUrl: migrateUrl, schema: def.database.schema });
  }
  const ds = createDataSource({
    url: migrateUrl,
    schema: def.database.schema,
    entities: def.database.entities,
    migrations: def.database.migrations,
    poolSize: 2,
    applicationName: `${def.name}-migrate`,
  });
  let ran: string[];
  try {
    ran = await runMigrations(ds, def.database.schema, migrateUrl);
  } finally {
    if (ds.isInitialized) await ds.destroy();
  }
  if (ownerUrl) {
    await provisionRuntimeRole({ adminUrl: config.DATABASE_ADMIN_URL, ownerUrl, runtimeUrl: config.DATABASE_URL, schema: def.database.schema });
  }
  return ran;
}

/** Shutdown phases, in the order they run. */
const enum Phase {
  Intake = 1, // stop taking requests, finish in-flight ones
  Workers = 2, // consumers and outbox relay finish their round
  Connections = 3, // NATS drained, pools closed
  Management = 4, // health endpoint last, so probes see "not ready" until the end
}

/**
 * Starts a service: opens its infrastructure (Postgres schema checked to be
 * migrated, NATS, JetStream, Redis), serves health and metrics, answers its
 * subjects (or its HTTP routes), relays its outbox and runs its durable
 * consumers. `stop()` undoes it in order: not ready; stop taking requests and
 * finish in-flight ones; stop consumers and relay; drain NATS; close pools.
 */
export async function startService<S extends ConfigSpec>(def: ServiceDefinition<S>, opts: StartOptions = {}): Promise<RunningService> {
  const config = loadServiceConfig(def, opts.env);
  const logger = opts.logger ?? createLogger({ service: def.name, level: config.LOG_LEVEL });
  collectProcessMetrics(def.name);
  const health = new HealthRegistry();
  const mgmt = new ManagementServer(health, opts.managementPort ?? config.HTTP_PORT);
  const closers: Array<{ phase: Phase; close: () => Promise<unknown> }> = [];
  const closeAll = async () => {
    const ordered = closers.splice(0).sort((a, b) => a.phase - b.phase);
    for (const c of ordered) await c.close().catch((err: unknown) => logger.warn({ err }, 'error while closing'));
  };

  try {
    const managementPort = await mgmt.start();
    closers.push({ phase: Phase.Management, close: () => mgmt.stop() });

    const extra: Provider[] = [];
    let dataSource: DataSource | undefined;
    if (def.database && isDb(config)) {
      const ds = createDataSource({
        url: config.DATABASE_URL,
        schema: def.database.schema,
        entities: def.database.entities,
        migrations: def.database.migrations,
        poolSize: config.DATABASE_POOL_SIZE,
        applicationName: def.name,
      });
      dataSource = ds;
      await ds.initialize();
      closers.push({ phase: Phase.Connections, close: () => ds.destroy() });
      await assertMigrated(ds, def.name);
      health.register(postgresIndicator((sql) => ds.query(sql)));
      extra.push({ provide: DataSource, useValue: ds }, { provide: UnitOfWork, useValue: new UnitOfWork(ds) });
      extra.push({ provide: OutboxWriter, useValue: new OutboxWriter(def.name, def.database.schema, ds) });
    }

    const credentials = { user: config.NATS_USER, password: config.NATS_PASSWORD, credsFile: config.NATS_CREDS_FILE };
    const nc: NatsConnection = await connectNats({ servers: config.NATS_URL, name: `${def.name}-client`, logger, credentials, inboxPrefix: `_INBOX_${def.name}` });
    closers.push({ phase: Phase.Connections, close: () => nc.drain() });
    health.register(natsIndicator('nats', nc));
    const js: JetStreamClient = jetstream(nc);
    const jsm: JetStreamManager = await jetstreamManager(nc);
    extra.push({ provide: BusClient, useValue: new BusClient(nc, def.name, config.BUS_REQUEST_TIMEOUT_MS) }, { provide: NATS, useValue: nc });

    if (def.redis && isRedis(config)) {
      const redis = new Redis(config.REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 2, enableOfflineQueue: false });
      await redis.connect();
      closers.push({ phase: Phase.Connections, close: () => redis.quit() });
      health.register(redisIndicator(redis));
      extra.push({ provide: REDIS, useValue: redis });
    }

    const consumers = new EventConsumers();
    extra.push({ provide: EventConsumers, useValue: consumers });

    const root: DynamicModule = {
      module: class ServiceRoot {},
      imports: [PlatformModule.forRoot({ service: def.name, config, logger, health, extra }), def.module(config)],
    };
    const nestLogger = new NestPinoLogger(logger);
    let app: INestApplicationContext;
    let httpPort: number | null = null;
    if (def.http) {
      const httpApp = await def.http.create({ root, nestLogger, logger, config });
      await httpApp.listen(opts.httpPort ?? def.http.port(config), '0.0.0.0');
      const addr = (httpApp.getHttpServer() as Server).address();
      httpPort = typeof addr === 'object' && addr ? addr.port : null;
      app = httpApp;
      closers.push({ phase: Phase.Intake, close: () => httpApp.close() });
    } else {
      const server = new BusServer({ service: def.name, servers: config.NATS_URL, logger, drainTimeoutMs: config.SHUTDOWN_TIMEOUT_MS, credentials });
      const micro = await NestFactory.createMicroservice(root, { strategy: server, logger: nestLogger });
      micro.useGlobalFilters(new RpcErrorFilter());
      await micro.listen();
      app = micro;
      closers.push({ phase: Phase.Intake, close: () => micro.close() });
      health.register(natsIndicator('nats-server', server.connection));
    }

    // The stream of what we emit exists before the first event is relayed.
    const emitsEvents = (await ensureStream(jsm, def.name, { replicas: config.JETSTREAM_REPLICAS })) !== null;
    if (emitsEvents && dataSource && def.database && isDb(config)) {
      const publisher = new JetStreamPublisher(nc, `_INBOX_${def.name}`);
      const relay = new OutboxRelay(dataSource, publisher, {
        schema: def.database.schema,
        logger,
        listenUrl: config.DATABASE_URL,
        ensureStream: () => ensureStream(jsm, def.name, { replicas: config.JETSTREAM_REPLICAS }),
      });
      await relay.start();
      closers.push({
        phase: Phase.Workers,
        close: async () => {
          await relay.stop();
          publisher.close();
        },
      });
    }
    for (const reg of consumers.registrations) {
      const consumer = new EventConsumer(js, jsm, { ...reg, service: def.name, logger });
      await consumer.start();
      closers.push({ phase: Phase.Workers, close: () => consumer.stop() });
    }

    health.markServing();
    logger.info({ managementPort, httpPort }, `${def.name} ready`);
    let stopping: Promise<void> | undefined;
    return {
      name: def.name,
      managementPort,
      httpPort,
      app,
      shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
      stop: () => {
        stopping ??= (async () => {
          health.markStopping();
          logger.info('stopping');
          await closeAll();
          logger.info('stopped');
        })();
        return stopping;
      },
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
