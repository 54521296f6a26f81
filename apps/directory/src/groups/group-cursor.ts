import { encodeCursor } from '@musubi/platform/db';
import { DomainError } from '@musubi/platform/errors';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Exactly as `Date.prototype.toISOString` writes it. */
const isIsoTimestamp = (s: string): boolean => {
  const t = Date.parse(s);
  return Number.isFinite(t) && new Date(t).toISOString() === s;
};

/**
 * What each list's cursor holds. The platform's cursors hold ids and times;
 * lists by name need the name key too, so the groups lists have these, each
 * tagged with the list and order it came from: a cursor of one list (or of
 * another order) is refused by the others, never silently misread.
 */
const KEYS = {
  name: { n: 'text' },
  '-name': { n: 'text' },
  createdAt: { t: 'timestamp', id: 'uuid' },
  '-createdAt': { t: 'timestamp', id: 'uuid' },
  members: { k: 'kind', id: 'uuid' },
  effective: { id: 'uuid' },
  'user-groups': { n: 'text' },
} as const;

type KeyKind = 'text' | 'timestamp' | 'uuid' | 'kind';
const CHECKS: Record<KeyKind, (s: string) => boolean> = {
  text: (s) => s.length > 0 && s.length <= 1000,
  timestamp: isIsoTimestamp,
  uuid: (s) => UUID.test(s),
  kind: (s) => s === 'user' || s === 'group',
};

export type CursorScope = keyof typeof KEYS;
export type CursorKey<S extends CursorScope> = { [K in keyof (typeof KEYS)[S]]: string };

export function encodeGroupCursor<S extends CursorScope>(scope: S, key: CursorKey<S>): string {
  return encodeCursor({ s: scope, ...(key as Record<string, string>) });
}

/** The key a cursor of `scope` holds, every part checked; anything else is validation_failed at /cursor. */
export function decodeGroupCursor<S extends CursorScope>(cursor: string | undefined, scope: S): CursorKey<S> | null {
  if (cursor === undefined) return null;
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (typeof parsed !== 'object' || parsed === null || (parsed as Record<string, unknown>)['s'] !== scope) throw new Error('bad cursor');
    const out: Record<string, string> = {};
    for (const [k, kind] of Object.entries(KEYS[scope]) as Array<[string, KeyKind]>) {
      const v = (parsed as Record<string, unknown>)[k];
      if (typeof v !== 'string' || !CHECKS[kind](v)) throw new Error('bad cursor');
      out[k] = v;
    }
    return out as CursorKey<S>;
  } catch {
    throw new DomainError('validation_failed', 'The cursor is not valid.', [{ pointer: '/cursor', detail: 'is not a cursor from a previous page of this list' }]);
  }
}
