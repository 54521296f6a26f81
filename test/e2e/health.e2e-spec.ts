import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { SERVICE_NAMES, type ServiceName } from '@musubi/contracts';
import { waitFor } from '@musubi/platform/testing';
import { managementUrl, readiness } from '../support/e2e-checks.js';
import { startNatsOnPort, startRedisOnPort, type ReplacementServer } from '../support/servers-on-port.js';
import { operatorFetch, startTestFleet, type TestFleet } from '../support/test-fleet.js';

/**
 * The operations endpoints of every service (`/health/live`, `/health/ready`,
 * `/metrics` on its management port) and what readiness says when the
 * infrastructure under the fleet goes away and comes back.
 */

// Readiness checks wait up to 2 s each for a dependency that went away.
jest.setTimeout(30_000);

let f: TestFleet;
const replacements: ReplacementServer[] = [];

beforeAll(async () => {
  f = await startTestFleet();
}, 120_000);

afterAll(async () => {
  await f?.stop();
  await Promise.all(replacements.map((r) => r.stop()));
}, 60_000);

/** Which dependencies each service's readiness must cover. */
const USES_REDIS: readonly ServiceName[] = ['gateway', 'authn'];
const HAS_NO_DATABASE: readonly ServiceName[] = ['gateway'];

const get = (service: ServiceName, path: string) => fetch(managementUrl(f, service, path), { signal: AbortSignal.timeout(5000) });

/** Waits until a service's readiness answers with the status wanted, and returns that answer. */
function readyBecomes(service: ServiceName, status: 200 | 503, timeoutMs = 15_000) {
  return waitFor(`${service} /health/ready to answer ${status}`, async () => {
    const r = await readiness(f, service);
    return r?.status === status ? r : null;
  }, timeoutMs, 100);
}

describe('every service', () => {
  it('runs all eight services of the fleet, each with its own management port', () => {
    expect(f.processes.map((p) => p.name).sort()).toEqual([...SERVICE_NAMES].sort());
    expect(new Set(f.processes.map((p) => p.managementPort)).size).toBe(SERVICE_NAMES.length);
  });

  it.each([...SERVICE_NAMES])('%s is live', async (service) => {
    const res = await get(service, '/health/live');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'live' });
  });

  it.each([...SERVICE_NAMES])('%s is ready, checking the dependencies it uses', async (service) => {
    const r = await readiness(f, service);
    expect(r?.status).toBe(200);
    expect(r?.body.status).toBe('ready');
    const checks = r?.body.checks ?? {};
    for (const c of Object.values(checks)) expect(c.status).toBe('up');
    const names = Object.keys(checks);
    expect(names).toContain('nats');
    if (USES_REDIS.includes(service)) expect(names).toContain('redis');
    else expect(names).not.toContain('redis');
    if (HAS_NO_DATABASE.includes(service)) expect(names).not.toContain('postgres');
    else expect(names).toContain('postgres');
  });

  it.each([...SERVICE_NAMES])('%s serves Prometheus metrics labelled with its own name', async (service) => {
    const res = await get(service, '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    const samples = text.split('\n').filter((l) => l.length > 0 && !l.startsWith('#'));
    expect(samples.length).toBeGreaterThan(0);
    // Every sample is `name{labels} value` with a number for value.
    for (const s of samples) expect(s).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? -?(?:[0-9.e+-]+|NaN|\+Inf|-Inf)$/);
    expect(samples.some((s) => s.startsWith('musubi_'))).toBe(true);
    expect(text).toMatch(/^# TYPE musubi_\w+ (counter|gauge|histogram|summary)$/m);
    const labelled = samples.filter((s) => s.includes('service="'));
    expect(labelled.length).toBeGreaterThan(0);
    expect(labelled.every((s) => s.includes(`service="${service}"`))).toBe(true);
  });

  it('counts the gateway’s requests in its metrics', async () => {
    expect((await operatorFetch(f, '/api/v1/tenants')).status).toBe(200);
    const text = await (await get('gateway', '/metrics')).text();
    expect(text).toMatch(/^musubi_http_request_seconds_count\{[^}]*route="\/api\/v1\/tenants"[^}]*status="200"[^}]*\} [1-9]\d*$/m);
    // The request reached directory over the bus, and directory counted it.
    const dir = await (await get('directory', '/metrics')).text();
    expect(dir).toMatch(/^musubi_bus_handled_seconds_count\{[^}]*subject="musubi\.directory\.tenant\.list\.v1"[^}]*\} [1-9]\d*$/m);
  });

  it('answers only GET and HEAD on the management port, and 404 elsewhere', async () => {
    const post = await fetch(managementUrl(f, 'directory', '/health/ready'), { method: 'POST' });
    expect(post.status).toBe(405);
    const unknown = await get('directory', '/admin');
    expect(unknown.status).toBe(404);
  });
});

describe('when Redis goes away', () => {
  it('makes gateway and authn not ready (still live) while directory stays ready, and recovers when Redis is back', async () => {
    const port = f.redis.port;
    await f.redis.stop();

    for (const service of USES_REDIS) {
      const r = await readyBecomes(service, 503);
      expect(r.body.status).toBe('not_ready');
      expect(r.body.checks['redis']?.status).toBe('down');
      expect(r.body.checks['nats']?.status).toBe('up');
      expect((await get(service, '/health/live')).status).toBe(200);
    }
    for (const service of SERVICE_NAMES.filter((s) => !USES_REDIS.includes(s))) {
      expect({ service, status: (await readiness(f, service))?.status }).toEqual({ service, status: 200 });
    }
    // The gateway's public health says so too, without details.
    const pub = await fetch(`${f.gatewayUrl}/health`);
    expect(pub.status).toBe(503);
    expect(await pub.json()).toEqual({ status: 'unavailable' });
    // What does not need Redis still works.
    expect((await operatorFetch(f, '/api/v1/tenants')).status).toBe(200);

    replacements.push(await startRedisOnPort(port));
    for (const service of USES_REDIS) {
      const r = await readyBecomes(service, 200, 20_000);
      expect(r.body.checks['redis']?.status).toBe('up');
    }
    expect((await fetch(`${f.gatewayUrl}/health`)).status).toBe(200);
  }, 60_000);
});

// Last in the file: it takes the bus away from the whole fleet.
describe('when NATS goes away', () => {
  it('makes every service not ready (still live), and ready again once NATS is back', async () => {
    const port = f.nats.port;
    await f.nats.stop();

    await Promise.all(
      SERVICE_NAMES.map(async (service) => {
        const r = await readyBecomes(service, 503);
        expect({ service, nats: r.body.checks['nats']?.status }).toEqual({ service, nats: 'down' });
        expect((await get(service, '/health/live')).status).toBe(200);
      }),
    );
    // The gateway cannot reach directory: a clean 503, not a hang or a 500.
    const res = await operatorFetch(f, '/api/v1/tenants', { signal: AbortSignal.timeout(10_000) });
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);

    // A new NATS on the same port: the services reconnect on their own.
    replacements.push(await startNatsOnPort(port));
    await Promise.all(SERVICE_NAMES.map((service) => readyBecomes(service, 200, 30_000)));
    const back = await waitFor('the admin API to answer through the bus again', async () => (await operatorFetch(f, '/api/v1/tenants')).status === 200, 15_000, 200);
    expect(back).toBe(true);

    // The new server has no JetStream store: the producer recreates its stream and the
    // consumer binds again, so an event committed now still reaches the audit trail.
    const created = await operatorFetch(f, '/api/v1/tenants', { method: 'POST', body: JSON.stringify({ slug: 'after-nats', displayName: 'After NATS' }) });
    expect(created.status).toBe(201);
    const tenant = (await created.json()) as { id: string };
    const events = await waitFor(
      'the event in the audit trail',
      async () => {
        const r = await operatorFetch(f, `/api/v1/tenants/${tenant.id}/audit-events`);
        // (The operator's own reads are recorded in the trail too; they are not what this waits for.)
        const items = r.status === 200 ? ((await r.json()) as { items: Array<{ type: string }> }).items.filter((e) => !e.type.startsWith('musubi.audit.')) : [];
        return items.length > 0 ? items : null;
      },
      30_000,
      250,
    );
    expect(events.map((e) => e.type)).toEqual(['musubi.directory.tenant.created.v1']);
  }, 90_000);
});
