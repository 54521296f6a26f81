import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from './ports.js';

/** Finds an OS binary on PATH or in the sbin folders Debian installs servers to. */
export function findBinary(name: string): string | null {
  const dirs = [...(process.env['PATH'] ?? '').split(':'), '/usr/sbin', '/usr/local/sbin', '/usr/bin', '/usr/local/bin'];
  for (const d of dirs) {
    if (d && existsSync(join(d, name))) return join(d, name);
  }
  return null;
}

export interface PrivateServer {
  readonly url: string;
  readonly port: number;
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const t = setTimeout(() => {
      child.kill('SIGKILL');
    }, 3000);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/**
 * A NATS server with JetStream for one test file alone, on a free port with its
 * own store: nothing else on the machine (a running dev fleet, another test
 * file) can subscribe to its subjects.
 */
export async function startNatsServer(): Promise<PrivateServer> {
  const bin = findBinary('nats-server');
  if (!bin) throw new Error('nats-server is not installed: run `npm test` (it installs it) or `sudo apt-get install -y nats-server`');
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'musubi-nats-'));
  const child = spawn(bin, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir], { stdio: 'ignore' });
  await waitForPort(port);
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    pid: child.pid,
    stop: async () => {
      await stopChild(child);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A Redis server for one test file alone (no persistence). */
export async function startRedisServer(): Promise<PrivateServer> {
  const bin = findBinary('redis-server');
  if (!bin) throw new Error('redis-server is not installed: run `npm test` (it installs it) or `sudo apt-get install -y redis-server`');
  const port = await freePort();
  const child = spawn(bin, ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  await waitForPort(port);
  return { url: `redis://127.0.0.1:${port}`, port, pid: child.pid, stop: () => stopChild(child) };
}
