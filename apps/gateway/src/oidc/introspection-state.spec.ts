import { afterEach, describe, expect, it } from '@jest/globals';
import type { NatsConnection } from '@nats-io/transport-node';
import { INTROSPECTION_FEED_SUBJECT, type IntrospectionFeedMessage, type IntrospectionState as Snapshot } from '@musubi/contracts';
import type { BusClient } from '@musubi/platform/bus';
import { createLogger } from '@musubi/platform/logging';
import { FEED_SILENCE_MS, FeedTracker, IntrospectionState } from './introspection-state.js';

const T = 1_000_000;
const hb = (source: string, seq: number, ready = true) => ({ source, seq, ready });
const ch = (source: string, seq: number) => ({ source, seq, ready: true, change: { k: 'g', id: 'x' } });

/** A tracker that has heard `a` and applied a snapshot asked for after that. */
function synced(): FeedTracker {
  const t = new FeedTracker();
  t.onMessage(hb('a', 0), T);
  expect(t.snapshotApplied(t.snapshotStarted())).toBe(true);
  return t;
}

describe('FeedTracker: when the gateway may trust its copy', () => {
  it('is not current before a snapshot, nor with a snapshot but no live source heard', () => {
    const t = new FeedTracker();
    expect(t.current(T)).toBe(false);
    t.snapshotApplied(t.snapshotStarted());
    expect(t.current(T)).toBe(false);
  });

  it('is current after a snapshot taken once the source was heard, while it keeps numbering in order', () => {
    const t = synced();
    expect(t.current(T)).toBe(true);
    expect(t.onMessage(ch('a', 1), T + 10)).toBe(false);
    expect(t.onMessage(hb('a', 1), T + 20)).toBe(false);
    expect(t.onMessage(ch('a', 2), T + 30)).toBe(false);
    expect(t.current(T + 30)).toBe(true);
  });

  it('stops trusting at a skipped change number, and a snapshot asked for before that does not restore trust', () => {
    const t = synced();
    const early = t.snapshotStarted();
    expect(t.onMessage(ch('a', 2), T + 10)).toBe(true);
    expect(t.current(T + 10)).toBe(false);
    expect(t.snapshotApplied(early)).toBe(false);
    expect(t.current(T + 10)).toBe(false);
    expect(t.snapshotApplied(t.snapshotStarted())).toBe(true);
    expect(t.current(T + 10)).toBe(true);
  });

  it('stops trusting when a heartbeat shows a change it never got', () => {
    const t = synced();
    expect(t.onMessage(hb('a', 1), T + 10)).toBe(true);
    expect(t.current(T + 10)).toBe(false);
  });

  it('stops trusting when every source fell silent, and when a silent source speaks again', () => {
    const t = synced();
    expect(t.current(T + FEED_SILENCE_MS + 1)).toBe(false);
    expect(t.onMessage(hb('a', 0), T + FEED_SILENCE_MS + 1)).toBe(true);
  });

  it('stops trusting at a new source (a new replica, or a reconnected listener that may have missed notifications)', () => {
    const t = synced();
    expect(t.onMessage(hb('b', 0), T + 10)).toBe(true);
    expect(t.current(T + 10)).toBe(false);
  });

  it('does not count a source whose own index is not live', () => {
    const t = new FeedTracker();
    t.onMessage(hb('a', 0, false), T);
    t.snapshotApplied(t.snapshotStarted());
    expect(t.current(T)).toBe(false);
  });
});

// The state against a stand-in bus and NATS connection: the feed is driven by hand.
const TENANT = '0190f5d2-7c1e-7a3b-9c4d-5e6f7a8b9c0d';
const CLIENT = '0190f5d2-7c1e-7a3b-9c4d-5e6f7a8b9c0e';

function harness() {
  let deliver: (m: IntrospectionFeedMessage) => void = () => undefined;
  const calls: string[] = [];
  let snapshot: Snapshot = { ready: true, accessTokenTtlSeconds: 600, revokedTokens: [{ jti: 'old', exp: Date.now() + 60_000 }], revokedGrants: [] };
  let clientExists = true;
  const bus = {
    request: (subject: string) => {
      calls.push(subject);
      if (subject === 'musubi.federation.introspection-state.get.v1') return Promise.resolve(snapshot);
      if (subject === 'musubi.federation.client-credential.get.v1') return Promise.resolve({ client: clientExists ? { clientId: CLIENT, tokenEndpointAuthMethod: 'client_secret_basic', secretHash: 'aGFzaA' } : null });
      return Promise.reject(new Error(`unexpected ${subject}`));
    },
  };
  const nc = {
    subscribe: (subject: string, opts: { callback: (err: Error | null, msg: { data: Uint8Array }) => void }) => {
      expect(subject).toBe(INTROSPECTION_FEED_SUBJECT);
      deliver = (m) => opts.callback(null, { data: Buffer.from(JSON.stringify(m)) });
      return { unsubscribe: () => undefined };
    },
  };
  const state = new IntrospectionState(bus as unknown as BusClient, nc as unknown as NatsConnection, createLogger({ service: 'gateway', level: 'silent' }));
  return {
    state,
    calls,
    send: (m: IntrospectionFeedMessage) => deliver(m),
    setSnapshot: (s: Snapshot) => void (snapshot = s),
    removeClient: () => void (clientExists = false),
  };
}

const settle = () => new Promise((r) => setTimeout(r, 60));
let running: IntrospectionState | null = null;
afterEach(() => {
  running?.onModuleDestroy();
  running = null;
});

describe('IntrospectionState', () => {
  it('takes the snapshot, then applies revocations from the feed as they come', async () => {
    const h = harness();
    running = h.state;
    h.state.onApplicationBootstrap();
    h.send({ source: 's', seq: 0, ready: true });
    await settle();
    expect(h.state.current()).toBe(true);
    expect(h.state.isRevoked('old', null)).toBe(true);
    expect(h.state.isRevoked('new', null)).toBe(false);
    h.send({ source: 's', seq: 1, ready: true, change: { k: 'j', jti: 'new', exp: Date.now() + 60_000 } });
    h.send({ source: 's', seq: 2, ready: true, change: { k: 'g', id: 'grant-1' } });
    expect(h.state.isRevoked('new', null)).toBe(true);
    expect(h.state.isRevoked('other', 'grant-1')).toBe(true);
    expect(h.state.current()).toBe(true);
  });

  it('reads a client again after the feed says it changed (deleted)', async () => {
    const h = harness();
    running = h.state;
    h.state.onApplicationBootstrap();
    h.send({ source: 's', seq: 0, ready: true });
    await settle();
    expect(await h.state.client(TENANT, CLIENT)).toMatchObject({ clientId: CLIENT });
    expect(await h.state.client(TENANT, CLIENT)).toMatchObject({ clientId: CLIENT });
    expect(h.calls.filter((c) => c.endsWith('client-credential.get.v1'))).toHaveLength(1);
    h.removeClient();
    h.send({ source: 's', seq: 1, ready: true, change: { k: 'c', tenantId: TENANT, clientId: CLIENT } });
    expect(await h.state.client(TENANT, CLIENT)).toBeNull();
  });

  it('is not current after a gap until a new snapshot, which brings what the lost message said', async () => {
    const h = harness();
    running = h.state;
    h.state.onApplicationBootstrap();
    h.send({ source: 's', seq: 0, ready: true });
    await settle();
    h.setSnapshot({ ready: true, accessTokenTtlSeconds: 600, revokedTokens: [{ jti: 'lost', exp: Date.now() + 60_000 }], revokedGrants: [] });
    // seq 1 (revoking "lost") never arrived.
    h.send({ source: 's', seq: 2, ready: true, change: { k: 'g', id: 'grant-2' } });
    expect(h.state.current()).toBe(false);
    await settle();
    expect(h.state.current()).toBe(true);
    expect(h.state.isRevoked('lost', null)).toBe(true);
  });

  it('does not trust a snapshot from a replica whose index is not live', async () => {
    const h = harness();
    running = h.state;
    h.setSnapshot({ ready: false, accessTokenTtlSeconds: 600, revokedTokens: [], revokedGrants: [] });
    h.state.onApplicationBootstrap();
    h.send({ source: 's', seq: 0, ready: true });
    await settle();
    expect(h.state.current()).toBe(false);
  });

  it('stops trusting an unreadable feed message', async () => {
    const h = harness();
    running = h.state;
    h.state.onApplicationBootstrap();
    h.send({ source: 's', seq: 0, ready: true });
    await settle();
    expect(h.state.current()).toBe(true);
    h.send({ source: 's', seq: 1, ready: true, change: { k: 'zz' } } as unknown as IntrospectionFeedMessage);
    expect(h.state.current()).toBe(false);
  });
});
