import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBinary, waitForPort } from '@musubi/platform/testing';

/** A server a test started itself, to stand in for one of the fleet's after stopping it. */
export interface ReplacementServer {
  stop(): Promise<void>;
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

function binary(name: string): string {
  const bin = findBinary(name);
  if (!bin) throw new Error(`${name} is not installed`);
  return bin;
}

/**
 * A fresh Redis on a given port (the port a stopped one used), so clients that
 * were connected to the old one can reconnect to it.
 */
export async function startRedisOnPort(port: number): Promise<ReplacementServer> {
  const child = spawn(binary('redis-server'), ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  await waitForPort(port);
  return { stop: () => stopChild(child) };
}

/** A fresh NATS with JetStream (and an empty store of its own) on a given port. */
export async function startNatsOnPort(port: number): Promise<ReplacementServer> {
  const dir = await mkdtemp(join(tmpdir(), 'musubi-nats-again-'));
  const child = spawn(binary('nats-server'), ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir], { stdio: 'ignore' });
  await waitForPort(port);
  return {
    stop: async () => {
      await stopChild(child);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
