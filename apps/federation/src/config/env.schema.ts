import { databaseSettings, intSetting, serviceSettings, type ConfigOf, type Setting } from '@musubi/platform/config';

/** 32 random bytes in base64 or base64url (`openssl rand -base64 32`). */
export function parseEncryptionKey(raw: string): Buffer {
  const text = raw.trim();
  if (!/^[A-Za-z0-9+/_-]{43}={0,1}$/.test(text)) throw new Error('must be 32 bytes in base64 (openssl rand -base64 32)');
  const key = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (key.length !== 32) throw new Error('must be 32 bytes in base64 (openssl rand -base64 32)');
  if (key.every((b) => b === key[0])) throw new Error('must be random bytes, not one repeated value');
  return key;
}

const encryptionKeySetting: Setting<string> = {
  doc: "AES-256-GCM key (32 bytes, base64) encrypting the OIDC signing keys' private parts at rest",
  secret: true,
  optional: false,
  parse(raw) {
    parseEncryptionKey(raw);
    return raw.trim();
  },
};

export const federationSettings = {
  ...serviceSettings({ httpPort: 3103 }),
  ...databaseSettings,
  OIDC_KEY_ENCRYPTION_KEY: encryptionKeySetting,
  OIDC_ACCESS_TOKEN_TTL_SECONDS: intSetting({ doc: 'Lifetime of OIDC access tokens (JWT)', default: '600', min: 60, max: 3600 }),
  OIDC_ID_TOKEN_TTL_SECONDS: intSetting({ doc: 'Lifetime of ID tokens', default: '600', min: 60, max: 3600 }),
  OIDC_REFRESH_TOKEN_TTL_SECONDS: intSetting({ doc: 'Lifetime of a refresh token (each use rotates it)', default: '2592000', min: 300, max: 31536000 }),
  OIDC_CODE_TTL_SECONDS: intSetting({ doc: 'Lifetime of an authorization code', default: '60', min: 10, max: 600 }),
  OIDC_KEY_LIFETIME_DAYS: intSetting({ doc: 'How long one signing key signs before its successor takes over', default: '90', min: 1, max: 730 }),
  OIDC_KEY_PUBLISH_AHEAD_SECONDS: intSetting({
    doc: 'How long a next signing key is published in the JWKS before it starts signing (longer than relying parties cache the JWKS)',
    default: '86400',
    min: 0,
    max: 2592000,
  }),
} as const;

export type FederationConfig = ConfigOf<typeof federationSettings>;
