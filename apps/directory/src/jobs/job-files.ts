import { Inject, Injectable } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import { FileStore } from '@musubi/platform/bus';
import { CONFIG, NATS } from '@musubi/platform/runtime';
import type { DirectoryConfig } from '../config/env.schema.js';

/** The gateway receives uploads into its bucket; the directory reads them from there. */
export const UPLOADS_BUCKET = 'musubi-gateway-uploads';
/** The directory writes export files into its own bucket; the gateway serves them from there. */
export const EXPORTS_BUCKET = 'musubi-directory-exports';
export const MAX_EXPORT_BYTES = 1024 * 1024 * 1024;

/** The two file stores jobs use, opened when first needed (the gateway may start after us). */
@Injectable()
export class JobFiles {
  private uploadsStore: Promise<FileStore> | undefined;
  private exportsStore: Promise<FileStore> | undefined;

  constructor(
    @Inject(NATS) private readonly nc: NatsConnection,
    @Inject(CONFIG) private readonly config: DirectoryConfig,
  ) {}

  uploads(): Promise<FileStore> {
    this.uploadsStore ??= FileStore.open(this.nc, { bucket: UPLOADS_BUCKET, replicas: this.config.JETSTREAM_REPLICAS, ttlHours: 24 }, false);
    this.uploadsStore.catch(() => (this.uploadsStore = undefined));
    return this.uploadsStore;
  }

  exports(): Promise<FileStore> {
    this.exportsStore ??= FileStore.open(this.nc, { bucket: EXPORTS_BUCKET, replicas: this.config.JETSTREAM_REPLICAS, ttlHours: 24 * 7 }, true);
    this.exportsStore.catch(() => (this.exportsStore = undefined));
    return this.exportsStore;
  }
}
