import { databaseSettings, serviceSettings, type ConfigOf } from '@musubi/platform/config';

export const mfaSettings = {
  ...serviceSettings({ httpPort: 3104 }),
  ...databaseSettings,
} as const;

export type MfaConfig = ConfigOf<typeof mfaSettings>;
