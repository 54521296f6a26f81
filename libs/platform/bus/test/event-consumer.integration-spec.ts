import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { streamNameOf, type EventEnvelope, type EventSubject, type ServiceName } from '@musubi/contracts';
import { EventConsumer, connectNats, ensureStream, uuidv7, type EventConsumerOptions, type NatsConnection } from '@musubi/platform/bus';
import { captureLogs, startNatsServer, waitFor, type PrivateServer } from '@musubi/platform/testing';
import { TENANT, tenantView, userView } from './fixtures.js';

// EventConsumer (durable pull consumer, explicit acks) against a private JetStream.
// The producer and the consumer have connections of their own, as two services would.

const STREAM = streamNameOf('directory');
const TENANT_CREATED = 'musubi.directory.tenant.created.v1';
const USER_CREATED = 'musubi.directory.user.created.v1';



function envelope(subject: EventSubject = TENANT_CREATED, payload?: unknown): EventEnvelope {
  const defaults: Record<string, unknown> = {
    [TENANT_CREATED]: { tenant: tenantView(randomUUID()) },
    [USER_CREATED]: { user: userView(randomUUID()) },
    'musubi.authn.password.changed.v1': { userId: randomUUID() },
  };
  return {
    id: uuidv7(),
    subject,
    occurredAt: new Date().toISOString(),
    tenantId: TENANT,
    requestId: 'req-event',
    actor: { kind: 'service', service: subject.split('.')[1] as ServiceName },
    payload: payload ?? defaults[subject],
  };
}

const logs = captureLogs('audit');
let nats: PrivateServer;
let producer: NatsConnection;
let consumerNc: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;
let consumerJs: JetStreamClient;
let consumerJsm: JetStreamManager;
const running: EventConsumer[] = [];
const durables = new Set<string>();

const publish = (e: EventEnvelope, subject: string = e.subject) => js.publish(subject, JSON.stringify(e), { msgID: e.id });

function consumer(service: ServiceName, handle: EventConsumerOptions['handle'], opts: Partial<EventConsumerOptions> = {}): EventConsumer {
  const c = new EventConsumer(consumerJs, consumerJsm, { service, from: 'directory', handle, logger: logs.logger, ackWaitMs: 1000, ...opts });
  running.push(c);
  if ((opts.from ?? 'directory') === 'directory') durables.add(service);
  return c;
}

async function started(c: EventConsumer): Promise<EventConsumer> {
  await c.start();
  await c.bound;
  return c;
}

const logged = (msg: string) => logs.lines().filter((l) => l['msg'] === msg);

beforeAll(async () => {
  nats = await startNatsServer();
  producer = await connectNats({ servers: [nats.url], name: 'directory-client', logger: logs.logger });
  consumerNc = await connectNats({ servers: [nats.url], name: 'audit-client', logger: logs.logger });
  js = jetstream(producer);
  jsm = await jetstreamManager(producer);
  consumerJs = jetstream(consumerNc);
  consumerJsm = await jetstreamManager(consumerNc);
  await ensureStream(jsm, 'directory', { replicas: 1 });
});

beforeEach(async () => {
  await jsm.streams.purge(STREAM);
});

afterEach(async () => {
  for (const c of running.splice(0)) await c.stop();
  for (const d of durables) await jsm.consumers.delete(STREAM, d).catch(() => undefined);
  durables.clear();
});

afterAll(async () => {
  await consumerNc?.close();
  await producer?.close();
  await nats?.stop();
});

describe('EventConsumer', () => {
  it('delivers, in order, the events published while no consumer ran, and not again after a restart', async () => {
    const events = [envelope(), envelope(USER_CREATED), envelope()];
    for (const e of events) await publish(e);

    const got: EventEnvelope[] = [];
    const first = await started(consumer('audit', async (batch) => void got.push(...batch)));
    await waitFor('three events', async () => got.length >= 3, 5000);
    expect(got).toEqual(events);
    await first.stop();

    const later = envelope();
    await publish(later);
    const again: string[] = [];
    await started(consumer('audit', async (batch) => void again.push(...batch.map((e) => e.id))));
    await waitFor('the new event', async () => again.includes(later.id), 5000);
    await sleep(200);
    expect(again).toEqual([later.id]);
  });

  it('hands over the tail of a burst at once, not when the pull expires', async () => {
    const events = Array.from({ length: 23 }, () => envelope());
    const got: Array<{ ids: string[]; at: number }> = [];
    await started(consumer('billing', async (batch) => void got.push({ ids: batch.map((e) => e.id), at: Date.now() }), { maxBatch: 10 }));
    const sent = Date.now();
    await Promise.all(events.map((e) => publish(e)));
    await waitFor('every event', async () => got.flatMap((g) => g.ids).length >= events.length, 5000);
    expect(got.flatMap((g) => g.ids)).toEqual(events.map((e) => e.id));
    expect(got.every((g) => g.ids.length <= 10)).toBe(true);
    // The last partial batch came within moments of the burst, not after the pull's expiry (30 s).
    expect(got[got.length - 1]!.at - sent).toBeLessThan(3000);
  });

  it('redelivers an event whose handler failed, and an idempotent handler records it once', async () => {
    const e = envelope();
    await publish(e);
    const attempts: string[] = [];
    const records = new Set<string>();
    await started(
      consumer('billing', async (batch) => {
        for (const ev of batch) {
          attempts.push(ev.id);
          records.add(ev.id); // keyed by event id: a redelivery changes nothing
          if (attempts.length === 1) throw new Error('the commit failed');
        }
      }),
    );
    await waitFor('a second delivery', async () => attempts.length >= 2, 5000);
    await waitFor('the event acknowledged', async () => (await jsm.consumers.info(STREAM, 'billing')).num_ack_pending === 0, 3000);
    expect(attempts).toEqual([e.id, e.id]);
    expect([...records]).toEqual([e.id]);
    expect(logged('event handling failed; will retry')).toEqual(expect.arrayContaining([expect.objectContaining({ eventId: e.id, deliveries: 1 })]));
  });

  it('does not let one failing event hold up the others of its batch', async () => {
    const events = [envelope(), envelope(), envelope()];
    const poison = events[1]!.id;
    for (const e of events) await publish(e);
    const done: string[] = [];
    let failures = 0;
    await started(
      consumer('mfa', async (batch) => {
        if (batch.some((e) => e.id === poison) && failures++ === 0) throw new Error('transient');
        done.push(...batch.map((e) => e.id));
      }),
    );
    await waitFor('every event handled', async () => events.every((e) => done.includes(e.id)), 5000);
    expect(new Set(done)).toEqual(new Set(events.map((e) => e.id)));
  });

  it('terminates events that break their contract, without blocking the good ones behind them', async () => {
    const good1 = envelope();
    const good2 = envelope();
    const badPayload = envelope(TENANT_CREATED, { tenant: { id: 'not-a-tenant' } });
    const wrongSubject = envelope(USER_CREATED);
    const noEnvelope = { ...envelope(), actor: { kind: 'root' } } as unknown as EventEnvelope;
    await publish(good1);
    await publish(badPayload);
    await js.publish(TENANT_CREATED, 'this is not JSON', { msgID: randomUUID() });
    await publish(wrongSubject, TENANT_CREATED);
    await publish(noEnvelope);
    await publish(good2);

    const got: string[] = [];
    await started(consumer('keys', async (batch) => void got.push(...batch.map((e) => e.id)), { ackWaitMs: 500 }));
    await waitFor('the good events', async () => got.includes(good2.id), 5000);
    // Well past ack_wait: a bad event that was merely left unacknowledged would be back by now.
    await sleep(1500);
    expect(got).toEqual([good1.id, good2.id]);
    const info = await jsm.consumers.info(STREAM, 'keys');
    expect(info).toMatchObject({ num_ack_pending: 0, num_pending: 0, num_redelivered: 0 });
    expect(logged('rejected an event that does not match its contract')).toHaveLength(4);
  });

  it('loses nothing when stopped while events flow: what was not acknowledged comes to the next start', async () => {
    const events = Array.from({ length: 30 }, () => envelope());
    for (const e of events) await publish(e);
    const handled = new Set<string>();
    let inHandler = 0;
    const handle = async (batch: readonly EventEnvelope[]) => {
      inHandler++;
      await sleep(100);
      batch.forEach((e) => handled.add(e.id));
      inHandler--;
    };

    const first = await started(consumer('federation', handle, { maxBatch: 5 }));
    // Stop in the middle of the first batch, with more events already pulled behind it.
    await waitFor('the first batch in the handler', async () => inHandler > 0, 5000, 5);
    await first.stop();
    expect(inHandler).toBe(0); // the batch being handled finished before stop() returned
    const atStop = handled.size;
    expect(atStop).toBeLessThan(events.length);

    await started(consumer('federation', handle, { maxBatch: 5 }));
    await waitFor('every event', async () => handled.size === events.length, 8000);
    expect([...handled].sort()).toEqual(events.map((e) => e.id).sort());
  }, 15_000);

  it('receives only the subjects it asked for', async () => {
    const tenant = envelope();
    const user = envelope(USER_CREATED);
    await publish(tenant);
    await publish(user);
    const got: string[] = [];
    await started(consumer('gateway', async (batch) => void got.push(...batch.map((e) => e.subject)), { subjects: [USER_CREATED] }));
    await waitFor('the user event', async () => got.length > 0, 5000);
    await sleep(200);
    expect(got).toEqual([USER_CREATED]);
  });

  it('waits for a stream that does not exist yet, and binds once its owner creates it', async () => {
    const got: string[] = [];
    const c = consumer('directory', async (batch) => void got.push(...batch.map((e) => e.id)), { from: 'authn' });
    await c.start();
    let bound = false;
    void c.bound.then(() => (bound = true));
    await waitFor('the consumer to say it waits', async () => logged('waiting for the stream (its owner creates it when it starts)').length > 0, 3000);
    expect(bound).toBe(false);

    await ensureStream(jsm, 'authn', { replicas: 1 });
    const e = envelope('musubi.authn.password.changed.v1');
    await publish(e);
    await waitFor('the consumer to bind', async () => bound, 5000);
    await waitFor('the event', async () => got.includes(e.id), 5000);
    expect(got).toEqual([e.id]);
  });

  it('binds again when its stream vanishes and is created anew, and receives what comes next', async () => {
    const got: string[] = [];
    await started(consumer('billing', async (batch) => void got.push(...batch.map((e) => e.id))));
    const first = envelope();
    await publish(first);
    await waitFor('the first event', async () => got.includes(first.id), 5000);

    // What a NATS server that came back without its store looks like to the consumer.
    await jsm.streams.delete(STREAM);
    await waitFor('the consumer to notice', async () => logged('the pull ended (consumer or stream gone); binding again').length > 0, 5000);
    await ensureStream(jsm, 'directory', { replicas: 1 });
    const second = envelope();
    await publish(second);
    await waitFor('the event after the stream came back', async () => got.includes(second.id), 10_000);
    expect(got).toEqual([first.id, second.id]);
  });
});
