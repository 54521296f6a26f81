import { createPrivateKey, type KeyObject } from 'node:crypto';
import { databaseSettings, intSetting, optional, serviceSettings, urlSetting, type ConfigOf, type Setting } from '@musubi/platform/config';

/**
 * An Ed25519 private key: PKCS#8 PEM, or the same DER in base64 on one line
 * (`openssl genpkey -algorithm ed25519 -outform DER | base64 -w0`).
 */
export function parseSigningKey(raw: string): KeyObject {
  const text = raw.trim().replace(/\\n/g, '\n');
  let key: KeyObject;
  try {
    key = text.startsWith('-----BEGIN') ? createPrivateKey(text) : createPrivateKey({ key: Buffer.from(text, 'base64'), format: 'der', type: 'pkcs8' });
  } catch {
    throw new Error('is not a PKCS#8 private key (PEM, or DER in base64)');
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`must be an Ed25519 key, not ${key.asymmetricKeyType ?? 'a symmetric key'}`);
  return key;
}

const signingKeySetting: Setting<string | undefined> = {
  doc: 'Ed25519 private key that signs the audit checkpoints (PKCS#8 PEM, or its DER in base64); its public key is published at /api/v1/tenants/{id}/audit-signing-keys. Set it in production: without it each start signs with a new throwaway key (fine for development, but exports cannot be checked against a pinned key)',
  secret: true,
  optional: true,
  parse(raw) {
    parseSigningKey(raw);
    return raw;
  },
};

export const auditSettings = {
  ...serviceSettings({ httpPort: 3106 }),
  ...databaseSettings,
  DATABASE_OWNER_URL: optional(
    urlSetting({
      doc: "Only for audit's migrate command: the role that owns the audit schema and runs its migrations. DATABASE_URL's role is then created as the restricted runtime role (read and insert only)",
      secret: true,
      protocols: ['postgres:', 'postgresql:'],
    }),
  ),
  AUDIT_SIGNING_KEY: signingKeySetting,
  AUDIT_RETENTION_DAYS: intSetting({ doc: 'Days an audit record is kept, for tenants without their own retention', default: '90', min: 1, max: 400 }),
  AUDIT_CHECKPOINT_INTERVAL_SECONDS: intSetting({ doc: 'How often each changed tenant chain gets a signed checkpoint', default: '300', min: 1, max: 86400 }),
  AUDIT_MAINTENANCE_INTERVAL_MINUTES: intSetting({ doc: 'How often audit creates the coming days\' partitions and purges expired ones', default: '60', min: 1, max: 1440 }),
} as const;

export type AuditConfig = ConfigOf<typeof auditSettings>;
