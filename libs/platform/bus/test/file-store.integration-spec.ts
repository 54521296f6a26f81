import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { FileStore } from '@musubi/platform/bus';
import { DomainError } from '@musubi/platform/errors';
import { startNatsServer, type PrivateServer } from '@musubi/platform/testing';

let nats: PrivateServer;
let nc: NatsConnection;
let owner: FileStore;

const collect = async (r: Readable): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
};

beforeAll(async () => {
  nats = await startNatsServer();
  nc = await connect({ servers: nats.url });
  owner = await FileStore.open(nc, { bucket: 'musubi-test-files', replicas: 1, ttlHours: 1 }, true);
});

afterAll(async () => {
  await nc?.close();
  await nats?.stop();
});

describe('FileStore', () => {
  it('keeps a multi-megabyte file intact, readable by another party that opened the bucket', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const stored = await owner.put('t1/job/input', Readable.from([data.subarray(0, 1000), data.subarray(1000)]), 50 * 1024 * 1024);
    expect(stored.bytes).toBe(data.length);
    const reader = await FileStore.open(nc, { bucket: 'musubi-test-files', replicas: 1, ttlHours: 1 }, false);
    expect((await reader.info('t1/job/input'))?.bytes).toBe(data.length);
    const back = await reader.get('t1/job/input');
    expect(back).not.toBeNull();
    expect((await collect(back!)).equals(data)).toBe(true);
  });

  it('refuses a file over the limit and keeps nothing of it', async () => {
    const big = Readable.from((function* () {
      for (let i = 0; i < 20; i++) yield randomBytes(64 * 1024);
    })());
    await expect(owner.put('t1/job/too-big', big, 512 * 1024)).rejects.toBeInstanceOf(DomainError);
    expect(await owner.info('t1/job/too-big')).toBeNull();
    expect(await owner.get('t1/job/too-big')).toBeNull();
  });

  it('answers null for a file that is not there', async () => {
    expect(await owner.get('nobody/nothing')).toBeNull();
  });
});
