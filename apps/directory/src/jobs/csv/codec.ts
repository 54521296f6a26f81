import { Readable } from 'node:stream';
import iconv from 'iconv-lite';
import type { CsvEncoding, ExportEncoding } from '@musubi/contracts';

/** Windows-31J: what "Shift_JIS" means for CSV files from Japanese Excel (a superset of JIS X 0208 Shift_JIS). */
const SJIS = 'cp932';

export class EncodingError extends Error {
  constructor(
    message: string,
    /** The 1-based line where the bad bytes are, when known. */
    readonly line: number | null,
  ) {
    super(message);
    this.name = 'EncodingError';
  }
}

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** The encoding to read a file with, from its first bytes: a UTF-8 BOM, else what the caller chose (`auto` tries UTF-8 first). */
export function chosenEncoding(head: Buffer, requested: CsvEncoding): { encoding: 'utf-8' | 'shift_jis'; bom: boolean } {
  const bom = head.subarray(0, 3).equals(BOM);
  if (bom) return { encoding: 'utf-8', bom: true };
  return { encoding: requested === 'shift_jis' ? 'shift_jis' : 'utf-8', bom: false };
}

/**
 * Decodes a byte stream to text, strictly: invalid UTF-8, or bytes that are
 * not Windows-31J, stop with an `EncodingError` naming the line, instead of
 * importing mojibake.
 */
export async function* decode(source: AsyncIterable<Buffer>, encoding: 'utf-8' | 'shift_jis', skipBom: boolean): AsyncGenerator<string> {
  let line = 1;
  let first = true;
  const count = (text: string) => {
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) line++;
  };
  if (encoding === 'utf-8') {
    const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: !skipBom });
    for await (const chunk of source) {
      let text: string;
      try {
        text = decoder.decode(chunk, { stream: true });
      } catch {
        throw new EncodingError(`The file is not valid UTF-8 (near line ${line}). Is it Shift_JIS? Import it with encoding=shift_jis.`, line);
      }
      if (first && skipBom && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      first = false;
      count(text);
      yield text;
    }
    try {
      const rest = decoder.decode();
      if (rest) yield rest;
    } catch {
      throw new EncodingError(`The file is not valid UTF-8 (it ends inside a character, line ${line}).`, line);
    }
    return;
  }
  const decoder = iconv.getDecoder(SJIS);
  for await (const chunk of source) {
    const text = decoder.write(chunk);
    const bad = firstNonSjis(text);
    if (bad >= 0) {
      count(text.slice(0, bad));
      throw new EncodingError(`The file is not valid Shift_JIS (near line ${line}). Is it UTF-8? Import it with encoding=utf-8.`, line);
    }
    count(text);
    yield text;
  }
  const rest = decoder.end();
  if (rest) {
    if (firstNonSjis(rest) >= 0) throw new EncodingError(`The file is not valid Shift_JIS (it ends inside a character, line ${line}).`, line);
    yield rest;
  }
}

/**
 * Where decoded Windows-31J text shows it was not Windows-31J: an undecodable
 * byte (U+FFFD), or a user-defined character (lead bytes F0–F9, Unicode's
 * private use area). UTF-8 multi-byte sequences mostly decode "validly" as
 * Shift_JIS mojibake, but 4-byte ones (emoji) start with F0–F4 and land there;
 * a real company CSV does not carry 外字, which no other system could read anyway.
 */
function firstNonSjis(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0xfffd || (c >= 0xe000 && c <= 0xf8ff)) return i;
  }
  return -1;
}

/**
 * Encodes an export. Shift_JIS (Windows-31J) cannot hold every character:
 * those it cannot are written as `?`, as the issue asks (iconv-lite's default).
 */
export function encode(text: AsyncIterable<string>, encoding: ExportEncoding): Readable {
  return Readable.from(
    (async function* () {
      if (encoding === 'utf-8-bom') yield BOM;
      for await (const part of text) yield encoding === 'shift_jis' ? iconv.encode(part, SJIS) : Buffer.from(part, 'utf8');
    })(),
  );
}

export const contentTypeOf = (encoding: ExportEncoding): string => (encoding === 'shift_jis' ? 'text/csv; charset=Shift_JIS' : 'text/csv; charset=utf-8');
