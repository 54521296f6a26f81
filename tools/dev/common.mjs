// @ts-check
// Shared by `npm start` and `npm test`: the service list, local secrets, log formatting.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export const SERVICE_NAMES = ['gateway', 'authn', 'directory', 'federation', 'mfa', 'keys', 'audit', 'billing'];

/** Imports a compiled platform concern (libs/platform/dist/<concern>). */
export async function importDist(root, concern) {
  const file = join(root, 'libs', 'platform', 'dist', concern, 'index.js');
  if (!existsSync(file)) throw new Error(`${file} is missing: the build did not run`);
  return import(pathToFileURL(file).href);
}

/**
 * Secrets of this development machine, generated once and kept in .musubi/secrets.json
 * (mode 600): the local Postgres superuser's password, one password per service role
 * and the operator token (unless MUSUBI_OPERATOR_TOKEN is set).
 */
export function devSecrets(dataDir) {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, 'secrets.json');
  const stored = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  const gen = () => randomBytes(24).toString('base64url');
  const s = {
    postgresPassword: stored.postgresPassword ?? gen(),
    operatorToken: stored.operatorToken ?? randomBytes(32).toString('base64url'),
    oidcKeyEncryptionKey: stored.oidcKeyEncryptionKey ?? randomBytes(32).toString('base64'),
    roles: { ...(stored.roles ?? {}) },
  };
  for (const name of SERVICE_NAMES) s.roles[name] ??= gen();
  writeFileSync(file, JSON.stringify(s, null, 2), { mode: 0o600 });
  return { ...s, rolePassword: (schema) => s.roles[schema] ?? gen() };
}

export function portBusy(port, host = '0.0.0.0') {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(true));
    srv.listen(port, host, () => srv.close(() => resolve(false)));
  });
}

const LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };
const COLOURS = { warn: '\x1b[33m', error: '\x1b[31m', fatal: '\x1b[31m', info: '', debug: '\x1b[2m', trace: '\x1b[2m' };
const NOISE = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestFactory', 'NestMicroservice', 'NestApplication']);

/** One JSON log line, compact for a terminal; Nest's start-up chatter hidden unless asked for. */
export function formatLogLine(service, line, all = false) {
  let rec;
  try {
    rec = JSON.parse(line);
  } catch {
    return `${service.padEnd(10)} ${line}`;
  }
  if (!all && NOISE.has(rec.context)) return null;
  const level = rec.level ?? 'info';
  if (!all && (LEVELS[level] ?? 30) < 30) return null;
  const { level: _l, time, service: _s, pid: _p, msg, context: _c, ...rest } = rec;
  const extra = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
  const tty = process.stdout.isTTY;
  const colour = tty ? (COLOURS[level] ?? '') : '';
  const reset = tty && colour ? '\x1b[0m' : '';
  const t = typeof time === 'string' ? time.slice(11, 19) : '';
  return `${colour}${t} ${service.padEnd(10)} ${level.padEnd(5)} ${msg ?? ''}${extra.length > 400 ? `${extra.slice(0, 400)}…` : extra}${reset}`;
}
