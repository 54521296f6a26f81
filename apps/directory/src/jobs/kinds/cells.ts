import type { ErrorDetail } from '@musubi/contracts';
import type { RowIssue } from '../kinds.js';

/**
 * How CSV cells become values. One convention for every import and export:
 * lists (extra emails, phones, IMs, entitlements) are `|`-separated in one cell;
 * a phone or IM is `type:value` (the type first, so the value may hold `:` and
 * `;`, as RFC 3966 tel URIs do). An empty cell clears the field of an existing
 * record; a column left out of the file leaves the field as it is.
 */
export const LIST_SEPARATOR = '|';

/** What to do with a row. */
export type RowAction = 'upsert' | 'delete';

const ACTIONS: ReadonlyMap<string, RowAction> = new Map([
  ['', 'upsert'],
  ['upsert', 'upsert'],
  ['add', 'upsert'],
  ['update', 'upsert'],
  ['登録', 'upsert'],
  ['追加', 'upsert'],
  ['更新', 'upsert'],
  ['delete', 'delete'],
  ['削除', 'delete'],
]);

export const ACTION_COLUMN = { name: 'action', aliases: ['処理', '操作'] } as const;

/** The row's action, or an issue naming the values the column takes. */
export function actionOf(values: Readonly<Record<string, string>>): RowAction | RowIssue {
  const raw = (values['action'] ?? '').normalize('NFKC').trim().toLowerCase();
  return ACTIONS.get(raw) ?? { column: 'action', message: 'must be empty or upsert (登録) to add or change the row, or delete (削除) to delete it' };
}

export const isIssue = (v: unknown): v is RowIssue => typeof v === 'object' && v !== null && 'message' in v && 'column' in v;

export function splitList(cell: string): string[] {
  return cell
    .split(LIST_SEPARATOR)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** `type:value` entries of a contact list; the type is lower-cased, the label is left empty. */
export function contacts(cell: string): Array<{ type: string; value: string; name: null }> | RowIssue {
  const out: Array<{ type: string; value: string; name: null }> = [];
  for (const entry of splitList(cell)) {
    const colon = entry.indexOf(':');
    if (colon <= 0) return { column: null, message: `"${entry}" must be written type:value (for example work:+81312345678)` };
    out.push({ type: entry.slice(0, colon).trim().toLowerCase(), value: entry.slice(colon + 1).trim(), name: null });
  }
  return out;
}

export const joinList = (items: readonly string[]): string => items.join(LIST_SEPARATOR);
export const joinContacts = (items: ReadonlyArray<{ type: string; value: string }>): string => items.map((c) => `${c.type}:${c.value}`).join(LIST_SEPARATOR);

/** A schema's detail (pointer `/phones/2/value`) as an issue of its column (`phones`). */
export function issueOf(d: ErrorDetail): RowIssue {
  const column = d.pointer.split('/')[1] || null;
  const where = d.pointer.split('/').slice(2).join('/');
  return { column, message: where ? `${where}: ${d.detail}` : d.detail };
}
