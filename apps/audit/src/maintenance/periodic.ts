import type { Logger } from '@musubi/platform/logging';

/**
 * Runs `work` every `intervalMs`, one round at a time, starting with one round at
 * once. `stop()` ends the schedule and waits for a running round, so it can run
 * before the service closes its pool. A failing round is logged and retried at
 * the next tick.
 */
export class Periodic {
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> | undefined;
  private stopped = true;

  constructor(
    private readonly name: string,
    private readonly intervalMs: number,
    private readonly work: () => Promise<void>,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.stopped = false;
    void this.runOnce().then(() => this.schedule());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.round;
  }

  runOnce(): Promise<void> {
    this.round ??= this.work()
      .catch((err: unknown) => this.logger.error({ err }, `${this.name} round failed; will try again`))
      .finally(() => {
        this.round = undefined;
      });
    return this.round;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.runOnce().then(() => this.schedule());
    }, this.intervalMs);
    this.timer.unref();
  }
}
