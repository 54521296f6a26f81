import type { ServiceDefinition } from '@musubi/platform/runtime';
import { AppModule } from './app.module.js';
import { federationSettings } from './config/env.schema.js';
import { federationMigrations } from './migrations/index.js';

export const federationService: ServiceDefinition<typeof federationSettings> = {
  name: 'federation',
  settings: federationSettings,
  database: { schema: 'federation', entities: [], migrations: federationMigrations },
  module: () => AppModule,
};
