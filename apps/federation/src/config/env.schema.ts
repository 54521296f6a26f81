import { databaseSettings, serviceSettings, type ConfigOf } from '@musubi/platform/config';

export const federationSettings = {
  ...serviceSettings({ httpPort: 3103 }),
  ...databaseSettings,
} as const;

export type FederationConfig = ConfigOf<typeof federationSettings>;
