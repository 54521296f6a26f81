#!/usr/bin/env node
// @ts-check
// `npm start`: the whole Musubi fleet on this machine.
//
//  1. builds the code (swc, well under a second);
//  2. finds Postgres, NATS (JetStream) and Redis — from the environment, on their
//     standard local ports, or starts local ones with their data in .musubi/;
//  3. starts the development mail sink (SMTP 2525, web mailbox 8025);
//  4. provisions and migrates every service's schema, starts the eight services and
//     waits until each is ready;
//  5. on the first start, creates the `demo` tenant and its administrator;
//  6. prints where everything is. Ctrl-C stops what it started.
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from '../build.mjs';
import { devSecrets, formatLogLine, importDist, portBusy, SERVICE_NAMES } from './common.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dataDir = join(root, '.musubi');
const started = Date.now();
const say = (line) => process.stdout.write(`musubi: ${line}\n`);

const [major, minor] = process.versions.node.split('.').map(Number);
if ((major ?? 0) < 20 || (major === 20 && (minor ?? 0) < 19)) {
  console.error(`musubi: Node ${process.versions.node} is too old; Node 20.19 or newer is needed.`);
  process.exit(1);
}

await build({ quiet: true });
mkdirSync(join(dataDir, 'logs'), { recursive: true });
const secrets = devSecrets(dataDir);
const env = process.env;

const { ensureInfrastructure, Fleet, fleetProcesses, InfraError } = await importDist(root, 'fleet');
const { DevMailSink } = await importDist(root, 'mail');

const port = Number(env.PORT ?? 8080);
const publicUrl = env.PUBLIC_URL ?? `http://localhost:${port}`;
const operatorToken = env.MUSUBI_OPERATOR_TOKEN ?? secrets.operatorToken;

// Fail early and clearly when our own ports are taken (another `npm start`, say).
const services = await Promise.all(SERVICE_NAMES.map((n) => import(pathToFileURL(join(root, 'apps', n, 'dist', 'service.js')).href)));
const entries = services.map((m) => Object.values(m)[0]).map((d) => ({ name: d.name, settings: d.settings, ...(d.database ? { database: { schema: d.database.schema } } : {}) }));
const busy = [];
for (const e of entries) {
  const p = Number(e.settings.HTTP_PORT.default);
  if (await portBusy(p)) busy.push(`${p} (${e.name} health/metrics)`);
}
if (await portBusy(port)) busy.push(`${port} (gateway; set PORT to use another)`);
if (busy.length) {
  console.error(`musubi: these ports are already in use: ${busy.join(', ')}.\nIs the fleet already running? Stop it first (Ctrl-C in its terminal).`);
  process.exit(1);
}

let infra;
try {
  infra = await ensureInfrastructure({ dataDir, env, log: say, postgresPassword: secrets.postgresPassword });
} catch (err) {
  console.error(`musubi: ${err instanceof InfraError ? err.message : err?.stack ?? err}`);
  process.exit(1);
}

const stopInfra = async () => {
  await infra.stop();
};

// The fleet's database, with one role per service (passwords kept in .musubi/secrets.json).
const dbName = env.MUSUBI_DATABASE ?? 'musubi';
const pg = (await import('pg')).default;
const admin = new pg.Client({ connectionString: infra.pgAdminUrl });
await admin.connect();
const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [dbName]);
if (!exists.rowCount) {
  await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(dbName)}`);
  say(`created database ${dbName}`);
}
await admin.end();
const withDb = (url, db, user, password) => {
  const u = new URL(url);
  u.pathname = `/${db}`;
  if (user) {
    u.username = user;
    u.password = password;
  }
  return u.toString();
};

let sink;
let smtpUrl = env.SMTP_URL;
let mailboxUrl = env.MUSUBI_MAILBOX_URL ?? null;
if (!smtpUrl) {
  sink = new DevMailSink();
  try {
    const addr = await sink.start({ smtpPort: Number(env.MAIL_SINK_SMTP_PORT ?? 2525), httpPort: Number(env.MAIL_SINK_HTTP_PORT ?? 8025) });
    smtpUrl = addr.smtpUrl;
    mailboxUrl = addr.httpUrl.replace('127.0.0.1', 'localhost');
  } catch (err) {
    console.error(`musubi: could not start the mail sink (${err.message}); set SMTP_URL to use another SMTP server.`);
    await stopInfra();
    process.exit(1);
  }
}

const fleetEnv = {
  root,
  natsUrl: infra.natsUrl,
  redisUrl: infra.redisUrl,
  databaseAdminUrl: withDb(infra.pgAdminUrl, dbName),
  databaseUrlFor: (schema) => withDb(infra.pgAdminUrl, dbName, `musubi_${schema}`, secrets.rolePassword(schema)),
  operatorToken,
  publicUrl,
  ports: { gateway: { management: Number(entries.find((e) => e.name === 'gateway').settings.HTTP_PORT.default), public: port } },
  extra: Object.fromEntries(
    Object.entries({ LOG_LEVEL: env.LOG_LEVEL ?? 'info', OIDC_KEY_ENCRYPTION_KEY: env.OIDC_KEY_ENCRYPTION_KEY ?? secrets.oidcKeyEncryptionKey, SMTP_URL: smtpUrl, TRUSTED_PROXIES: env.TRUSTED_PROXIES, PLATFORM_DOMAIN: env.PLATFORM_DOMAIN }).filter(([, v]) => v !== undefined),
  ),
};

const quiet = env.MUSUBI_QUIET === '1';
const fleet = new Fleet((service, line) => {
  appendFileSync(join(dataDir, 'logs', `${service}.log`), `${line}\n`);
  const shown = formatLogLine(service, line, env.MUSUBI_LOG_ALL === '1');
  if (shown && !quiet) process.stdout.write(`${shown}\n`);
});

let stopping = false;
async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  say('stopping the fleet…');
  // Whatever hangs, the launcher does not: after a minute it leaves anyway.
  setTimeout(() => {
    console.error('musubi: the stop took over a minute; exiting anyway');
    process.exit(1);
  }, 60_000).unref();
  await fleet.stopAll().catch(() => undefined);
  await sink?.stop().catch(() => undefined);
  await stopInfra().catch(() => undefined);
  say('stopped.');
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

try {
  say('migrating schemas…');
  // In this process, all at once: seven Node boots just to migrate cost ~12 s on two cores.
  const { migrateService } = await importDist(root, 'runtime');
  const defs = services.map((m) => Object.values(m)[0]);
  await Promise.all(
    fleetProcesses(entries, fleetEnv, 'migrate').map(async (p) => {
      const ran = await migrateService(defs.find((d) => d.name === p.name), { env: p.env });
      if (ran.length) say(`${p.name}: ran ${ran.join(', ')}`);
    }),
  );
  say('starting the eight services…');
  await fleet.startAll(fleetProcesses(entries, fleetEnv), 60_000);
} catch (err) {
  console.error(`musubi: ${err.message} (full logs in .musubi/logs/)`);
  await shutdown(1);
}

// --- first start: the demo tenant and its administrator ----------------------------------------
const api = async (method, path, body) => {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: { authorization: `Bearer ${operatorToken}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await res.json().catch(() => ({}));
  return { status: res.status, json };
};

const demoFile = join(dataDir, 'demo-admin.json');
let demo = existsSync(demoFile) ? JSON.parse(readFileSync(demoFile, 'utf8')) : null;
const created = await api('POST', '/api/v1/tenants', { slug: 'demo', displayName: 'デモ株式会社 (Demo Inc.)', timeZone: 'Asia/Tokyo', defaultLocale: 'ja-JP' });
if (created.status === 201) {
  const tenant = created.json;
  const user = await api('POST', `/api/v1/tenants/${tenant.id}/users`, {
    loginId: `admin@${tenant.platformDomain}`,
    displayName: '管理者 (Administrator)',
    familyName: '管理',
    givenName: '太郎',
    roles: ['tenant_admin'],
  });
  const otp = user.status === 201 ? await api('POST', `/api/v1/tenants/${tenant.id}/users/${user.json.id}/temporary-password`) : user;
  if (otp.status !== 201) {
    console.error(`musubi: could not create the demo administrator: ${JSON.stringify(otp.json)}`);
  } else {
    demo = { loginId: user.json.loginId, oneTimePassword: otp.json.temporaryPassword, expiresAt: otp.json.expiresAt };
    writeFileSync(demoFile, JSON.stringify(demo, null, 2), { mode: 0o600 });
  }
} else if (created.status !== 409) {
  console.error(`musubi: could not create the demo tenant: ${created.status} ${JSON.stringify(created.json)}`);
}

const seconds = ((Date.now() - started) / 1000).toFixed(1);
const lines = [
  '',
  `Musubi is running (ready in ${seconds} s). Ctrl-C stops it.`,
  '',
  `  Login page        ${publicUrl}/t/demo/login`,
  `  Admin API         ${publicUrl}/api/v1   (Authorization: Bearer <operator token>)`,
  `  OpenAPI document  ${publicUrl}/api/docs`,
  `  Dev mailbox       ${mailboxUrl ?? `(mail goes to ${smtpUrl})`}`,
  `  Health            ${publicUrl}/health`,
  '',
  ...(demo
    ? [
        `  Demo administrator  ${demo.loginId}`,
        `  One-time password   ${demo.oneTimePassword}${created.status === 201 ? '' : `   (issued at first start; valid until ${demo.expiresAt} unless already changed)`}`,
      ]
    : []),
  ...(env.MUSUBI_OPERATOR_TOKEN ? ['  Operator token      (from MUSUBI_OPERATOR_TOKEN)'] : [`  Operator token      ${operatorToken}   (generated; kept in .musubi/secrets.json)`]),
  `  Infrastructure      postgres ${infra.started.includes('postgres') ? 'started here' : 'found'}, nats ${infra.started.includes('nats') ? 'started here' : 'found'}, redis ${infra.started.includes('redis') ? 'started here' : 'found'}`,
  '',
];
process.stdout.write(`${lines.join('\n')}\n`);
