import type { ServiceDefinition } from '@musubi/platform/runtime';
import { AppModule } from './app.module.js';
import { billingSettings } from './config/env.schema.js';
import { billingMigrations } from './migrations/index.js';

export const billingService: ServiceDefinition<typeof billingSettings> = {
  name: 'billing',
  settings: billingSettings,
  database: { schema: 'billing', entities: [], migrations: billingMigrations },
  module: () => AppModule,
};
