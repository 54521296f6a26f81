import { databaseSettings, intSetting, redisSettings, serviceSettings, type ConfigOf } from '@musubi/platform/config';

export const authnSettings = {
  ...serviceSettings({ httpPort: 3101 }),
  ...databaseSettings,
  ...redisSettings,
  SESSION_IDLE_MINUTES: intSetting({ doc: 'A session not used for this long ends (tenant settings may shorten it)', default: '30', min: 1, max: 1440 }),
  SESSION_ABSOLUTE_HOURS: intSetting({ doc: 'A session ends this long after sign-in, used or not', default: '12', min: 1, max: 720 }),
  TEMPORARY_PASSWORD_HOURS: intSetting({ doc: 'How long a one-time password stays valid (1-2160 hours)', default: '72', min: 1, max: 2160 }),
} as const;

export type AuthnConfig = ConfigOf<typeof authnSettings>;
