import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import pg from 'pg';
import type { ServiceName, TenantView } from '@musubi/contracts';
import { BusClient } from '@musubi/platform/bus';
import { RemoteError } from '@musubi/platform/errors';
import { Fleet, fleetProcesses, type ServiceProcess } from '@musubi/platform/fleet';
import { createTestDatabase, freePort, operator, startNatsServer, waitFor, type PrivateServer, type TestDatabase } from '@musubi/platform/testing';
import { auditRuntimeUrl, signingKeyPair } from '../../apps/audit/test/audit-kit.js';
import { schemaSpecs, serviceEntries } from '../support/services.js';
import { ROOT } from '../support/test-fleet.js';

/**
 * Nothing is lost, nothing is stored twice. The producer (directory) and audit run
 * as real processes (built output) on their own NATS and database; 10,000 users
 * are created over the bus while audit and directory are killed with SIGKILL and
 * restarted, alone and together. Each creation commits its event in directory's
 * outbox; the relay moves it to JetStream; audit's durable consumer acknowledges
 * it only after its transaction committed. A creation whose answer was lost is
 * sent again (login_id_taken then says it was made). At the end the trail holds
 * exactly one record per user, and its hash chain verifies.
 */

const TOTAL = 10_000;
const CONCURRENCY = 32;
const CREATED = 'musubi.directory.user.created.v1';
const SERVICES: ServiceName[] = ['directory', 'audit'];

let nats: PrivateServer;
let db: TestDatabase;
let fleet: Fleet;
let processes: ServiceProcess[];
let nc: NatsConnection;
let bus: BusClient;
let sql: pg.Client;
let tenant: TenantView;
const lines = new Map<string, string[]>();

const restart = async (name: ServiceName) => {
  fleet.start(processes.find((p) => p.name === name)!);
  await fleet.waitReady(name, 60_000);
};

beforeAll(async () => {
  [nats, db] = await Promise.all([startNatsServer(), createTestDatabase(schemaSpecs.filter((s) => s.schema === 'directory' || s.schema === 'audit'))]);
  // audit as in production: its own read-and-append role, a configured signing key.
  const kitLike = { db } as Parameters<typeof auditRuntimeUrl>[0];
  const auditUrl = await auditRuntimeUrl(kitLike);
  const ports: Partial<Record<ServiceName, { management: number }>> = {};
  for (const s of SERVICES) ports[s] = { management: await freePort() };
  processes = fleetProcesses(
    serviceEntries.filter((e) => SERVICES.includes(e.name)),
    {
      root: ROOT,
      natsUrl: nats.url,
      redisUrl: 'redis://127.0.0.1:6379',
      databaseAdminUrl: db.adminUrl,
      databaseUrlFor: (schema) => (schema === 'audit' ? auditUrl : db.urlFor(schema)),
      operatorToken: 'unused-by-these-services-xxxxxxxxxxxxxxxx',
      publicUrl: 'http://localhost:1',
      ports,
      extra: { LOG_LEVEL: 'warn', SHUTDOWN_TIMEOUT_MS: '3000', AUDIT_SIGNING_KEY: signingKeyPair().privatePem },
    },
  );
  fleet = new Fleet((service, line) => {
    const list = lines.get(service) ?? [];
    list.push(line);
    lines.set(service, list);
  });
  await fleet.startAll(processes, 60_000);
  nc = await connect({ servers: nats.url, name: 'durability-test' });
  bus = new BusClient(nc, 'gateway', 5000);
  sql = new pg.Client({ connectionString: db.adminUrl });
  await sql.connect();
  tenant = await bus.request('musubi.directory.tenant.create.v1', { slug: 'durable', displayName: '耐久 株式会社', limits: { users: 20_000 } }, operator());
}, 120_000);

afterAll(async () => {
  await sql?.end();
  await nc?.drain().catch(() => undefined);
  await fleet?.stopAll(10_000);
  await Promise.all([nats?.stop(), db?.drop()]);
}, 60_000);

/** Creates user `i`, again and again until directory says it was created or already exists. */
async function createUser(i: number, stats: { retries: number }): Promise<void> {
  for (let attempt = 0; attempt < 300; attempt++) {
    try {
      await bus.request('musubi.directory.user.create.v1', { tenantId: tenant.id, loginId: `u${i}@${tenant.platformDomain}`, displayName: `利用者 ${i}` }, operator());
      return;
    } catch (err) {
      if (err instanceof RemoteError && err.code === 'login_id_taken') return;
      if (err instanceof RemoteError && err.code !== 'service_unavailable' && err.code !== 'internal') throw err;
    }
    stats.retries++;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`user ${i} could not be created`);
}

const count = async (text: string, params: unknown[]): Promise<number> => Number((await sql.query<{ n: string }>(text, params)).rows[0]?.n ?? 0);

describe('the audit trail under SIGKILL', () => {
  it('holds exactly 10,000 records for 10,000 creations while audit and directory are killed and restarted', async () => {
    const stats = { retries: 0 };
    let next = 0;
    let done = 0;
    const worker = async () => {
      while (next < TOTAL) {
        const i = next++;
        await createUser(i, stats);
        done++;
      }
    };
    const kills: Array<{ at: number; services: ServiceName[] }> = [
      { at: 1500, services: ['audit'] },
      { at: 3500, services: ['directory'] },
      { at: 5500, services: ['audit', 'directory'] },
      { at: 8000, services: ['audit'] },
    ];
    const chaos = (async () => {
      for (const k of kills) {
        await waitFor(`${k.at} users created`, async () => done >= k.at, 100_000, 10);
        await Promise.all(k.services.map((s) => fleet.kill(s, 'SIGKILL')));
        await new Promise((r) => setTimeout(r, 300));
        await Promise.all(k.services.map(restart));
      }
    })();
    const started = Date.now();
    await Promise.all([...Array.from({ length: CONCURRENCY }, worker), chaos]);
    const producing = (Date.now() - started) / 1000;

    expect(await count('SELECT count(*) AS n FROM directory.users WHERE tenant_id = $1', [tenant.id])).toBe(TOTAL);
    await waitFor(
      'audit to record every creation',
      async () => (await count('SELECT count(*) AS n FROM audit.events WHERE tenant_id = $1 AND type = $2', [tenant.id, CREATED])) >= TOTAL,
      60_000,
      250,
    );
    const settled = (Date.now() - started) / 1000;
    // Exactly once: one record per event and per user, nothing missing, nothing extra.
    expect(await count('SELECT count(*) AS n FROM audit.events WHERE tenant_id = $1 AND type = $2', [tenant.id, CREATED])).toBe(TOTAL);
    expect(await count('SELECT count(DISTINCT id) AS n FROM audit.events WHERE tenant_id = $1 AND type = $2', [tenant.id, CREATED])).toBe(TOTAL);
    expect(await count('SELECT count(DISTINCT target_user_id) AS n FROM audit.events WHERE tenant_id = $1 AND type = $2', [tenant.id, CREATED])).toBe(TOTAL);
    expect(
      await count(
        `SELECT count(*) AS n FROM directory.users u WHERE u.tenant_id = $1
         AND NOT EXISTS (SELECT 1 FROM audit.events e WHERE e.tenant_id = $1 AND e.target_user_id = u.id AND e.type = $2)`,
        [tenant.id, CREATED],
      ),
    ).toBe(0);

    // The chain the kills interrupted still verifies from its first record to its head.
    const report = await bus.request('musubi.audit.chain.verify.v1', { tenantId: tenant.id }, operator());
    expect(report).toMatchObject({ ok: true, fromSeq: 1, failure: null, complete: true });
    expect(report.records).toBeGreaterThanOrEqual(TOTAL + 1);
    process.stdout.write(
      `audit durability: ${TOTAL} creations in ${producing.toFixed(1)} s (all recorded after ${settled.toFixed(1)} s), ${stats.retries} retried requests, ${kills.length} kill rounds\n`,
    );
    // ~90 s on a quiet 2-core machine; the limit leaves room for a busy one (it bounds a hang, not speed).
  }, 240_000);
});
