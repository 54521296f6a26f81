/**
 * Secrets never reach the audit trail. A value is removed when its key names a
 * secret (a denylist of key names, compared case- and punctuation-insensitively:
 * `client_secret`, `clientSecret` and `Client-Secret` are one name). Booleans and
 * nulls stay (`mustChangePassword: true` tells nothing secret); anything else under
 * such a key becomes REDACTED.
 */
export const REDACTED = '[REDACTED]';

/** Keys that are secrets exactly. */
const EXACT = new Set([
  'otp',
  'totp',
  'pin',
  'passcode',
  'assertion',
  'samlresponse',
  'authorizationcode',
  'authcode',
  'codeverifier',
  'recoverycode',
  'recoverycodes',
  'seed',
  'credential',
  'credentials',
  'cookie',
  'cookies',
  'authorization',
  'sessionid',
  'passwordhash',
]);

/** Keys that are secrets whatever comes before: `newPassword`, `clientSecret`, `refreshToken`, `privateKey`. */
const SUFFIXES = ['password', 'passwords', 'passwd', 'passphrase', 'secret', 'secrets', 'token', 'tokens', 'privatekey', 'secretkey', 'signingkey', 'encryptionkey', 'sharedkey', 'apikey'];

const normalize = (key: string) => key.toLowerCase().replace(/[^a-z0-9]/g, '');

export function isSecretKey(key: string): boolean {
  const k = normalize(key);
  return EXACT.has(k) || SUFFIXES.some((s) => k.endsWith(s));
}

 
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Makes a string storable in Postgres text and jsonb: NUL and lone surrogates become U+FFFD. */
export function cleanString(s: string): string {
  UNSTORABLE.lastIndex = 0;
  return UNSTORABLE.test(s) ? s.replace(UNSTORABLE, '\uFFFD') : s;
}

/**
 * A deep copy of a JSON value with secrets replaced by REDACTED and strings
 * cleaned. Values that JSON cannot carry (undefined, functions) are dropped, as
 * JSON.stringify would.
 */
export function redact(value: unknown): unknown {
  if (value === null) return null;
  if (typeof value === 'string') return cleanString(value);
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'boolean') return value;
  if (Array.isArray(value)) return value.map((v) => (v === undefined || typeof v === 'function' ? null : redact(v)));
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (v === undefined || typeof v === 'function') continue;
      out[cleanString(k)] = isSecretKey(k) && v !== null && typeof v !== 'boolean' ? REDACTED : redact(v);
    }
    return out;
  }
  return null;
}
