import type { ServiceDefinition } from '@musubi/platform/runtime';
import { AppModule } from './app.module.js';
import { auditSettings } from './config/env.schema.js';
import { auditMigrations } from './migrations/index.js';

export const auditService: ServiceDefinition<typeof auditSettings> = {
  name: 'audit',
  settings: auditSettings,
  database: { schema: 'audit', entities: [], migrations: auditMigrations },
  module: () => AppModule,
};
