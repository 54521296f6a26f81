// The verification command: checks a range of one tenant's chain in the database
// (every record against its hash and its predecessor, every signed checkpoint
// against the record it names, the last record against the chain head), and
// says where it first fails. Exit code 0: verified; 1: it does not verify; 2: usage.
//
//   DATABASE_URL=postgres://… node apps/audit/dist/cli/verify.js --tenant <uuid> \
//     [--from-seq N] [--to-seq M] [--from 2026-01-01T00:00:00Z] [--to …] \
//     [--public-key pinned.pem …] [--json]
//
// (`npm run verify -w @musubi/audit -- --tenant …` from the checkout.) Without
// --public-key it trusts every key audit registered; with it, only the keys given.
import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { AuditVerificationReport } from '@musubi/contracts';
import { ConfigError, loadConfig, type Environment } from '@musubi/platform/config';
import { createDataSource } from '@musubi/platform/db';
import { keyIdOf, readPublicKey } from '../chain/offline-verifier.js';
import { CheckpointRepository } from '../checkpoints/checkpoint.repository.js';
import { auditSettings } from '../config/env.schema.js';
import { ChainReader } from '../verification/chain.reader.js';
import { VerifyService } from '../verification/verify.service.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const USAGE =
  'usage: verify --tenant <uuid> [--from-seq N] [--to-seq M] [--from <RFC 3339>] [--to <RFC 3339>] [--public-key <file.pem> ...] [--json]\n' +
  '       (reads DATABASE_URL; the platform chain of events without a tenant is 00000000-0000-0000-0000-000000000000)';

interface Args {
  tenant: string;
  fromSeq?: number;
  toSeq?: number;
  from?: string;
  to?: string;
  keyFiles: string[];
  json: boolean;
}

function parseArgs(argv: readonly string[]): Args | string {
  const a: Partial<Args> & { keyFiles: string[]; json: boolean } = { keyFiles: [], json: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = () => argv[++i] ?? '';
    const seq = (v: string) => (/^[1-9]\d{0,15}$/.test(v) ? Number(v) : NaN);
    const time = (v: string) => (Number.isFinite(Date.parse(v)) ? new Date(v).toISOString() : '');
    switch (flag) {
      case '--tenant':
        a.tenant = value().toLowerCase();
        break;
      case '--from-seq':
        a.fromSeq = seq(value());
        break;
      case '--to-seq':
        a.toSeq = seq(value());
        break;
      case '--from':
        a.from = time(value());
        break;
      case '--to':
        a.to = time(value());
        break;
      case '--public-key':
        a.keyFiles.push(value());
        break;
      case '--json':
        a.json = true;
        break;
      default:
        return `unknown argument ${flag}`;
    }
  }
  if (!a.tenant || !UUID.test(a.tenant)) return '--tenant must be a tenant id (UUID)';
  if (Number.isNaN(a.fromSeq) || Number.isNaN(a.toSeq)) return '--from-seq and --to-seq must be positive integers';
  if (a.from === '' || a.to === '') return '--from and --to must be RFC 3339 times';
  if (a.keyFiles.some((k) => !k)) return '--public-key needs a file';
  return a as Args;
}

export function describeReport(r: AuditVerificationReport): string {
  const range = r.fromSeq === null ? 'no records' : `records ${r.fromSeq} to ${r.toSeq}`;
  const lines: string[] = [];
  if (r.ok) {
    lines.push(`OK: tenant ${r.tenantId}, ${range} (${r.records} checked), ${r.checkpoints} signed checkpoints`);
    lines.push(`anchored by a signed checkpoint through ${r.anchoredThroughSeq ?? '-'}; ${r.unanchored} newer record(s) chained, not yet signed`);
  } else if (r.failure) {
    lines.push(`FAILED at record ${r.failure.seq}${r.failure.eventId ? ` (event ${r.failure.eventId})` : ''}: ${r.failure.reason}: ${r.failure.detail}`);
    lines.push(`checked ${r.records} record(s) and ${r.checkpoints} checkpoint(s) before that`);
  }
  if (r.purgedThroughSeq !== null) lines.push(`records up to ${r.purgedThroughSeq} were removed by retention`);
  if (!r.complete) lines.push(`stopped early: continue with --from-seq ${r.nextFromSeq}`);
  return lines.join('\n');
}

/** Runs the command; returns its exit code. `out` receives what it prints. */
export async function runVerify(argv: readonly string[], env: Environment, out: (line: string) => void): Promise<number> {
  const args = parseArgs(argv);
  if (typeof args === 'string') {
    out(`${args}\n${USAGE}`);
    return 2;
  }
  let config: { DATABASE_URL: string };
  try {
    config = loadConfig({ DATABASE_URL: auditSettings.DATABASE_URL }, env);
  } catch (err) {
    out(err instanceof ConfigError ? err.message : String(err));
    return 2;
  }
  let keys: Map<string, KeyObject> | undefined;
  if (args.keyFiles.length > 0) {
    keys = new Map();
    for (const f of args.keyFiles) {
      try {
        const key = readPublicKey(readFileSync(f, 'utf8'));
        keys.set(keyIdOf(key), key);
      } catch (err) {
        out(`cannot read public key ${f}: ${(err as Error).message}`);
        return 2;
      }
    }
  }
  const ds = createDataSource({ url: config.DATABASE_URL, schema: 'audit', entities: [], migrations: [], poolSize: 2, applicationName: 'audit-verify' });
  await ds.initialize();
  try {
    const verifier = new VerifyService(new ChainReader(ds), new CheckpointRepository(ds));
    const report = await verifier.verify(args.tenant, { fromSeq: args.fromSeq, toSeq: args.toSeq, from: args.from, to: args.to, ...(keys ? { keys } : {}) });
    out(args.json ? JSON.stringify(report) : describeReport(report));
    return report.ok ? 0 : 1;
  } finally {
    await ds.destroy();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  void runVerify(process.argv.slice(2), process.env, (line) => process.stdout.write(`${line}\n`)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`verify failed: ${(err as Error).message}\n`);
      process.exitCode = 2;
    },
  );
}
