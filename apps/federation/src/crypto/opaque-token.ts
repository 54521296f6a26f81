import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** 256 random bits, base64url: client secrets, codes, refresh tokens. */
export const randomToken = (bytes = 32): string => randomBytes(bytes).toString('base64url');

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
