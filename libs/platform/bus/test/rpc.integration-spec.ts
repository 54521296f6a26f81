import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Inject, type DynamicModule, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MessagePattern } from '@nestjs/microservices';
import { headers as natsHeaders, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';
import { CONTEXT_HEADERS, type CallContext, type ReplyEnvelope, type RequestOf, type ServiceName, type TenantView, type UserView } from '@musubi/contracts';
import { BusClient, BusServer, Handles, RpcErrorFilter, connectNats, encodeContext } from '@musubi/platform/bus';
import { DomainError, RemoteError } from '@musubi/platform/errors';
import { NestPinoLogger, currentContext, runWithContext } from '@musubi/platform/logging';
import { captureLogs, startNatsServer, waitFor, type CapturedLogs, type PrivateServer } from '@musubi/platform/testing';
import { STAMP, TENANT, tenantView } from './fixtures.js';

// BusServer as Nest's custom transport (exactly as startService wires it) answering
// a test controller, and BusClient asking from another connection, over a private NATS.

const GET = 'musubi.directory.tenant.get.v1';
const USER = '0191d5a4-6c1e-7a2b-8c3d-aaaaaaaaaaaa';
const NOT_FOUND = '0191d5a4-0000-7000-8000-000000000404';
const BOOM = '0191d5a4-0000-7000-8000-000000000500';
const HANG = '0191d5a4-0000-7000-8000-000000000999';


/** What the tenant handler saw, per call. */
const seen: Array<{ id: string; ctx: CallContext; current: CallContext | undefined }> = [];
let releaseHang: () => void = () => undefined;
const logs = captureLogs('directory');

@Controller()
class TenantsTestHandler {
  @Handles(GET)
  async get(req: RequestOf<typeof GET>, ctx: CallContext): Promise<TenantView> {
    seen.push({ id: req.id, ctx, current: currentContext() });
    logs.logger.info({ lookup: req.id }, 'looking up a tenant');
    if (req.id === NOT_FOUND) throw new DomainError('not_found', `No tenant ${req.id}.`, [{ pointer: '/id', detail: 'does not exist' }]);
    if (req.id === BOOM) throw new Error('secret detail');
    if (req.id === HANG) await new Promise<void>((resolve) => (releaseHang = resolve));
    return tenantView(req.id);
  }
}

const SERVER_TAG = 'SERVER_TAG';
const handledBy: Array<{ tag: string; userId: string }> = [];

@Controller()
class UsersTestHandler {
  constructor(@Inject(SERVER_TAG) private readonly tag: string) {}

  @Handles('musubi.directory.user.get.v1')
  async get(req: RequestOf<'musubi.directory.user.get.v1'>): Promise<UserView> {
    handledBy.push({ tag: this.tag, userId: req.userId });
    await sleep(2);
    return {
      id: req.userId,
      tenantId: req.tenantId,
      loginId: 'a@acme.test',
      displayName: this.tag,
      familyName: null,
      givenName: null,
      email: null,
      roles: [],
      status: 'active',
      createdAt: STAMP,
      updatedAt: STAMP,
      version: 1,
    };
  }
}

const SLOW = 'musubi.directory.user.find-by-login-id.v1';
let slowStarted: () => void = () => undefined;

@Controller()
class SlowTestHandler {
  @Handles(SLOW)
  async find(): Promise<{ user: null }> {
    slowStarted();
    await sleep(500);
    return { user: null };
  }
}

@Controller()
class EventAsRpcHandler {
  @MessagePattern('musubi.directory.tenant.created.v1')
  handle(): object {
    return {};
  }
}

@Controller()
class UnknownSubjectHandler {
  @MessagePattern('musubi.directory.tenant.explode.v1')
  handle(): object {
    return {};
  }
}

let nats: PrivateServer;
let clientNc: NatsConnection;
let client: BusClient;
const apps: INestMicroservice[] = [];

const moduleOf = (controllers: DynamicModule['controllers'], providers: DynamicModule['providers'] = []): DynamicModule => ({
  module: class TestRoot {},
  controllers,
  providers,
});

/** A responder of `service`, wired like startService wires one; closed in afterAll unless the test closes it. */
async function startResponder(service: ServiceName, root: DynamicModule, log: CapturedLogs = logs): Promise<INestMicroservice> {
  const server = new BusServer({ service, servers: [nats.url], logger: log.logger, drainTimeoutMs: 5000 });
  const app = await NestFactory.createMicroservice(root, { strategy: server, logger: new NestPinoLogger(log.logger) });
  app.useGlobalFilters(new RpcErrorFilter());
  apps.push(app);
  await app.listen();
  // listen() resolves once the SUBs are written, not once NATS has them: a round trip makes sure.
  await server.connection.flush();
  return app;
}

/** A request published by hand, as a misbehaving client would; returns the parsed reply. */
async function rawRequest(subject: string, body: string, headers?: MsgHdrs): Promise<ReplyEnvelope<unknown>> {
  const msg = await clientNc.request(subject, body, { timeout: 2000, ...(headers ? { headers } : {}) });
  return msg.json<ReplyEnvelope<unknown>>();
}

async function failure(call: Promise<unknown>): Promise<DomainError> {
  try {
    await call;
  } catch (err) {
    if (err instanceof DomainError) return err;
    throw err;
  }
  throw new Error('expected the call to fail');
}

const asGetRequest = (value: unknown) => value as RequestOf<typeof GET>;
const userCtx: CallContext = { requestId: 'req-ctx-1', tenantId: TENANT, caller: { kind: 'user', userId: USER, tenantId: TENANT, roles: [] } };

beforeAll(async () => {
  nats = await startNatsServer();
  clientNc = await connectNats({ servers: [nats.url], name: 'gateway-client', logger: logs.logger, inboxPrefix: '_INBOX_gateway' });
  client = new BusClient(clientNc, 'gateway', 2000);
  await startResponder('directory', moduleOf([TenantsTestHandler]));
});

afterAll(async () => {
  releaseHang();
  for (const app of apps) await app.close().catch(() => undefined);
  await clientNc?.close();
  await nats?.stop();
});

describe('request/reply through BusServer and BusClient', () => {
  it('delivers the typed reply', async () => {
    const id = randomUUID();
    const tenant: TenantView = await client.request(GET, { id });
    expect(tenant).toEqual(tenantView(id));
  });

  it.each([
    ['an unknown field', { id: TENANT, extra: 1 }, [{ pointer: '/extra', detail: 'is not a known field' }]],
    ['a field of the wrong type', { id: 42 }, [{ pointer: '/id', detail: 'must be string' }]],
    ['a malformed UUID', { id: 'tenant-1' }, [{ pointer: '/id', detail: 'must be a valid uuid' }]],
    ['a missing field', {}, [{ pointer: '/id', detail: 'is required' }]],
  ])('refuses a payload with %s before the handler runs', async (_what, payload, details) => {
    const before = seen.length;
    const err = await failure(client.request(GET, asGetRequest(payload)));
    expect(err).toBeInstanceOf(RemoteError);
    expect(err.code).toBe('validation_failed');
    expect(err.details).toEqual(details);
    expect(seen).toHaveLength(before);
  });

  it('refuses a payload that is not JSON before the handler runs', async () => {
    const before = seen.length;
    const reply = await rawRequest(GET, '{"id": "oops', encodeContext(userCtx));
    expect(reply).toEqual({
      ok: false,
      error: { code: 'validation_failed', message: 'The payload is not valid JSON.', details: [{ pointer: '', detail: 'is not valid JSON' }] },
    });
    expect(seen).toHaveLength(before);
  });

  it('passes a domain error to the caller as a RemoteError with its code, message and details', async () => {
    const err = await failure(client.request(GET, { id: NOT_FOUND }));
    expect(err).toBeInstanceOf(RemoteError);
    expect(err).toMatchObject({ code: 'not_found', message: `No tenant ${NOT_FOUND}.`, details: [{ pointer: '/id', detail: 'does not exist' }], subject: GET });
  });

  it('answers an unexpected error with a generic internal error, and logs the detail and stack only', async () => {
    const err = await failure(client.request(GET, { id: BOOM }, userCtx));
    expect(err).toBeInstanceOf(RemoteError);
    expect(err.code).toBe('internal');
    expect(err.message).toBe('An internal error occurred.');

    const raw = await clientNc.request(GET, JSON.stringify({ id: BOOM }), { timeout: 2000, headers: encodeContext(userCtx) });
    expect(raw.json()).toEqual({ ok: false, error: { code: 'internal', message: 'An internal error occurred.' } });
    expect(raw.string()).not.toMatch(/secret|stack|\sat\s|\.ts/);

    const line = logs.lines().find((l) => l['msg'] === 'unhandled error in handler' && (l['err'] as { message?: string }).message === 'secret detail');
    expect(line).toMatchObject({ level: 'error', subject: GET, requestId: 'req-ctx-1', tenantId: TENANT });
    expect((line?.['err'] as { stack: string }).stack).toMatch(/rpc\.integration-spec/);
  });

  it('hands the call context from the headers to the handler, its async context and its log lines', async () => {
    const id = randomUUID();
    await client.request(GET, { id }, userCtx);
    const call = seen.find((s) => s.id === id);
    expect(call?.ctx).toEqual(userCtx);
    expect(call?.current).toEqual(userCtx);
    const line = logs.lines().find((l) => l['lookup'] === id);
    expect(line).toMatchObject({ requestId: 'req-ctx-1', tenantId: TENANT });
  });

  it('sends the current call context when none is given, and its own identity outside any call', async () => {
    const inside = randomUUID();
    await runWithContext(userCtx, () => client.request(GET, { id: inside }));
    expect(seen.find((s) => s.id === inside)?.ctx).toEqual(userCtx);

    const outside = randomUUID();
    await client.request(GET, { id: outside });
    const ctx = seen.find((s) => s.id === outside)?.ctx;
    expect(ctx).toMatchObject({ tenantId: null, caller: { kind: 'service', service: 'gateway' } });
    expect(ctx?.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it.each([
    ['an unknown kind of caller', CONTEXT_HEADERS.caller, '{"kind":"root"}'],
    ['a caller that is not JSON', CONTEXT_HEADERS.caller, 'operator'],
    ['a tenant that is not a UUID', CONTEXT_HEADERS.tenantId, 'acme'],
  ])('refuses a request with %s before the handler runs', async (_what, header, value) => {
    const before = seen.length;
    const h = natsHeaders();
    h.set(CONTEXT_HEADERS.requestId, 'req-bad-header');
    h.set(header, value);
    const reply = await rawRequest(GET, JSON.stringify({ id: TENANT }), h);
    expect(reply).toMatchObject({ ok: false, error: { code: 'validation_failed', details: [{ pointer: `/headers/${header}` }] } });
    expect(seen).toHaveLength(before);
  });
});

describe('failing fast', () => {
  it('fails at once with service_unavailable when nobody answers the subject', async () => {
    const patient = new BusClient(clientNc, 'gateway', 5000);
    const t0 = performance.now();
    const err = await failure(patient.request('musubi.audit.event.list.v1', { tenantId: TENANT }));
    const elapsed = performance.now() - t0;
    expect(err).not.toBeInstanceOf(RemoteError);
    expect(err).toMatchObject({ code: 'service_unavailable', message: 'The audit service is not available.' });
    expect(elapsed).toBeLessThan(2000);
  });

  it('fails with service_unavailable after the configured timeout when the handler never answers', async () => {
    const impatient = new BusClient(clientNc, 'gateway', 300);
    const t0 = performance.now();
    const err = await failure(impatient.request(GET, { id: HANG }));
    const elapsed = performance.now() - t0;
    releaseHang();
    expect(err).toMatchObject({ code: 'service_unavailable', message: 'The directory service did not answer in time.' });
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(1000);
  });

  it('honours a per-call timeout', async () => {
    const t0 = performance.now();
    const err = await failure(client.request(GET, { id: HANG }, undefined, { timeoutMs: 200 }));
    const elapsed = performance.now() - t0;
    releaseHang();
    expect(err).toMatchObject({ code: 'service_unavailable', message: 'The directory service did not answer in time.' });
    expect(elapsed).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(1000);
  });

  it('fails with service_unavailable once its connection is closed, in flight or not', async () => {
    const nc = await connectNats({ servers: [nats.url], name: 'gateway-client-2', logger: logs.logger });
    const closing = new BusClient(nc, 'gateway', 5000);
    const hangs = () => seen.filter((s) => s.id === HANG).length;
    const before = hangs();
    const inFlight = failure(closing.request(GET, { id: HANG }));
    await waitFor('the request in the handler', async () => hangs() > before, 2000, 5);
    await nc.close();
    const t0 = performance.now();
    expect(await inFlight).toMatchObject({ code: 'service_unavailable' });
    expect(performance.now() - t0).toBeLessThan(2000);
    releaseHang();
    const err = await failure(closing.request(GET, { id: TENANT }));
    expect(err).toMatchObject({ code: 'service_unavailable', message: 'The message bus is not available.' });
  });
});

describe('ownership', () => {
  it.each([
    ['a subject another service owns', moduleOf([TenantsTestHandler]), 'audit may not answer musubi.directory.tenant.get.v1: directory owns it'],
    ['an event subject', moduleOf([EventAsRpcHandler]), 'musubi.directory.tenant.created.v1 is not a request/reply subject'],
    ['a subject not in the contracts', moduleOf([UnknownSubjectHandler]), 'musubi.directory.tenant.explode.v1 is not a request/reply subject'],
  ])('refuses to start a server that would answer %s', async (_what, root, message) => {
    const service: ServiceName = message.startsWith('audit') ? 'audit' : 'directory';
    await expect(startResponder(service, root, captureLogs(service))).rejects.toThrow(message);
  });

  it('leaves the owner answering after a refused start', async () => {
    await expect(client.request(GET, { id: TENANT })).resolves.toEqual(tenantView(TENANT));
  });
});

describe('queue group', () => {
  it('shares requests between two servers of the same service and answers each once', async () => {
    await startResponder('directory', moduleOf([UsersTestHandler], [{ provide: SERVER_TAG, useValue: 'a' }]));
    await startResponder('directory', moduleOf([UsersTestHandler], [{ provide: SERVER_TAG, useValue: 'b' }]));
    const ids = Array.from({ length: 50 }, () => randomUUID());
    const replies = await Promise.all(ids.map((userId) => client.request('musubi.directory.user.get.v1', { tenantId: TENANT, userId })));
    expect(replies.map((r) => r.id)).toEqual(ids);
    expect(handledBy).toHaveLength(50);
    expect(new Set(handledBy.map((h) => h.userId)).size).toBe(50);
    const byA = handledBy.filter((h) => h.tag === 'a').length;
    expect(byA).toBeGreaterThan(0);
    expect(byA).toBeLessThan(50);
    expect(replies.filter((r) => r.displayName === 'a')).toHaveLength(byA);
  });
});

describe('drain', () => {
  it('lets an in-flight request finish on close, then takes no more', async () => {
    const app = await startResponder('directory', moduleOf([SlowTestHandler]));
    const started = new Promise<void>((resolve) => (slowStarted = resolve));
    const order: string[] = [];
    const req = { tenantId: TENANT, loginId: 'a@acme.test' };
    const reply = client.request(SLOW, req).then((r) => {
      order.push('replied');
      return r;
    });
    await Promise.race([started, reply]); // a failed request fails here, not by a test timeout
    const closed = app.close().then(() => order.push('closed'));

    // While the slow request drains, a new one finds nobody.
    await sleep(100);
    const during = await failure(client.request(SLOW, req));
    expect(during.code).toBe('service_unavailable');

    await expect(reply).resolves.toEqual({ user: null });
    await closed;
    expect(order).toEqual(['replied', 'closed']);
    const after = await failure(client.request(SLOW, req));
    expect(after).toMatchObject({ code: 'service_unavailable', message: 'The directory service is not available.' });
  });
});
