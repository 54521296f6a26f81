import { Readable } from 'node:stream';
import { Objm, StorageType, type ObjectStore } from '@nats-io/obj';
import type { NatsConnection } from '@nats-io/transport-node';
import { DomainError } from '@musubi/platform/errors';

export interface FileStoreOptions {
  /** The bucket's name: one per owning service (`musubi-<service>-files`). */
  readonly bucket: string;
  readonly replicas: number;
  /** Files older than this are removed by the server (JetStream max age). */
  readonly ttlHours: number;
}

export interface StoredFile {
  readonly name: string;
  readonly bytes: number;
}

/**
 * Files too big for a NATS message (uploads of up to 50 MB, exports), kept in
 * a JetStream object store: chunked, replicated with the cluster, and removed
 * by the server after their TTL. The owning service creates the bucket; others
 * open it.
 */
export class FileStore {
  private constructor(private readonly store: ObjectStore) {}

  /** Creates the bucket if needed (the owner) or opens it. */
  static async open(nc: NatsConnection, opts: FileStoreOptions, create: boolean): Promise<FileStore> {
    const objm = new Objm(nc);
    const store = create
      ? await objm.create(opts.bucket, { replicas: opts.replicas, storage: StorageType.File, ttl: opts.ttlHours * 3_600_000_000_000 })
      : await objm.open(opts.bucket);
    return new FileStore(store);
  }

  /**
   * Stores a stream under `name`, refusing it (and removing what was written)
   * once it exceeds `maxBytes`: the upload is never trusted to be as small as it
   * claims.
   */
  async put(name: string, source: NodeJS.ReadableStream, maxBytes: number): Promise<StoredFile> {
    let bytes = 0;
    let tooLarge = false;
    const counted = Readable.from(
      (async function* () {
        for await (const chunk of source) {
          const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk);
          bytes += buf.length;
          if (bytes > maxBytes) {
            tooLarge = true;
            throw new Error('too large');
          }
          yield new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
        }
      })(),
    );
    try {
      await this.store.put({ name }, Readable.toWeb(counted));
    } catch (err) {
      await this.store.delete(name).catch(() => undefined);
      if (tooLarge) throw new DomainError('validation_failed', `The file is larger than ${Math.round(maxBytes / 1_048_576)} MB.`, [{ pointer: '', detail: 'is too large' }]);
      throw err;
    }
    return { name, bytes };
  }

  /** The file as a Node stream, or null when there is none (never stored, or past its TTL). */
  async get(name: string): Promise<Readable | null> {
    const result = await this.store.get(name);
    if (!result) return null;
    return Readable.fromWeb(result.data);
  }

  async info(name: string): Promise<StoredFile | null> {
    const info = await this.store.info(name);
    return info && !info.deleted ? { name, bytes: info.size } : null;
  }

  async delete(name: string): Promise<void> {
    await this.store.delete(name).catch(() => undefined);
  }
}
