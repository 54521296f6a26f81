import { databaseSettings, serviceSettings, type ConfigOf } from '@musubi/platform/config';

export const keysSettings = {
  ...serviceSettings({ httpPort: 3105 }),
  ...databaseSettings,
} as const;

export type KeysConfig = ConfigOf<typeof keysSettings>;
