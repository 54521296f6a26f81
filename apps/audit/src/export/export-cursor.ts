import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { validationError } from '@musubi/platform/errors';
import { canonicalJson } from '../chain/offline-verifier.js';

/** Where an export stands between pages. */
export interface ExportState {
  /** Last sequence number emitted (or skipped by a filter). */
  readonly after: number;
  /** The last sequence number of the export, fixed by its first page. */
  readonly upTo: number;
  readonly records: number;
}

/**
 * Export cursors are signed (HMAC with a key derived from the signing key) and
 * bound to the export's tenant, format and filters: a client cannot forge one to
 * read another range, nor reuse one for another tenant, and only the first page
 * of an export is recorded as the operator's read of the trail.
 */
export class ExportCursors {
  private readonly key: Buffer;

  constructor(secret: Buffer) {
    this.key = createHash('sha256').update('musubi-audit-export-cursor\0').update(secret).digest();
  }

  private mac(scope: unknown, body: string): Buffer {
    return createHmac('sha256', this.key).update(canonicalJson(scope)).update('\0').update(body).digest();
  }

  encode(scope: unknown, state: ExportState): string {
    const body = Buffer.from(JSON.stringify([state.after, state.upTo, state.records])).toString('base64url');
    return `${body}.${this.mac(scope, body).toString('base64url')}`;
  }

  decode(scope: unknown, cursor: string): ExportState {
    const bad = () => validationError([{ pointer: '/cursor', detail: 'is not a cursor of this export' }], 'The cursor is not valid.');
    const [body, sig, ...rest] = cursor.split('.');
    if (!body || !sig || rest.length > 0) throw bad();
    const given = Buffer.from(sig, 'base64url');
    const want = this.mac(scope, body);
    if (given.length !== want.length || !timingSafeEqual(given, want)) throw bad();
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
    } catch {
      throw bad();
    }
    if (!Array.isArray(parsed) || parsed.length !== 3 || !parsed.every((n) => Number.isSafeInteger(n) && (n as number) >= 0)) throw bad();
    const [after, upTo, records] = parsed as [number, number, number];
    return { after, upTo, records };
  }
}
