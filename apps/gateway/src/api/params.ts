import type { PipeTransform } from '@nestjs/common';
import { Type } from '@sinclair/typebox';
import { DomainError, validationError } from '@musubi/platform/errors';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A malformed id in a path cannot name anything: 404, like an unknown one. */
export class UuidParam implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!UUID.test(value)) throw new DomainError('not_found', 'No such resource.');
    return value.toLowerCase();
  }
}

export interface PageParams {
  cursor?: string;
  limit?: number;
}

export const pageQueryDoc = {
  cursor: { schema: Type.String(), description: 'The `nextCursor` of the previous page' },
  limit: { schema: Type.Integer({ minimum: 1, maximum: 200, default: 50 }), description: 'Items per page (1-200, default 50)' },
};

/** `?cursor=…&limit=…`, strictly: unknown parameters and bad numbers are refused. */
export class PageQuery implements PipeTransform<Record<string, unknown>, PageParams> {
  transform(q: Record<string, unknown>): PageParams {
    const out: PageParams = {};
    for (const key of Object.keys(q ?? {})) {
      if (key !== 'cursor' && key !== 'limit') throw validationError([{ pointer: `/query/${key}`, detail: 'is not a known parameter' }]);
    }
    if (q?.['cursor'] !== undefined) {
      if (typeof q['cursor'] !== 'string' || q['cursor'].length === 0 || q['cursor'].length > 512) {
        throw validationError([{ pointer: '/query/cursor', detail: 'must be a cursor from a previous page' }]);
      }
      out.cursor = q['cursor'];
    }
    if (q?.['limit'] !== undefined) {
      const raw = q['limit'];
      const n = typeof raw === 'string' && /^\d{1,3}$/.test(raw) ? Number(raw) : NaN;
      if (!(n >= 1 && n <= 200)) throw validationError([{ pointer: '/query/limit', detail: 'must be an integer from 1 to 200' }]);
      out.limit = n;
    }
    return out;
  }
}
