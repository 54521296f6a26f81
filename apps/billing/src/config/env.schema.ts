import { databaseSettings, serviceSettings, type ConfigOf } from '@musubi/platform/config';

export const billingSettings = {
  ...serviceSettings({ httpPort: 3107 }),
  ...databaseSettings,
} as const;

export type BillingConfig = ConfigOf<typeof billingSettings>;
