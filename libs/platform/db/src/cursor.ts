import { DomainError } from '@musubi/platform/errors';

/** What a cursor key may hold: only what the list itself issued. */
export type CursorKey = 'uuid' | 'timestamp';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Exactly as `Date.prototype.toISOString` writes it (Postgres would happily read "now" or "yesterday"). */
const isIsoTimestamp = (s: string): boolean => {
  const t = Date.parse(s);
  return Number.isFinite(t) && new Date(t).toISOString() === s;
};

const CHECKS: Record<CursorKey, (s: string) => boolean> = { uuid: (s) => UUID.test(s), timestamp: isIsoTimestamp };

/** Opaque keyset cursors for list endpoints: base64url JSON of the last row's sort key. */
export function encodeCursor(key: Record<string, string>): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/**
 * Decodes a cursor and checks every key against its declared kind, so a forged
 * cursor is a `validation_failed` at `/cursor`, never a value in a query.
 */
export function decodeCursor<K extends string>(cursor: string | undefined, keys: Readonly<Record<K, CursorKey>>): Record<K, string> | null {
  if (cursor === undefined) return null;
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Record<string, unknown>;
    const out = {} as Record<K, string>;
    for (const [k, kind] of Object.entries(keys) as Array<[K, CursorKey]>) {
      const v = parsed[k];
      if (typeof v !== 'string' || !CHECKS[kind](v)) throw new Error('bad cursor');
      out[k] = v;
    }
    return out;
  } catch {
    throw new DomainError('validation_failed', 'The cursor is not valid.', [{ pointer: '/cursor', detail: 'is not a cursor from a previous page' }]);
  }
}
