import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { MigrationInterface, QueryRunner, DataSource } from 'typeorm';
import { streamNameOf, type CallContext, type EventEnvelope, type EventSubject } from '@musubi/contracts';
import { JetStreamPublisher, OutboxRelay, OutboxWriter, connectNats, ensureStream, type NatsConnection } from '@musubi/platform/bus';
import { UnitOfWork, createDataSource, createOutboxTable, dropOutboxTable, managerOf } from '@musubi/platform/db';
import { runWithContext } from '@musubi/platform/logging';
import { captureLogs, createTestDatabase, startNatsServer, waitFor, type PrivateServer, type TestDatabase } from '@musubi/platform/testing';
import { TENANT, tenantView } from './fixtures.js';

// The transactional outbox against real Postgres (LISTEN/NOTIFY included) and a
// private JetStream: an event exists if and only if its transaction committed,
// reaches the stream once, and leaves the outbox when JetStream acknowledged it.

const SCHEMA = 'bus_outbox';
const CREATED = 'musubi.directory.tenant.created.v1';
const STREAM = streamNameOf('directory');
const USER = '0191d5a4-6c1e-7a2b-8c3d-aaaaaaaaaaaa';
/** Far longer than any wait here: only a NOTIFY can wake the relay in time. */
const NO_POLL = 60_000;

class BusOutboxTest1714521600000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await createOutboxTable(q, SCHEMA);
  }
  async down(q: QueryRunner): Promise<void> {
    await dropOutboxTable(q, SCHEMA);
  }
}


const logs = captureLogs('directory');
let db: TestDatabase;
let ds: DataSource;
let nats: PrivateServer;
let nc: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;
let uow: UnitOfWork;
const writer = new OutboxWriter('directory', SCHEMA);
const relays: OutboxRelay[] = [];

const outboxIds = async (): Promise<string[]> => (await ds.query<Array<{ id: string }>>(`SELECT id FROM "${SCHEMA}".outbox ORDER BY seq`)).map((r) => r.id);
const streamCount = async (): Promise<number> => (await jsm.streams.info(STREAM)).state.messages;

/** The stored message of an event, found by its id (the Nats-Msg-Id header). */
async function storedEvent(id: string): Promise<{ msgId: string; envelope: EventEnvelope } | null> {
  const { state } = await jsm.streams.info(STREAM);
  for (let seq = state.last_seq; seq >= state.first_seq && seq > 0; seq--) {
    const m = await jsm.streams.getMessage(STREAM, { seq }).catch(() => null);
    if (m?.header.get('Nats-Msg-Id') === id) return { msgId: id, envelope: m.json<EventEnvelope>() };
  }
  return null;
}

async function appendCommitted(id = randomUUID()): Promise<EventEnvelope> {
  return uow.run((tx) => writer.append(tx, CREATED, { tenant: tenantView(id) }));
}

async function startRelay(client: JetStreamClient = js): Promise<OutboxRelay> {
  const relay = new OutboxRelay(ds, client, { schema: SCHEMA, logger: logs.logger, listenUrl: db.urlFor(SCHEMA), pollMs: NO_POLL });
  relays.push(relay);
  await relay.start();
  return relay;
}

beforeAll(async () => {
  [db, nats] = await Promise.all([createTestDatabase([{ schema: SCHEMA, migrations: [BusOutboxTest1714521600000] }]), startNatsServer()]);
  ds = createDataSource({ url: db.urlFor(SCHEMA), schema: SCHEMA, entities: [], migrations: [], poolSize: 4, applicationName: 'bus-outbox-test' });
  await ds.initialize();
  uow = new UnitOfWork(ds);
  nc = await connectNats({ servers: [nats.url], name: 'directory-client', logger: logs.logger });
  js = jetstream(nc);
  jsm = await jetstreamManager(nc);
  await ensureStream(jsm, 'directory', { replicas: 1 });
});

afterAll(async () => {
  for (const r of relays) await r.stop();
  if (ds?.isInitialized) await ds.destroy();
  await nc?.close();
  await nats?.stop();
  await db?.drop();
});

describe('OutboxWriter.append', () => {
  it('writes inside the transaction, so a unit of work that throws leaves no event', async () => {
    let inside: string[] = [];
    await expect(
      uow.run(async (tx) => {
        const e = await writer.append(tx, CREATED, { tenant: tenantView(randomUUID()) });
        inside = (await managerOf(tx).query<Array<{ id: string }>>(`SELECT id FROM "${SCHEMA}".outbox`)).map((r) => r.id);
        expect(inside).toEqual([e.id]);
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    expect(inside).toHaveLength(1);
    expect(await outboxIds()).toEqual([]);
  });

  it.each([
    ['a payload that breaks its contract', CREATED, { tenant: { ...tenantView(TENANT), slug: 'Not A Slug' } }, /does not match its contract.*\/tenant\/slug/],
    ['a payload with an unknown field', CREATED, { tenant: tenantView(TENANT), extra: true }, /does not match its contract.*\/extra/],
    ['an event another service owns', 'musubi.authn.password.changed.v1', { userId: USER }, /directory may not emit musubi\.authn\.password\.changed\.v1/],
    ['a request/reply subject', 'musubi.directory.tenant.get.v1', { id: TENANT }, /directory may not emit musubi\.directory\.tenant\.get\.v1/],
    ['a subject not in the contracts', 'musubi.directory.tenant.exploded.v1', {}, /directory may not emit/],
  ])('refuses %s and writes nothing', async (_what, subject, payload, message) => {
    await expect(uow.run((tx) => writer.append(tx, subject as EventSubject, payload as never))).rejects.toThrow(message);
    expect(await outboxIds()).toEqual([]);
  });

  it('stamps the envelope with the call context, or the given tenant and actor', async () => {
    const ctx: CallContext = { requestId: 'req-outbox-1', tenantId: TENANT, caller: { kind: 'user', userId: USER, tenantId: TENANT, roles: ['auditor'] } };
    const id = randomUUID();
    const e = await runWithContext(ctx, () => uow.run((tx) => writer.append(tx, CREATED, { tenant: tenantView(id) })));
    expect(e).toMatchObject({ subject: CREATED, tenantId: TENANT, requestId: 'req-outbox-1', actor: ctx.caller, payload: { tenant: tenantView(id) } });
    expect(e.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(Date.parse(e.occurredAt)).toBeGreaterThan(Date.now() - 60_000);

    const own = await uow.run((tx) => writer.append(tx, CREATED, { tenant: tenantView(id) }, { tenantId: null, actor: { kind: 'operator', id: 'ops' } }));
    expect(own).toMatchObject({ tenantId: null, requestId: null, actor: { kind: 'operator', id: 'ops' } });
    const outside = await appendCommitted();
    expect(outside).toMatchObject({ tenantId: null, requestId: null, actor: { kind: 'service', service: 'directory' } });

    const stored = await ds.query<Array<{ envelope: unknown }>>(`SELECT envelope FROM "${SCHEMA}".outbox WHERE id = $1`, [e.id]);
    expect(stored[0]?.envelope).toEqual(e);
    await ds.query(`DELETE FROM "${SCHEMA}".outbox`);
  });
});

describe('OutboxWriter.record', () => {
  it('stores an event on its own, committed at once, and checks it as append does', async () => {
    const alone = new OutboxWriter('directory', SCHEMA, ds);
    const e = await alone.record(CREATED, { tenant: tenantView(randomUUID()) }, { tenantId: TENANT });
    // Visible to any other connection straight away: no transaction is left open.
    const other = await ds.query<Array<{ envelope: unknown }>>(`SELECT envelope FROM "${SCHEMA}".outbox WHERE id = $1`, [e.id]);
    expect(other[0]?.envelope).toEqual(e);
    await expect(alone.record('musubi.authn.password.changed.v1', { userId: USER })).rejects.toThrow(/directory may not emit/);
    await expect(alone.record(CREATED, { tenant: tenantView(TENANT), extra: true } as never)).rejects.toThrow(/does not match its contract/);
    expect(await outboxIds()).toEqual([e.id]);
    await expect(writer.record(CREATED, { tenant: tenantView(TENANT) })).rejects.toThrow(/without a data source/);
    await ds.query(`DELETE FROM "${SCHEMA}".outbox`);
  });
});

describe('JetStreamPublisher', () => {
  it('publishes with the message id, is told of a duplicate, and names a subject no stream captures', async () => {
    const publisher = new JetStreamPublisher(nc, '_INBOX_directory');
    try {
      const id = randomUUID();
      const data = JSON.stringify({ id });
      const first = await publisher.publish(CREATED, data, { msgID: id, timeout: 5000 });
      expect(first).toMatchObject({ stream: STREAM });
      expect(first.duplicate).toBeUndefined();
      expect(await publisher.publish(CREATED, data, { msgID: id, timeout: 5000 })).toMatchObject({ stream: STREAM, seq: first.seq, duplicate: true });
      expect((await storedEvent(id))?.msgId).toBe(id);
      await expect(publisher.publish('musubi.nobody.thing.happened.v1', data, { msgID: randomUUID(), timeout: 5000 })).rejects.toThrow(/no responders/);
    } finally {
      publisher.close();
    }
  });
});

describe('OutboxRelay', () => {
  it('keeps the rows when JetStream does not acknowledge them', async () => {
    const e = await appendCommitted();
    const failing = { publish: () => Promise.reject(new Error('no JetStream')) } as unknown as JetStreamClient;
    const relay = new OutboxRelay(ds, failing, { schema: SCHEMA, logger: logs.logger, listenUrl: db.urlFor(SCHEMA) });
    await expect(relay.relayBatch()).rejects.toThrow('no JetStream');
    expect(await outboxIds()).toEqual([e.id]);
  });

  it('publishes committed events with Nats-Msg-Id = event id, then deletes them', async () => {
    const [waiting] = await outboxIds();
    const before = await streamCount();
    await startRelay();
    await waitFor('the outbox to empty', async () => (await outboxIds()).length === 0, 5000);
    expect(await streamCount()).toBe(before + 1);
    const stored = await storedEvent(waiting ?? '');
    expect(stored?.msgId).toBe(waiting);
    expect(stored?.envelope).toMatchObject({ id: waiting, subject: CREATED });
  });

  it('wakes on NOTIFY: an event committed while the relay idles is published long before the next poll', async () => {
    const e = await appendCommitted();
    const stored = await waitFor('the event on the stream', () => storedEvent(e.id), 5000);
    expect(stored.envelope).toEqual(e);
    await waitFor('the outbox to empty', async () => (await outboxIds()).length === 0, 5000);
  });

  it('leaves one message in the stream when an event is published twice (a crash before the delete)', async () => {
    const e = await appendCommitted();
    await waitFor('the event on the stream', () => storedEvent(e.id), 5000);
    await waitFor('the outbox to empty', async () => (await outboxIds()).length === 0, 5000);
    const count = await streamCount();

    // As if the relay died after publishing and before deleting: the row is back.
    await ds.query(`INSERT INTO "${SCHEMA}".outbox (id, subject, envelope) VALUES ($1, $2, $3)`, [e.id, CREATED, JSON.stringify(e)]);
    await waitFor('the outbox to empty again', async () => (await outboxIds()).length === 0, 5000);
    expect(await streamCount()).toBe(count);

    const again = await js.publish(CREATED, JSON.stringify(e), { msgID: e.id });
    expect(again.duplicate).toBe(true);
    expect(await streamCount()).toBe(count);
  });

  it('does not lose a NOTIFY that arrives while a round is publishing', async () => {
    for (const r of relays.splice(0)) await r.stop();
    let publishing: () => void = () => undefined;
    const slow = {
      publish: async (...args: Parameters<JetStreamClient['publish']>) => {
        publishing();
        await sleep(300);
        return js.publish(...args);
      },
    } as unknown as JetStreamClient;
    await startRelay(slow);
    const firstPublishing = new Promise<void>((resolve) => (publishing = resolve));
    const first = await appendCommitted();
    await firstPublishing;
    const second = await appendCommitted();
    await waitFor('the first event on the stream', () => storedEvent(first.id), 3000);
    await waitFor('the second event on the stream', () => storedEvent(second.id), 3000);
  }, 10_000);
});
