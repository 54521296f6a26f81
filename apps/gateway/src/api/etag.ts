import { DomainError } from '@musubi/platform/errors';

/**
 * A strong ETag for one resource (an ETag is scoped to its URL): its version,
 * which every change increments.
 */
export const etagOf = (r: { version: number }): string => `"v${r.version}"`;

/**
 * The version an `If-Match` header (RFC 9110 §13.1.1) requires, or undefined
 * when there is none or it is `*`. If-Match compares strongly: a weak tag, or
 * one this server never issued, cannot match, so the request fails as 412.
 */
export function expectedVersion(header: string | string[] | undefined): number | undefined {
  if (header === undefined) return undefined;
  const value = (Array.isArray(header) ? header.join(',') : header).trim();
  if (value === '*') return undefined;
  const tags = value.split(',').map((t) => t.trim()).filter(Boolean);
  const versions = tags.map((t) => /^"v([1-9][0-9]{0,9})"$/.exec(t)?.[1]).filter((v): v is string => v !== undefined);
  if (tags.length !== 1 || versions.length !== 1) {
    throw new DomainError('precondition_failed', 'If-Match must carry the one ETag this resource was read with.');
  }
  return Number(versions[0]);
}
