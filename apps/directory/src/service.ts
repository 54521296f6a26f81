import type { ServiceDefinition } from '@musubi/platform/runtime';
import { AppModule } from './app.module.js';
import { directorySettings } from './config/env.schema.js';
import { directoryMigrations } from './migrations/index.js';

export const directoryService: ServiceDefinition<typeof directorySettings> = {
  name: 'directory',
  settings: directorySettings,
  database: { schema: 'directory', entities: [], migrations: directoryMigrations },
  module: () => AppModule,
};
