import type { ServiceDefinition } from '@musubi/platform/runtime';
import { AppModule } from './app.module.js';
import { mfaSettings } from './config/env.schema.js';
import { mfaMigrations } from './migrations/index.js';

export const mfaService: ServiceDefinition<typeof mfaSettings> = {
  name: 'mfa',
  settings: mfaSettings,
  database: { schema: 'mfa', entities: [], migrations: mfaMigrations },
  module: () => AppModule,
};
