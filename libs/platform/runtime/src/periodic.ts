import type { Logger } from '@musubi/platform/logging';

export interface PeriodicOptions {
  /** Named in the log line of a failed round. */
  readonly name: string;
  readonly intervalMs: number;
  /** The round; a rejection is logged and the next tick tries again. */
  readonly work: () => Promise<void>;
  readonly logger: Logger;
  /** Run one round as soon as `start()` is called (default: the first round comes after one interval). */
  readonly runAtStart?: boolean;
}

/**
 * A background round every `intervalMs`, one at a time, for the services'
 * timed work (purges, re-checks, checkpoints, notices). Each replica runs one;
 * the work itself shares what is due through the database. A round asked for
 * while one runs joins it. `stop()` ends the schedule and waits for a running
 * round, so it belongs in `beforeApplicationShutdown`, before the pools close.
 */
export class Periodic {
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> | undefined;
  private stopped = true;

  constructor(private readonly opts: PeriodicOptions) {}

  start(): void {
    this.stopped = false;
    if (this.opts.runAtStart) void this.runOnce().then(() => this.schedule());
    else this.schedule();
  }

  /** No further rounds; resolves when the running one (if any) has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.round;
  }

  /** One round now (or the running one); never rejects. */
  runOnce(): Promise<void> {
    this.round ??= this.opts
      .work()
      .catch((err: unknown) => this.opts.logger.error({ err }, `${this.opts.name} round failed; will try again`))
      .finally(() => {
        this.round = undefined;
      });
    return this.round;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.runOnce().then(() => this.schedule());
    }, this.opts.intervalMs);
    this.timer.unref();
  }
}
