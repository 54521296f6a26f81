import { createHash } from 'node:crypto';
import type { UserSort } from '@musubi/contracts';
import { DomainError } from '@musubi/platform/errors';
import type { UserKeyset, UserListFilter } from './user.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** The repository writes time keys with microseconds, as Postgres keeps them. */
const TIME_KEY = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const TIME_SORTS: ReadonlySet<UserSort> = new Set(['createdAt', 'updatedAt']);
/** Sort keys are at most a lower-cased login ID, display name or kana pair. */
const MAX_KEY = 512;

interface CursorBody {
  /** Sort, order and filters the cursor was issued for. */
  readonly s: UserSort;
  readonly d: boolean;
  readonly f: string;
  readonly k: string;
  readonly i: string;
}

/** A short digest of the filters, so a cursor cannot be replayed against another result set. */
function filterDigest(filter: UserListFilter): string {
  return createHash('sha256')
    .update(JSON.stringify([filter.status, filter.domain, filter.groupId, filter.q]))
    .digest('base64url')
    .slice(0, 12);
}

const invalid = () => new DomainError('validation_failed', 'The cursor is not valid.', [{ pointer: '/cursor', detail: 'is not a cursor from a previous page of this list' }]);

/** Opaque keyset cursor of the users list: base64url JSON of the last row's sort key and id, tied to its sort and filters. */
export function encodeUserCursor(sort: UserSort, descending: boolean, filter: UserListFilter, at: UserKeyset): string {
  const body: CursorBody = { s: sort, d: descending, f: filterDigest(filter), k: at.key, i: at.id };
  return Buffer.from(JSON.stringify(body)).toString('base64url');
}

/**
 * The keyset a cursor stands for, checked so that a forged or mismatched
 * cursor is a `validation_failed` at `/cursor`, never a value in a query.
 */
export function decodeUserCursor(cursor: string | undefined, sort: UserSort, descending: boolean, filter: UserListFilter): UserKeyset | null {
  if (cursor === undefined) return null;
  let body: Partial<Record<keyof CursorBody, unknown>>;
  try {
    body = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Partial<Record<keyof CursorBody, unknown>>;
  } catch {
    throw invalid();
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid();
  const { s, d, f, k, i } = body;
  if (s !== sort || d !== descending || f !== filterDigest(filter)) throw invalid();
  if (typeof k !== 'string' || k.length > MAX_KEY || typeof i !== 'string' || !UUID.test(i)) throw invalid();
  if (TIME_SORTS.has(sort) ? !TIME_KEY.test(k) || Number.isNaN(Date.parse(k)) : k.includes('\u0000')) throw invalid();
  return { key: k, id: i };
}
