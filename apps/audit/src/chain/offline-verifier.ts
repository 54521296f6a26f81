// The audit trail's hash chain and checkpoints, and a verifier for exported files.
//
// This file imports nothing but Node's own modules, so its compiled form
// (apps/audit/dist/chain/offline-verifier.js) runs on its own: a customer can check
// an export with only the file and the public key they pinned:
//
//   node offline-verifier.js export.jsonl --public-key audit-signing-key.pem
//
// The audit service uses the same code to chain records and to verify ranges, so
// the service and the offline check cannot disagree about what a record's hash is.
//
// Definitions (format version 1):
// - canonical JSON: object keys sorted by UTF-16 code units, no whitespace,
//   strings and numbers exactly as JSON.stringify writes them (RFC 8785 for the
//   values audit stores);
// - hash(record) = SHA-256( prevHash (32 bytes) || UTF-8(canonical JSON of the record) );
//   the first record of a tenant has prevHash = 32 zero bytes;
// - a checkpoint signs (Ed25519) the UTF-8 bytes of the canonical JSON of
//   { type: "musubi.audit.checkpoint", v: 1, tenantId, seq, hash, recordedAt, issuedAt, keyId }.
import { createHash, createPublicKey, verify as verifySignature, type KeyObject } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const CHAIN_FORMAT = 1;
export const HASH_BYTES = 32;
export const GENESIS_HASH: Buffer = Buffer.alloc(HASH_BYTES);
export const CHECKPOINT_TYPE = 'musubi.audit.checkpoint';
export const EXPORT_KIND = 'musubi-audit-export';

/** JSON values as audit stores them (after JSON.parse: no undefined, no functions). */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Every column of a stored audit record except its chain fields (prevHash, hash). */
export interface ChainRecord {
  readonly v: number;
  readonly tenantId: string;
  readonly seq: number;
  readonly id: string;
  readonly type: string;
  readonly category: string;
  readonly occurredAt: string;
  readonly recordedAt: string;
  readonly expiresOn: string;
  readonly requestId: string | null;
  readonly actor: Json;
  readonly actorId: string | null;
  readonly targetType: string | null;
  readonly targetId: string | null;
  readonly targetUserId: string | null;
  readonly result: string | null;
  readonly method: string | null;
  readonly ip: string | null;
  readonly userAgent: string | null;
  readonly device: string | null;
  readonly application: string | null;
  readonly changes: Json;
  readonly payload: Json;
}

export interface ChainedRecord {
  readonly record: ChainRecord;
  readonly prevHash: Buffer;
  readonly hash: Buffer;
}

export interface CheckpointData {
  readonly tenantId: string;
  readonly seq: number;
  /** hex */
  readonly hash: string;
  readonly recordedAt: string;
  readonly issuedAt: string;
  readonly keyId: string;
  /** base64url */
  readonly signature: string;
}

/** Canonical JSON (see the top of this file). Throws on values JSON cannot carry. */
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new Error('canonical JSON has no NaN or Infinity');
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(',')}]`;
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj)
        .filter((k) => obj[k] !== undefined)
        .sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
    }
    default:
      throw new Error(`canonical JSON cannot hold a ${typeof value}`);
  }
}

export function recordHash(prevHash: Buffer, record: ChainRecord): Buffer {
  return createHash('sha256').update(prevHash).update(canonicalJson(record), 'utf8').digest();
}

/** The exact text a checkpoint signs. */
export function checkpointMessage(cp: Omit<CheckpointData, 'signature'>): string {
  return canonicalJson({ type: CHECKPOINT_TYPE, v: CHAIN_FORMAT, tenantId: cp.tenantId, seq: cp.seq, hash: cp.hash, recordedAt: cp.recordedAt, issuedAt: cp.issuedAt, keyId: cp.keyId });
}

/** A key's id: the first 16 bytes of the SHA-256 of its SubjectPublicKeyInfo (DER), hex. */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 32);
}

export function checkpointSignatureValid(cp: CheckpointData, publicKey: KeyObject): boolean {
  try {
    return verifySignature(null, Buffer.from(checkpointMessage(cp), 'utf8'), publicKey, Buffer.from(cp.signature, 'base64url'));
  } catch {
    return false;
  }
}

export type FailureReason =
  | 'hash_mismatch'
  | 'chain_broken'
  | 'sequence_gap'
  | 'missing_records'
  | 'checkpoint_mismatch'
  | 'bad_signature'
  | 'unknown_key'
  | 'head_mismatch';

export interface ChainFailure {
  readonly reason: FailureReason;
  readonly seq: number;
  readonly eventId: string | null;
  readonly detail: string;
}

/**
 * Walks one tenant's records in sequence order (and the checkpoints that fall
 * on them), stopping at the first failure:
 * - every record's hash is recomputed from its content and its prevHash;
 * - each record's prevHash is the previous record's hash, and sequence numbers
 *   have no gap;
 * - a checkpoint must be signed by a known key and name the hash of the record
 *   at its seq. A signed checkpoint anchors every record up to it: rewriting
 *   one of them (and re-hashing all after it) cannot match the signature.
 */
export class ChainWalker {
  private last: { seq: number; hash: Buffer; id: string } | null = null;
  private lastAnchor: number | null = null;
  records = 0;
  checkpoints = 0;
  firstSeq: number | null = null;
  failure: ChainFailure | null = null;

  constructor(private readonly keys: ReadonlyMap<string, KeyObject>) {}

  get lastSeq(): number | null {
    return this.last?.seq ?? null;
  }

  get lastHash(): Buffer | null {
    return this.last?.hash ?? null;
  }

  get anchoredThroughSeq(): number | null {
    return this.lastAnchor;
  }

  private fail(f: ChainFailure): false {
    this.failure = f;
    return false;
  }

  /**
   * Starts the walk after a signed checkpoint whose record is not walked (it was
   * purged, or lies before the range): the next record must chain to its hash.
   */
  seed(cp: CheckpointData): boolean {
    if (this.failure) return false;
    const key = this.keys.get(cp.keyId);
    if (!key) return this.fail({ reason: 'unknown_key', seq: cp.seq, eventId: null, detail: `the checkpoint at ${cp.seq} is signed with key ${cp.keyId}, which is not trusted here` });
    if (!checkpointSignatureValid(cp, key)) return this.fail({ reason: 'bad_signature', seq: cp.seq, eventId: null, detail: `the signature of the checkpoint at ${cp.seq} is not valid` });
    this.last = { seq: cp.seq, hash: Buffer.from(cp.hash, 'hex'), id: '' };
    this.lastAnchor = cp.seq;
    this.checkpoints++;
    return true;
  }

  /**
   * Starts the walk after the record just before the range (not checked, not
   * counted): the range's first record must chain to its hash.
   */
  seedRecord(r: ChainedRecord): void {
    this.last = { seq: r.record.seq, hash: r.hash, id: r.record.id };
  }

  /** Returns false (and sets `failure`) when the record breaks the chain. */
  record(r: ChainedRecord): boolean {
    if (this.failure) return false;
    const { seq, id } = r.record;
    if (this.last) {
      if (seq !== this.last.seq + 1) {
        return this.fail({
          reason: 'sequence_gap',
          seq: this.last.seq + 1,
          eventId: null,
          detail: seq > this.last.seq + 1 ? `records ${this.last.seq + 1} to ${seq - 1} are missing` : `record ${seq} comes after record ${this.last.seq}`,
        });
      }
      if (!r.prevHash.equals(this.last.hash)) {
        if (!this.last.id) {
          return this.fail({ reason: 'chain_broken', seq, eventId: id, detail: `record ${seq} does not chain to the signed checkpoint at ${this.last.seq}` });
        }
        // The record before was changed and re-hashed: its hash is not the one this record was chained to.
        return this.fail({ reason: 'chain_broken', seq: this.last.seq, eventId: this.last.id, detail: `record ${this.last.seq} does not have the hash record ${seq} was chained to` });
      }
    } else if (seq === 1 && !r.prevHash.equals(GENESIS_HASH)) {
      return this.fail({ reason: 'chain_broken', seq, eventId: id, detail: 'the first record does not start from the genesis hash' });
    }
    if (r.prevHash.length !== HASH_BYTES || r.hash.length !== HASH_BYTES) {
      return this.fail({ reason: 'hash_mismatch', seq, eventId: id, detail: 'a hash is not 32 bytes' });
    }
    let computed: Buffer;
    try {
      computed = recordHash(r.prevHash, r.record);
    } catch (err) {
      return this.fail({ reason: 'hash_mismatch', seq, eventId: id, detail: `the record cannot be hashed: ${(err as Error).message}` });
    }
    if (!computed.equals(r.hash)) return this.fail({ reason: 'hash_mismatch', seq, eventId: id, detail: 'the content of the record does not match its hash' });
    this.last = { seq, hash: r.hash, id };
    this.firstSeq ??= seq;
    this.records++;
    return true;
  }

  /** A checkpoint at the record just walked (its seq must be the last record's). */
  checkpoint(cp: CheckpointData): boolean {
    if (this.failure) return false;
    if (!this.last || cp.seq !== this.last.seq) {
      return this.fail({ reason: 'missing_records', seq: cp.seq, eventId: null, detail: `a checkpoint names record ${cp.seq}, which is not there` });
    }
    const key = this.keys.get(cp.keyId);
    if (!key) return this.fail({ reason: 'unknown_key', seq: cp.seq, eventId: null, detail: `the checkpoint at ${cp.seq} is signed with key ${cp.keyId}, which is not trusted here` });
    if (!checkpointSignatureValid(cp, key)) return this.fail({ reason: 'bad_signature', seq: cp.seq, eventId: null, detail: `the signature of the checkpoint at ${cp.seq} is not valid` });
    if (cp.hash !== this.last.hash.toString('hex')) {
      const from = (this.lastAnchor ?? (this.firstSeq ?? cp.seq) - 1) + 1;
      return this.fail({
        reason: 'checkpoint_mismatch',
        seq: cp.seq,
        eventId: this.last.id || null,
        detail: `the signed checkpoint at ${cp.seq} names another hash: a record from ${from} to ${cp.seq} was changed and the chain re-hashed`,
      });
    }
    this.lastAnchor = cp.seq;
    this.checkpoints++;
    return true;
  }
}

// ------------------------------------------------------------------ export files

export interface ExportHeader {
  readonly kind: typeof EXPORT_KIND;
  readonly version: number;
  readonly tenantId: string;
  readonly verifiable: boolean;
}

export interface OfflineResult {
  readonly ok: boolean;
  readonly records: number;
  readonly checkpoints: number;
  readonly firstSeq: number | null;
  readonly lastSeq: number | null;
  readonly anchoredThroughSeq: number | null;
  readonly failure: ChainFailure | null;
  readonly problem: string | null;
}

const hexBuffer = (v: unknown): Buffer => (typeof v === 'string' && /^[0-9a-f]*$/.test(v) ? Buffer.from(v, 'hex') : Buffer.alloc(0));

/**
 * Verifies an exported JSON Lines file: a header, then records in chain order,
 * each followed by the checkpoints signed at it, then an end line with the count.
 * The file is complete and untouched only if every record chains to the one
 * before, and a checkpoint signed by a trusted key covers the last record.
 */
export async function verifyExport(lines: AsyncIterable<string>, keys: ReadonlyMap<string, KeyObject>): Promise<OfflineResult> {
  const walker = new ChainWalker(keys);
  let header: ExportHeader | null = null;
  let end: { records: number } | null = null;
  let problem: string | null = null;
  let n = 0;
  for await (const raw of lines) {
    n++;
    const line = raw.trim();
    if (line === '') continue;
    if (end) {
      problem = `line ${n}: content after the end line`;
      break;
    }
    let obj: Record<string, unknown>;
    try {
      obj = JSON.parse(line) as Record<string, unknown>;
    } catch {
      problem = `line ${n} is not JSON`;
      break;
    }
    if (!header) {
      if (obj['kind'] !== EXPORT_KIND || obj['version'] !== CHAIN_FORMAT) {
        problem = 'the first line is not a Musubi audit export header (version 1)';
        break;
      }
      header = obj as unknown as ExportHeader;
      if (!header.verifiable) {
        problem = 'this export was filtered (by type, user, IP…): only an export without filters other than a time range carries a complete chain';
        break;
      }
      continue;
    }
    if (obj['kind'] === 'record') {
      const record = obj['record'] as ChainRecord;
      if (record?.tenantId !== header.tenantId) {
        problem = `line ${n}: a record of another tenant`;
        break;
      }
      if (!walker.record({ record, prevHash: hexBuffer(obj['prevHash']), hash: hexBuffer(obj['hash']) })) break;
    } else if (obj['kind'] === 'checkpoint') {
      const cp = obj as unknown as CheckpointData;
      if (cp.tenantId !== header.tenantId) {
        problem = `line ${n}: a checkpoint of another tenant`;
        break;
      }
      if (!walker.checkpoint(cp)) break;
    } else if (obj['kind'] === 'end') {
      end = { records: Number(obj['records']) };
    } else {
      problem = `line ${n}: unknown kind ${JSON.stringify(obj['kind'])}`;
      break;
    }
  }
  if (!problem && !walker.failure) {
    if (!header) problem = 'the file is empty';
    else if (!end) problem = 'the file has no end line: it was cut short';
    else if (end.records !== walker.records) problem = `the end line counts ${end.records} records, the file has ${walker.records}`;
    else if (walker.records > 0 && walker.anchoredThroughSeq !== walker.lastSeq) {
      problem = `no trusted checkpoint covers the last record (${walker.lastSeq}); records after ${walker.anchoredThroughSeq ?? 'the start'} could have been changed`;
    }
  }
  return {
    ok: !problem && !walker.failure,
    records: walker.records,
    checkpoints: walker.checkpoints,
    firstSeq: walker.firstSeq,
    lastSeq: walker.lastSeq,
    anchoredThroughSeq: walker.anchoredThroughSeq,
    failure: walker.failure,
    problem,
  };
}

/** Reads a public key: an SPKI PEM, or a raw 32-byte Ed25519 key in base64/base64url. */
export function readPublicKey(text: string): KeyObject {
  const t = text.trim();
  if (t.startsWith('-----BEGIN')) return createPublicKey(t);
  const raw = Buffer.from(t, 'base64');
  if (raw.length !== 32) throw new Error('not a PEM public key nor a raw 32-byte Ed25519 key');
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
}

async function main(argv: readonly string[]): Promise<number> {
  const out = (s: string) => process.stdout.write(`${s}\n`);
  const files: string[] = [];
  const keyFiles: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--public-key') keyFiles.push(argv[++i] ?? '');
    else if (a === '--help' || a === '-h') files.length = 0;
    else files.push(a);
  }
  if (files.length !== 1 || keyFiles.length === 0 || keyFiles.some((k) => !k)) {
    out('usage: node offline-verifier.js <export.jsonl> --public-key <key.pem> [--public-key <older-key.pem> ...]');
    return 2;
  }
  const keys = new Map<string, KeyObject>();
  for (const f of keyFiles) {
    try {
      const key = readPublicKey(readFileSync(f, 'utf8'));
      keys.set(keyIdOf(key), key);
    } catch (err) {
      out(`cannot read public key ${f}: ${(err as Error).message}`);
      return 2;
    }
  }
  const input = createReadStream(files[0]!, { encoding: 'utf8' });
  let result: OfflineResult;
  try {
    result = await verifyExport(createInterface({ input, crlfDelay: Infinity }), keys);
  } catch (err) {
    out(`cannot read ${files[0]}: ${(err as Error).message}`);
    return 2;
  }
  if (result.ok) {
    out(`OK: ${result.records} records (seq ${result.firstSeq ?? '-'} to ${result.lastSeq ?? '-'}), ${result.checkpoints} signed checkpoints, all anchored`);
    return 0;
  }
  if (result.failure) out(`FAILED at record ${result.failure.seq}${result.failure.eventId ? ` (event ${result.failure.eventId})` : ''}: ${result.failure.reason}: ${result.failure.detail}`);
  else out(`FAILED: ${result.problem ?? 'unknown problem'}`);
  out(`checked ${result.records} records and ${result.checkpoints} checkpoints before stopping`);
  return 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
