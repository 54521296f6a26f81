import { databaseSettings, intSetting, redisSettings, serviceSettings, urlSetting, type ConfigOf } from '@musubi/platform/config';
import { mailSettings } from '@musubi/platform/mail';

export const authnSettings = {
  ...serviceSettings({ httpPort: 3101 }),
  ...databaseSettings,
  ...redisSettings,
  ...mailSettings,
  PUBLIC_URL: urlSetting({ doc: 'The URL users reach the gateway at (links in mail are built from it)', default: 'http://localhost:8080', protocols: ['http:', 'https:'] }),
  SESSION_IDLE_MINUTES: intSetting({ doc: 'Default idle timeout of a session, until a tenant sets its own', default: '30', min: 1, max: 1440 }),
  SESSION_ABSOLUTE_HOURS: intSetting({ doc: 'Default absolute timeout of a session, until a tenant sets its own', default: '12', min: 1, max: 720 }),
  TEMPORARY_PASSWORD_HOURS: intSetting({ doc: 'Default validity of a one-time password (1-2160 hours), until a tenant sets its own', default: '72', min: 1, max: 2160 }),
  LOGIN_IP_FAILURES: intSetting({ doc: 'Failed sign-ins from one IP address in 15 minutes before it is refused for a while (against password spraying)', default: '100', min: 5, max: 100000 }),
  RESET_LINK_MINUTES: intSetting({ doc: 'How long a password-reset link works', default: '30', min: 5, max: 1440 }),
  NOTICE_INTERVAL_SECONDS: intSetting({ doc: 'How often authn looks for passwords and API tokens about to expire and mails their users', default: '3600', min: 1, max: 86400 }),
  APP_ACCESS_TOKEN_SECONDS: intSetting({ doc: 'How long an access token from the API token endpoint (for a registered API application) works', default: '600', min: 60, max: 3600 }),
  RESET_IP_PER_HOUR: intSetting({ doc: 'Password-reset requests one IP address may make in an hour', default: '30', min: 1, max: 100000 }),
} as const;

export type AuthnConfig = ConfigOf<typeof authnSettings>;
