import type { ServiceDefinition } from '@musubi/platform/runtime';
import { AppModule } from './app.module.js';
import { authnSettings } from './config/env.schema.js';
import { authnMigrations } from './migrations/index.js';

export const authnService: ServiceDefinition<typeof authnSettings> = {
  name: 'authn',
  settings: authnSettings,
  database: { schema: 'authn', entities: [], migrations: authnMigrations },
  redis: true,
  module: () => AppModule,
};
