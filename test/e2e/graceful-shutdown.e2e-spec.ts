import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import type { ServiceName, TenantView } from '@musubi/contracts';
import { waitFor } from '@musubi/platform/testing';
import { logRecords, metricValue, readiness } from '../support/e2e-checks.js';
import { operatorFetch, startTestFleet, type TestFleet } from '../support/test-fleet.js';

/**
 * SIGTERM to a service while requests are in flight: what it had accepted is
 * finished, what comes after is refused cleanly, readiness says "not ready"
 * for the whole stop, and the process exits 0.
 *
 * To have requests provably in flight, a test holds an exclusive lock on
 * directory's tenants table: every tenant read waits on it, inside directory,
 * until the test lets go. Fewer requests than directory's pool has connections
 * (10) are parked that way, so its readiness check still gets one.
 */

// Long enough that requests parked behind the lock do not time out at the gateway.
const BUS_TIMEOUT_MS = 8000;
let f: TestFleet;
let tenant: TenantView;

beforeAll(async () => {
  f = await startTestFleet({ busTimeoutMs: BUS_TIMEOUT_MS });
  const res = await operatorFetch(f, '/api/v1/tenants', { method: 'POST', body: JSON.stringify({ slug: 'drain', displayName: 'Drain 株式会社' }) });
  expect(res.status).toBe(201);
  tenant = (await res.json()) as TenantView;
}, 120_000);

afterAll(async () => {
  await f?.stop();
}, 60_000);

/** Holds `ACCESS EXCLUSIVE` on directory.tenants until released. */
async function lockTenantsTable(): Promise<{ release(): Promise<void> }> {
  const c = new pg.Client({ connectionString: f.db.adminUrl });
  await c.connect();
  await c.query('BEGIN');
  await c.query('LOCK TABLE directory.tenants IN ACCESS EXCLUSIVE MODE');
  let released = false;
  return {
    release: async () => {
      if (released) return;
      released = true;
      await c.query('COMMIT');
      await c.end();
    },
  };
}

interface Outcome {
  readonly status: number | 'connection error';
  readonly contentType: string | null;
  readonly code?: string;
}

/** One GET of the tenant; never throws, so a dropped connection is counted, not lost. */
async function getTenant(): Promise<Outcome> {
  try {
    const res = await operatorFetch(f, `/api/v1/tenants/${tenant.id}`, { signal: AbortSignal.timeout(20_000) });
    const text = await res.text();
    const body = (() => {
      try {
        return JSON.parse(text) as { code?: string; id?: string };
      } catch {
        return {};
      }
    })();
    if (res.status === 200 && body.id !== tenant.id) return { status: 'connection error', contentType: null };
    return { status: res.status, contentType: res.headers.get('content-type'), ...(body.code ? { code: body.code } : {}) };
  } catch {
    return { status: 'connection error', contentType: null };
  }
}

/** An answer that is either a success or the clean "come back later" problem. */
const isCleanAnswer = (o: Outcome) =>
  o.status === 200 || (o.status === 503 && (o.contentType ?? '').startsWith('application/problem+json') && o.code === 'service_unavailable');

function messagesOf(service: ServiceName): string[] {
  return logRecords(f, service).map((r) => (typeof r['msg'] === 'string' ? r['msg'] : ''));
}

describe('SIGTERM to directory', () => {
  it('finishes the requests it had accepted, refuses new ones cleanly, reports not ready while stopping, and exits 0', async () => {
    const N = 8;
    const lock = await lockTenantsTable();
    let exit: Promise<number | null> | undefined;
    try {
      const inFlight = Array.from({ length: N }, () => getTenant());
      // All N are inside directory, waiting on the lock.
      await waitFor('directory to hold every request', async () => (await metricValue(f, 'directory', 'musubi_bus_in_flight')) === N, 15_000, 50);
      expect((await readiness(f, 'directory'))?.status).toBe(200);

      const logsBefore = f.logs('directory').length;
      exit = f.fleet.kill('directory', 'SIGTERM');
      const stopping = await waitFor('directory to report not ready', async () => {
        const r = await readiness(f, 'directory');
        return r?.status === 503 ? r : null;
      });
      expect(stopping.body.status).toBe('not_ready');
      // Its dependencies are fine: it is not ready because it is stopping.
      expect(Object.values(stopping.body.checks).map((c) => c.status)).toEqual(Object.keys(stopping.body.checks).map(() => 'up'));
      expect(f.fleet.isRunning('directory')).toBe(true);

      // New work is refused at once, while the accepted work is still held.
      const late = await getTenant();
      expect(late).toMatchObject({ status: 503, code: 'service_unavailable' });
      expect(f.fleet.isRunning('directory')).toBe(true);
      expect((await readiness(f, 'directory'))?.status).toBe(503);

      await lock.release();
      const outcomes = await Promise.all(inFlight);
      expect(outcomes.map((o) => o.status)).toEqual(Array.from({ length: N }, () => 200));
      expect(await exit).toBe(0);

      const said = f.logs('directory').slice(logsBefore).join('\n');
      expect(said).toMatch(/"msg":"shutdown requested"/);
      const order = ['shutdown requested', 'stopping', 'bus server drained', 'stopped'].map((m) => messagesOf('directory').lastIndexOf(m));
      expect(order.every((i) => i >= 0)).toBe(true);
      expect([...order].sort((a, b) => a - b)).toEqual(order);
      expect(said).not.toMatch(/still running at drain timeout|graceful shutdown timed out/);
    } finally {
      await lock.release();
      await exit;
      if (!f.fleet.isRunning('directory')) await f.restart('directory');
    }
    const after = await Promise.all(Array.from({ length: N }, () => getTenant()));
    expect(after.map((o) => o.status)).toEqual(Array.from({ length: N }, () => 200));
  }, 60_000);

  it('gives each of 50 concurrent requests a 200 or a clean 503 when SIGTERM arrives among them, and all succeed after a restart', async () => {
    const N = 50;
    const requests = Array.from({ length: N }, () => getTenant());
    const exit = f.fleet.kill('directory', 'SIGTERM');
    const outcomes = await Promise.all(requests);
    expect(await exit).toBe(0);

    const unclean = outcomes.filter((o) => !isCleanAnswer(o));
    expect(unclean).toEqual([]);
    const ok = outcomes.filter((o) => o.status === 200).length;
    process.stdout.write(`directory SIGTERM among ${N} requests: ${ok} succeeded, ${N - ok} got 503\n`);

    await f.restart('directory');
    const after = await Promise.all(Array.from({ length: N }, () => getTenant()));
    expect(after.map((o) => o.status)).toEqual(Array.from({ length: N }, () => 200));
  }, 60_000);
});

describe('SIGTERM to the gateway', () => {
  it('lets in-flight HTTP requests finish, reports not ready while stopping, and exits 0', async () => {
    const N = 8;
    const lock = await lockTenantsTable();
    let exit: Promise<number | null> | undefined;
    try {
      const inFlight = Array.from({ length: N }, () => getTenant());
      await waitFor('directory to hold every request', async () => (await metricValue(f, 'directory', 'musubi_bus_in_flight')) === N, 15_000, 50);

      expect((await readiness(f, 'gateway'))?.status).toBe(200);
      const logsBefore = f.logs('gateway').length;
      exit = f.fleet.kill('gateway', 'SIGTERM');
      const stopping = await waitFor('the gateway to report not ready', async () => {
        const r = await readiness(f, 'gateway');
        return r?.status === 503 ? r : null;
      });
      expect(stopping.body.status).toBe('not_ready');
      expect(Object.values(stopping.body.checks).map((c) => c.status)).toEqual(Object.keys(stopping.body.checks).map(() => 'up'));
      expect(f.fleet.isRunning('gateway')).toBe(true);

      await lock.release();
      const outcomes = await Promise.all(inFlight);
      expect(outcomes).toEqual(Array.from({ length: N }, () => expect.objectContaining({ status: 200 })));
      expect(await exit).toBe(0);
      const said = f.logs('gateway').slice(logsBefore).join('\n');
      expect(said).toMatch(/"msg":"shutdown requested"/);
      expect(said).toMatch(/"msg":"stopped"/);
      expect(said).not.toMatch(/graceful shutdown timed out/);
    } finally {
      await lock.release();
      await exit;
      if (!f.fleet.isRunning('gateway')) await f.restart('gateway');
    }
    const after = await Promise.all(Array.from({ length: N }, () => getTenant()));
    expect(after.map((o) => o.status)).toEqual(Array.from({ length: N }, () => 200));
  }, 60_000);
});
