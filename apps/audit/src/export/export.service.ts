import { Injectable } from '@nestjs/common';
import type { AuditExportPage, CallContext, RequestOf } from '@musubi/contracts';
import { authorize } from '@musubi/platform/authz';
import { validationError } from '@musubi/platform/errors';
import { CHAIN_FORMAT, EXPORT_KIND, type CheckpointData } from '../chain/offline-verifier.js';
import { CheckpointRepository } from '../checkpoints/checkpoint.repository.js';
import { CheckpointService } from '../checkpoints/checkpoint.service.js';
import { CheckpointSigner } from '../checkpoints/signer.js';
import { AuditEventRepository } from '../events/audit-event.repository.js';
import { OperatorReads } from '../trail/operator-reads.js';
import { eventViewOf } from '../events/event-view.js';
import { checkFilters, filtersOf, onlyTimeRange, type CheckedFilters } from '../events/event-filters.js';
import { SettingsService } from '../settings/settings.service.js';
import { utcDay } from '../trail/time.js';
import { ChainReader, chainRecordOf } from '../verification/chain.reader.js';
import { CSV_COLUMNS, csvLine, csvRow } from './csv.js';
import { ExportCursors, type ExportState } from './export-cursor.js';

/** Text per page: well under NATS's 1 MB message limit, JSON escaping included. */
export const PAGE_BUDGET_BYTES = 600_000;
const FETCH = 500;

/**
 * Exports a tenant's trail page by page (the gateway streams the pages to the
 * client as they come): the records audit recorded in [from, to), in chain
 * order, as CSV (for people) or JSON Lines (for machines and for offline
 * verification: each record with its hashes, followed by the checkpoints signed
 * at it; an export's first page signs one at its last record if there is none).
 */
@Injectable()
export class ExportService {
  private readonly cursors: ExportCursors;

  constructor(
    private readonly events: AuditEventRepository,
    private readonly reader: ChainReader,
    private readonly checkpointRepo: CheckpointRepository,
    private readonly checkpoints: CheckpointService,
    private readonly signer: CheckpointSigner,
    private readonly settings: SettingsService,
    private readonly reads: OperatorReads,
  ) {
    this.cursors = new ExportCursors(signer.derivedSecret('export-cursor'));
  }

  async page(req: RequestOf<'musubi.audit.event.export.v1'>, ctx: CallContext): Promise<AuditExportPage> {
    authorize(ctx, req.tenantId, 'audit:read');
    const tenantId = req.tenantId.toLowerCase();
    const encoding = req.encoding ?? 'utf-8';
    if (req.format === 'jsonl' && encoding !== 'utf-8') throw validationError([{ pointer: '/encoding', detail: 'JSON Lines is always UTF-8' }]);
    const filters = filtersOf(req);
    const checked = checkFilters(filters);
    const { from: _from, to: _to, ...rest } = checked;
    const verifiable = req.format === 'jsonl' && onlyTimeRange(filters);
    const scope = { tenantId, format: req.format, encoding, filters };
    const timeZone = await this.settings.timeZoneOf(tenantId);
    const fileName = `audit-${tenantId}-${utcDay(new Date()).replace(/-/g, '')}.${req.format}`;
    const contentType = req.format === 'jsonl' ? 'application/x-ndjson; charset=utf-8' : `text/csv; charset=${encoding === 'utf-8' ? 'utf-8' : 'Shift_JIS'}`;

    let state: ExportState;
    let text = '';
    if (!req.cursor) {
      const range = await this.range(tenantId, checked);
      state = { after: range.lo - 1, upTo: range.hi, records: 0 };
      if (verifiable && range.hi >= range.lo) await this.checkpoints.at(tenantId, range.hi);
      text += req.format === 'jsonl' ? await this.jsonHeader(tenantId, timeZone, verifiable, filters, range) : `${encoding === 'utf-8' ? '\uFEFF' : ''}${csvLine(CSV_COLUMNS)}`;
      await this.reads.note(ctx, tenantId, { operation: 'export', format: req.format, filters });
    } else {
      state = this.cursors.decode(scope, req.cursor);
    }

    let records = 0;
    let bytes = Buffer.byteLength(text);
    let full = false;
    while (!full && state.after < state.upTo) {
      const rows = await this.events.bySeq(tenantId, rest, state.after, state.upTo, FETCH);
      if (rows.length === 0) {
        state = { ...state, after: state.upTo };
        break;
      }
      const cps = verifiable ? await this.checkpointRepo.inRange(tenantId, Number(rows[0]!.seq), Number(rows[rows.length - 1]!.seq)) : [];
      const bySeq = new Map<number, CheckpointData[]>();
      for (const cp of cps) bySeq.set(cp.seq, [...(bySeq.get(cp.seq) ?? []), cp]);
      for (const row of rows) {
        const seq = Number(row.seq);
        let line: string;
        if (req.format === 'jsonl') {
          const r = chainRecordOf(row);
          line = `${JSON.stringify({ kind: 'record', record: r.record, prevHash: r.prevHash.toString('hex'), hash: r.hash.toString('hex') })}\n`;
          for (const cp of bySeq.get(seq) ?? []) line += `${JSON.stringify({ kind: 'checkpoint', ...cp })}\n`;
        } else {
          line = csvRow(eventViewOf(row, timeZone));
        }
        const size = Buffer.byteLength(line);
        if (records > 0 && bytes + size > PAGE_BUDGET_BYTES) {
          full = true;
          break;
        }
        text += line;
        bytes += size;
        records++;
        state = { ...state, after: seq, records: state.records + 1 };
      }
      if (!full && rows.length < FETCH) state = { ...state, after: state.upTo };
    }
    const done = state.after >= state.upTo;
    if (done && req.format === 'jsonl') text += `${JSON.stringify({ kind: 'end', records: state.records })}\n`;
    return { text, records, nextCursor: done ? null : this.cursors.encode(scope, state), contentType, fileName };
  }

  /** The records recorded in [from, to): a contiguous range of the chain. */
  private async range(tenantId: string, f: CheckedFilters): Promise<{ lo: number; hi: number }> {
    const empty = { lo: 1, hi: 0 };
    const head = await this.reader.head(tenantId);
    const firstKept = head ? await this.reader.firstSeq(tenantId) : null;
    if (!head || firstKept === null) return empty;
    const lo = f.from ? await this.reader.firstSeqRecordedFrom(tenantId, f.from, await this.checkpointRepo.lastSeqBefore(tenantId, f.from)) : firstKept;
    const hi = f.to ? await this.reader.lastSeqRecordedBefore(tenantId, f.to) : head.seq;
    if (lo === null || hi === null) return empty;
    return { lo: Math.max(lo, firstKept), hi: Math.min(hi, head.seq) };
  }

  private async jsonHeader(tenantId: string, timeZone: string, verifiable: boolean, filters: object, range: { lo: number; hi: number }): Promise<string> {
    const keys = await this.checkpointRepo.keys();
    const header = {
      kind: EXPORT_KIND,
      version: CHAIN_FORMAT,
      tenantId,
      timeZone,
      verifiable,
      filters,
      fromSeq: range.hi >= range.lo ? range.lo : null,
      toSeq: range.hi >= range.lo ? range.hi : null,
      exportedAt: new Date().toISOString(),
      // For convenience only: verify with the key you pinned, not with one the file brings.
      signingKeys: keys.map((k) => ({ keyId: k.keyId, publicKeyPem: k.publicKeyPem, current: k.keyId === this.signer.keyId })),
    };
    return `${JSON.stringify(header)}\n`;
  }
}
