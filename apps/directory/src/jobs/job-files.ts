import { Inject, Injectable } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import { JOB_EXPORTS_BUCKET, JOB_UPLOADS_BUCKET } from '@musubi/contracts';
import { FileStore } from '@musubi/platform/bus';
import { CONFIG, NATS } from '@musubi/platform/runtime';
import type { DirectoryConfig } from '../config/env.schema.js';

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
    this.uploadsStore ??= FileStore.open(this.nc, { bucket: JOB_UPLOADS_BUCKET, replicas: this.config.JETSTREAM_REPLICAS, ttlHours: 24 }, false);
    this.uploadsStore.catch(() => (this.uploadsStore = undefined));
    return this.uploadsStore;
  }

  exports(): Promise<FileStore> {
    this.exportsStore ??= FileStore.open(this.nc, { bucket: JOB_EXPORTS_BUCKET, replicas: this.config.JETSTREAM_REPLICAS, ttlHours: 24 * 7 }, true);
    this.exportsStore.catch(() => (this.exportsStore = undefined));
    return this.exportsStore;
  }
}
