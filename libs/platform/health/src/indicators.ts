import type { HealthIndicator } from './health.js';

/** Postgres answers a trivial query. */
export const postgresIndicator = (query: (sql: string) => Promise<unknown>): HealthIndicator => ({
  name: 'postgres',
  check: async () => {
    await query('SELECT 1');
  },
});

/** The NATS connection is open and the server answers a PING. */
export const natsIndicator = (name: string, nc: { isClosed(): boolean; flush(): Promise<void> }): HealthIndicator => ({
  name,
  check: async () => {
    if (nc.isClosed()) throw new Error('connection closed');
    await nc.flush();
  },
});

/** Redis answers PING. */
export const redisIndicator = (redis: { ping(): Promise<string> }): HealthIndicator => ({
  name: 'redis',
  check: async () => {
    const pong = await redis.ping();
    if (pong !== 'PONG') throw new Error(`unexpected reply ${pong}`);
  },
});
