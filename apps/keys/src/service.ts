import type { ServiceDefinition } from '@musubi/platform/runtime';
import { AppModule } from './app.module.js';
import { keysSettings } from './config/env.schema.js';
import { keysMigrations } from './migrations/index.js';

export const keysService: ServiceDefinition<typeof keysSettings> = {
  name: 'keys',
  settings: keysSettings,
  database: { schema: 'keys', entities: [], migrations: keysMigrations },
  module: () => AppModule,
};
