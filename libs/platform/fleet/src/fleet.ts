import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface ServiceProcess {
  readonly name: string;
  /** The compiled entry point, e.g. apps/directory/dist/main.js. */
  readonly entry: string;
  readonly env: Readonly<Record<string, string>>;
  /** Where it answers /health/ready. */
  readonly managementPort: number;
  /** Extra flags for node itself (the benchmark's --cpu-prof, say). */
  readonly execArgv?: readonly string[];
}

export type LineSink = (service: string, line: string, stream: 'stdout' | 'stderr') => void;

interface Running {
  readonly spec: ServiceProcess;
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs the fleet's services as child processes: start, wait until ready,
 * signal, kill or stop one, stop all. Used by `npm start` and by the end-to-end
 * tests, so both run the fleet the same way.
 */
export class Fleet {
  private readonly running = new Map<string, Running>();

  constructor(private readonly sink: LineSink) {}

  private spawn(spec: ServiceProcess): Running {
    // No --enable-source-maps: it parses every dependency's source map at boot (seconds on two cores).
    const child = spawn(process.execPath, [...(spec.execArgv ?? []), spec.entry], {
      env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const [stream, name] of [
      [child.stdout, 'stdout'],
      [child.stderr, 'stderr'],
    ] as const) {
      if (stream) createInterface({ input: stream }).on('line', (line) => this.sink(spec.name, line, name));
    }
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    return { spec, child, exited };
  }

  start(spec: ServiceProcess): void {
    if (this.running.has(spec.name)) throw new Error(`${spec.name} is already running`);
    const r = this.spawn(spec);
    this.running.set(spec.name, r);
    void r.exited.then(() => {
      if (this.running.get(spec.name) === r) this.running.delete(spec.name);
    });
  }

  async waitReady(name: string, timeoutMs = 60_000): Promise<void> {
    const r = this.running.get(name);
    if (!r) throw new Error(`${name} is not running`);
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      if (r.child.exitCode !== null) throw new Error(`${name} exited with code ${r.child.exitCode} before it was ready`);
      try {
        const res = await fetch(`http://127.0.0.1:${r.spec.managementPort}/health/ready`, { signal: AbortSignal.timeout(1000) });
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      await sleep(100);
    }
    throw new Error(`${name} was not ready within ${timeoutMs} ms`);
  }

  /** Starts every service at once and resolves when all are ready. */
  async startAll(specs: readonly ServiceProcess[], timeoutMs = 60_000): Promise<void> {
    for (const s of specs) this.start(s);
    await Promise.all(specs.map((s) => this.waitReady(s.name, timeoutMs)));
  }

  /** Sends a signal without waiting (SIGSTOP/SIGCONT freeze and thaw a service). */
  signal(name: string, signal: NodeJS.Signals): void {
    const r = this.running.get(name);
    if (!r) throw new Error(`${name} is not running`);
    r.child.kill(signal);
  }

  /** The OS process id of a running service (for measurements). */
  pidOf(name: string): number | undefined {
    return this.running.get(name)?.child.pid;
  }

  isRunning(name: string): boolean {
    return this.running.has(name);
  }

  /** Sends a signal and waits for the exit: SIGKILL for a crash, SIGTERM for a graceful stop. */
  async kill(name: string, signal: NodeJS.Signals = 'SIGKILL', timeoutMs = 20_000): Promise<number | null> {
    const r = this.running.get(name);
    if (!r) return null;
    r.child.kill(signal);
    const t = setTimeout(() => r.child.kill('SIGKILL'), timeoutMs);
    const code = await r.exited;
    clearTimeout(t);
    this.running.delete(name);
    return code;
  }

  /** Graceful stop of everything: the gateway first (no new work), then the rest together. */
  async stopAll(timeoutMs = 20_000): Promise<void> {
    if (this.running.has('gateway')) await this.kill('gateway', 'SIGTERM', timeoutMs);
    await Promise.all([...this.running.keys()].map((n) => this.kill(n, 'SIGTERM', timeoutMs)));
  }
}
