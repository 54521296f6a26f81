import { pipeline, Readable } from 'node:stream';
import { CsvError, parse } from 'csv-parse';

/** A column an importer understands: its canonical header and the other names it accepts (e.g. Japanese ones). */
export interface ColumnSpec {
  readonly name: string;
  readonly aliases?: readonly string[];
  readonly required?: boolean;
}

export interface CsvRow {
  /** 1-based line of the file where the row starts (the header is line 1). */
  readonly row: number;
  /** Values keyed by canonical column name; columns absent from the file are absent here. */
  readonly values: Readonly<Record<string, string>>;
  /** The row's cells as they stand, in the header's order. */
  readonly cells: readonly string[];
}

export class CsvFormatError extends Error {
  constructor(
    message: string,
    readonly row: number,
    readonly column: string | null,
  ) {
    super(message);
    this.name = 'CsvFormatError';
  }
}

const norm = (s: string) => s.normalize('NFKC').trim().toLowerCase().replace(/[\s_-]+/g, '');

/** Maps a header row to canonical column names; unknown, duplicate and missing required columns are errors of row 1. */
export function mapHeader(header: readonly string[], columns: readonly ColumnSpec[]): { map: (string | null)[]; problems: Array<{ column: string | null; message: string }>; unknown: string[] } {
  const byName = new Map<string, string>();
  for (const c of columns) for (const n of [c.name, ...(c.aliases ?? [])]) byName.set(norm(n), c.name);
  const problems: Array<{ column: string | null; message: string }> = [];
  const unknown: string[] = [];
  const seen = new Set<string>();
  const map = header.map((h) => {
    const canonical = byName.get(norm(h));
    if (!canonical) {
      unknown.push(h);
      problems.push({ column: h, message: `is not a known column (known: ${columns.map((c) => c.name).join(', ')})` });
      return null;
    }
    if (seen.has(canonical)) problems.push({ column: h, message: 'appears twice' });
    seen.add(canonical);
    return canonical;
  });
  for (const c of columns) if (c.required && !seen.has(c.name)) problems.push({ column: c.name, message: 'is a required column' });
  if (header.length === 0 || header.every((h) => h.trim() === '')) problems.push({ column: null, message: 'the file has no header row' });
  return { map, problems, unknown };
}

/**
 * Rows of a CSV text stream: the first row is the header; values are mapped to
 * canonical column names. A malformed file (an unclosed quote, a row with more
 * cells than the header) stops with a `CsvFormatError` naming the row.
 */
export async function* readCsv(text: AsyncIterable<string>, onHeader: (header: string[]) => (string | null)[]): AsyncGenerator<CsvRow> {
  const parser = parse({ info: true, skip_empty_lines: true, relax_column_count: false, bom: false });
  // pipeline (unlike pipe) hands a failure of the source, e.g. an EncodingError, on to the parser, so reading it throws.
  pipeline(Readable.from(text), parser, () => undefined);
  let map: (string | null)[] | null = null;
  try {
    for await (const item of parser as AsyncIterable<{ record: string[]; info: { lines: number; records: number } }>) {
      if (!map) {
        map = onHeader(item.record);
        continue;
      }
      const values: Record<string, string> = {};
      item.record.forEach((v, i) => {
        const name = map?.[i];
        if (name) values[name] = v;
      });
      yield { row: item.info.lines, values, cells: item.record };
    }
  } catch (err) {
    if (err instanceof CsvError) {
      const line = (err as CsvError & { lines?: number }).lines ?? 0;
      const msg =
        err.code === 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH'
          ? 'has a different number of cells than the header'
          : err.code === 'CSV_QUOTE_NOT_CLOSED'
            ? 'has a quote that is never closed'
            : err.code === 'CSV_INVALID_CLOSING_QUOTE'
              ? 'has a closing quote followed by other characters'
              : 'is not well-formed CSV';
      throw new CsvFormatError(`Row ${line} ${msg}.`, line, null);
    }
    throw err;
  }
}
