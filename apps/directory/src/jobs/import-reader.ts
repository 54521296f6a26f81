import type { CsvEncoding, JobError } from '@musubi/contracts';
import { chosenEncoding, decode, EncodingError } from './csv/codec.js';
import { CsvFormatError, mapHeader, readCsv, type ColumnSpec, type CsvRow } from './csv/reader.js';

/** Why a file cannot be read at all (as opposed to rows with bad values). */
export class UnreadableFile extends Error {
  constructor(
    readonly errors: readonly JobError[],
    /** The bytes are not in the encoding tried (another encoding may read them). */
    readonly wrongEncoding = false,
  ) {
    super(errors[0]?.message ?? 'The file cannot be read.');
    this.name = 'UnreadableFile';
  }
}

/** Peeks at the first bytes without losing them. */
async function withHead(source: AsyncIterable<Buffer>): Promise<{ head: Buffer; rest: AsyncIterable<Buffer> }> {
  const it = source[Symbol.asyncIterator]();
  const first = await it.next();
  const head = first.done ? Buffer.alloc(0) : first.value;
  return {
    head,
    rest: (async function* () {
      if (head.length) yield head;
      for (let n = await it.next(); !n.done; n = await it.next()) yield n.value;
    })(),
  };
}

export interface OpenedCsv {
  readonly encoding: 'utf-8' | 'shift_jis';
  readonly header: readonly string[];
  readonly unknown: readonly string[];
  readonly rows: AsyncIterable<CsvRow>;
}

/**
 * Opens an import file: picks the encoding (a UTF-8 BOM wins; `auto` means
 * UTF-8, and `readImport` retries as Shift_JIS when that fails), maps the
 * header, and yields rows. Header problems (unknown, duplicate or missing
 * required columns) are an `UnreadableFile` with the problems of row 1.
 */
export async function openCsv(
  source: AsyncIterable<Buffer>,
  requested: CsvEncoding,
  columns: readonly ColumnSpec[],
  forced?: 'utf-8' | 'shift_jis',
  /** A preview lists header problems (`unknown`) instead of refusing the file. */
  lenientHeader = false,
): Promise<OpenedCsv> {
  const { head, rest } = await withHead(source);
  const chosen = chosenEncoding(head, requested);
  const encoding = forced ?? chosen.encoding;
  let header: string[] = [];
  let unknown: string[] = [];
  const text = decode(rest, encoding, chosen.bom);
  const rows = readCsv(text, (h) => {
    header = h;
    const mapped = mapHeader(h, columns);
    unknown = mapped.unknown;
    if (mapped.problems.length > 0 && !lenientHeader) throw new UnreadableFile(mapped.problems.map((p) => ({ row: 1, column: p.column, message: p.message })));
    return mapped.map;
  });
  // Reading the first row makes the header known (and validated) before anything else happens.
  const it = rows[Symbol.asyncIterator]();
  let first: IteratorResult<CsvRow>;
  try {
    first = await it.next();
  } catch (err) {
    throw translate(err);
  }
  return {
    encoding,
    header,
    unknown,
    rows: (async function* () {
      try {
        if (!first.done) yield first.value;
        for (let n = await it.next(); !n.done; n = await it.next()) yield n.value;
      } catch (err) {
        throw translate(err);
      }
    })(),
  };
}

function translate(err: unknown): unknown {
  if (err instanceof UnreadableFile) return err;
  if (err instanceof EncodingError) return new UnreadableFile([{ row: err.line ?? 0, column: null, message: err.message }], true);
  if (err instanceof CsvFormatError) return new UnreadableFile([{ row: err.row, column: err.column, message: err.message }]);
  return err;
}
