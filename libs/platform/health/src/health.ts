/** One dependency whose failure makes the service not ready. */
export interface HealthIndicator {
  readonly name: string;
  /** Resolves when the dependency answers; rejects (or times out) otherwise. */
  check(): Promise<void>;
}

export interface ReadinessReport {
  readonly status: 'ready' | 'not_ready';
  readonly checks: Readonly<Record<string, { status: 'up' | 'down'; error?: string }>>;
}

const withTimeout = <T>(p: Promise<T>, ms: number): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });

/** Collects indicators and knows whether the process is starting, serving or stopping. */
export class HealthRegistry {
  private readonly indicators: HealthIndicator[] = [];
  private state: 'starting' | 'serving' | 'stopping' = 'starting';

  register(indicator: HealthIndicator): void {
    this.indicators.push(indicator);
  }

  markServing(): void {
    this.state = 'serving';
  }

  /** From SIGTERM on the service reports not ready, so load balancers stop sending it work. */
  markStopping(): void {
    this.state = 'stopping';
  }

  get stopping(): boolean {
    return this.state === 'stopping';
  }

  async readiness(timeoutMs = 2000): Promise<ReadinessReport> {
    const results = await Promise.all(
      this.indicators.map(async (i) => {
        try {
          await withTimeout(i.check(), timeoutMs);
          return [i.name, { status: 'up' as const }] as const;
        } catch (err) {
          return [i.name, { status: 'down' as const, error: (err as Error).message.slice(0, 200) }] as const;
        }
      }),
    );
    const checks: Record<string, { status: 'up' | 'down'; error?: string }> = {};
    for (const [name, r] of results) checks[name] = r;
    const allUp = results.every(([, r]) => r.status === 'up');
    return { status: allUp && this.state === 'serving' ? 'ready' : 'not_ready', checks };
  }
}
