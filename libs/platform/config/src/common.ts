import { enumSetting, intSetting, optional, portSetting, stringSetting, urlListSetting, urlSetting } from './setting.js';

/** Settings every service has. `httpPort` is the service's own health/metrics port. */
export const serviceSettings = (defaults: { httpPort: number }) =>
  ({
    HTTP_PORT: portSetting({ doc: "Port of this service's health (/health/live, /health/ready) and /metrics server", default: String(defaults.httpPort) }),
    NATS_URL: urlListSetting({ doc: 'NATS server URL(s), comma-separated', default: 'nats://127.0.0.1:4222', protocols: ['nats:', 'tls:'] }),
    LOG_LEVEL: enumSetting(['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const, { doc: 'Minimum level of JSON log lines', default: 'info' }),
    BUS_REQUEST_TIMEOUT_MS: intSetting({ doc: 'How long a request to another service may take before it fails as unavailable', default: '5000', min: 100, max: 60000 }),
    SHUTDOWN_TIMEOUT_MS: intSetting({ doc: 'On SIGTERM, how long in-flight work may take before the process exits anyway', default: '15000', min: 1000, max: 120000 }),
    NATS_USER: optional(stringSetting({ doc: "This service's NATS user (with NATS_PASSWORD); production grants each service only its own subjects" })),
    NATS_PASSWORD: optional(stringSetting({ doc: "This service's NATS password", secret: true })),
    NATS_CREDS_FILE: optional(stringSetting({ doc: 'Path to a NATS .creds file (JWT and NKey) for this service, instead of user and password' })),
    JETSTREAM_REPLICAS: intSetting({ doc: 'Replicas of the JetStream streams this service creates (3 on a NATS cluster)', default: '1', min: 1, max: 5 }),
  }) as const;

/** Settings of a service that owns a Postgres schema. */
export const databaseSettings = {
  DATABASE_URL: urlSetting({ doc: "Postgres URL of this service's own role and database", secret: true, protocols: ['postgres:', 'postgresql:'] }),
  DATABASE_POOL_SIZE: intSetting({ doc: 'Connections in the pool', default: '10', min: 1, max: 200 }),
  DATABASE_ADMIN_URL: optional(
    urlSetting({
      doc: "Only for the migrate command: a role that may create roles and schemas (creates this service's role and schema before migrating)",
      secret: true,
      protocols: ['postgres:', 'postgresql:'],
    }),
  ),
} as const;

export const redisSettings = {
  REDIS_URL: urlSetting({ doc: 'Redis URL', default: 'redis://127.0.0.1:6379', secret: true, protocols: ['redis:', 'rediss:'] }),
} as const;
