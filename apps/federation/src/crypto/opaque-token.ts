import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const POOL_BYTES = 8192;
let pool = Buffer.alloc(0);
let used = 0;

/**
 * 256 random bits, base64url: client secrets, codes, refresh tokens, jtis.
 * Drawn from a block of CSPRNG output read 8 KiB at a time, each byte used
 * once: one randomBytes call per token (a jti each) was ~10 µs of the token
 * endpoint's cost under load.
 */
export function randomToken(bytes = 32): string {
  if (bytes > 256) return randomBytes(bytes).toString('base64url');
  if (used + bytes > pool.length) {
    pool = randomBytes(POOL_BYTES);
    used = 0;
  }
  const out = pool.toString('base64url', used, used + bytes);
  used += bytes;
  return out;
}

/**
 * SHA-256 of a high-entropy value: what is stored instead of it. A slow hash
 * buys nothing for 256-bit random values and would cost every token request.
 */
export const hashToken = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

export function sameHash(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** base64url(SHA-256(value)), as PKCE S256 (RFC 7636 §4.2) and sid derivation use it. */
export const s256 = (value: string): string => createHash('sha256').update(value, 'ascii').digest('base64url');
