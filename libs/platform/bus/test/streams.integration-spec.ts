import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { jetstream, jetstreamManager, StorageType, type JetStreamManager } from '@nats-io/jetstream';
import { NoRespondersError, RequestError, nanos } from '@nats-io/transport-node';
import { SUBJECTS, streamNameOf, type ServiceName, type SubjectDefinition } from '@musubi/contracts';
import { BusClient, connectNats, ensureStream, eventSubjectsOf, type NatsConnection } from '@musubi/platform/bus';
import { captureLogs, startNatsServer, type PrivateServer } from '@musubi/platform/testing';

// ensureStream against a private JetStream: the owner's stream captures its events
// and nothing else, because a stream that captured a request would answer it.

const all = Object.entries(SUBJECTS as Record<string, SubjectDefinition>);
const subjectsOf = (owner: ServiceName, kind: SubjectDefinition['kind']) =>
  all
    .filter(([, d]) => d.owner === owner && d.kind === kind)
    .map(([s]) => s)
    .sort();

let nats: PrivateServer;
let nc: NatsConnection;
let jsm: JetStreamManager;
let bus: BusClient;

/** What a bare core-NATS request gets: 'no-responders', or a reply. */
async function probe(subject: string): Promise<'no-responders' | { reply: unknown }> {
  try {
    return { reply: (await nc.request(subject, '{}', { timeout: 2000 })).json() };
  } catch (err) {
    if (err instanceof NoRespondersError || (err instanceof RequestError && err.isNoResponders())) return 'no-responders';
    throw err;
  }
}

beforeAll(async () => {
  nats = await startNatsServer();
  nc = await connectNats({ servers: [nats.url], name: 'gateway-client', logger: captureLogs().logger });
  jsm = await jetstreamManager(nc);
  bus = new BusClient(nc, 'gateway', 2000);
});

afterAll(async () => {
  await nc?.close();
  await nats?.stop();
});

describe('ensureStream', () => {
  it("captures exactly the owner's event subjects", async () => {
    expect(subjectsOf('directory', 'event')).toEqual(expect.arrayContaining(['musubi.directory.tenant.created.v1', 'musubi.directory.user.created.v1']));
    expect(subjectsOf('directory', 'event').every((s) => s.startsWith('musubi.directory.'))).toBe(true);
    expect(eventSubjectsOf('directory')).toEqual(subjectsOf('directory', 'event'));

    expect(await ensureStream(jsm, 'directory', { replicas: 1 })).toBe(streamNameOf('directory'));
    const { config } = await jsm.streams.info(streamNameOf('directory'));
    expect([...(config.subjects ?? [])].sort()).toEqual(subjectsOf('directory', 'event'));
    expect(config).toMatchObject({ num_replicas: 1, storage: StorageType.File, duplicate_window: nanos(10 * 60 * 1000), max_age: nanos(7 * 24 * 3600 * 1000) });
  });

  it('never captures a request/reply subject: a request nobody answers still gets no-responders', async () => {
    const rpcs = subjectsOf('directory', 'rpc');
    expect(rpcs).toContain('musubi.directory.tenant.get.v1');
    for (const subject of rpcs) expect(await probe(subject)).toBe('no-responders');
    await expect(bus.request('musubi.directory.tenant.get.v1', { id: '0191d5a4-6c1e-7a2b-8c3d-4e5f60718293' })).rejects.toMatchObject({ code: 'service_unavailable' });
    // The events do land in the stream.
    const ack = await jetstream(nc).publish('musubi.directory.tenant.created.v1', '{}');
    expect(ack.stream).toBe(streamNameOf('directory'));
  });

  it('narrows a stream that was made too wide, so requests get no-responders again', async () => {
    const name = streamNameOf('authn');
    await jsm.streams.add({ name, subjects: ['musubi.authn.>'] });
    // The danger: JetStream acknowledges the request as if it were the service.
    expect(await probe('musubi.authn.session.get.v1')).toMatchObject({ reply: { stream: name } });

    expect(await ensureStream(jsm, 'authn', { replicas: 1 })).toBe(name);
    const { config } = await jsm.streams.info(name);
    expect([...(config.subjects ?? [])].sort()).toEqual(subjectsOf('authn', 'event'));
    for (const subject of subjectsOf('authn', 'rpc')) expect(await probe(subject)).toBe('no-responders');
  });

  it('is idempotent, and several services starting at once end with one stream', async () => {
    await jsm.streams.delete(streamNameOf('directory'));
    const names = await Promise.all([1, 2, 3].map(() => ensureStream(jsm, 'directory', { replicas: 1 })));
    expect(names).toEqual([1, 2, 3].map(() => streamNameOf('directory')));
    expect(await ensureStream(jsm, 'directory', { replicas: 1 })).toBe(streamNameOf('directory'));
    const streams = await jsm.streams.names().next();
    expect(streams.filter((s) => s === streamNameOf('directory'))).toHaveLength(1);
  });

  it('makes no stream for a service that emits no events', async () => {
    expect(subjectsOf('audit', 'event')).toEqual([]);
    expect(await ensureStream(jsm, 'audit', { replicas: 1 })).toBeNull();
    expect(await jsm.streams.names().next()).not.toContain(streamNameOf('audit'));
  });
});
