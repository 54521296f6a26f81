import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { OutboxWriter } from '@musubi/platform/bus';
import { UnitOfWork, runSql } from '@musubi/platform/db';
import type { Logger } from '@musubi/platform/logging';
import { LOGGER } from '@musubi/platform/runtime';

interface Pending {
  readonly tenantId: string;
  readonly client: { id: string; name: string };
  readonly scope: string;
  readonly jti: string;
  readonly at: Date;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

const MAX_GROUP = 2000;
/** How often what was written is reported to the trail. */
const REPORT_EVERY_MS = 1000;
const REPORT_BATCH = 20_000;
/** jtis per event (the contract's limit). */
const JTIS_PER_EVENT = 1000;

interface Row {
  seq: string;
  tenant_id: string;
  client_id: string;
  client_name: string;
  scope: string;
  jti: string;
}

/**
 * The trail of client-credentials tokens, at thousands a second without a
 * transaction or an event per token:
 * - group commit: a token is answered only after its row is in
 *   `issued_tokens` (one multi-row INSERT for the tokens that arrived while
 *   the previous group was written), so none is handed out unrecorded;
 * - each second, one transaction moves those rows into the outbox as one
 *   `token.issued` event per client and scope set (count and jtis), so the
 *   relay and the audit trail see a few events a second, not thousands.
 * Replicas report side by side (SKIP LOCKED); a crash leaves the rows for the
 * next round.
 */
@Injectable()
export class IssuedEvents implements OnModuleInit, OnModuleDestroy {
  private queue: Pending[] = [];
  /** A group write scheduled or in flight; tokens arriving meanwhile form the next group. */
  private writing: Promise<void> | null = null;
  private reporter: NodeJS.Timeout | null = null;
  private reporting: Promise<void> | null = null;

  constructor(
    private readonly dataSource: DataSource,
    private readonly uow: UnitOfWork,
    private readonly outbox: OutboxWriter,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    this.reporter = setInterval(() => void this.report(), REPORT_EVERY_MS);
    this.reporter.unref();
  }

  async onModuleDestroy(): Promise<void> {
    if (this.reporter) clearInterval(this.reporter);
    while (this.writing) await this.writing;
    await this.report();
  }

  /**
   * Group commit without a fixed window: when nothing is being written, the
   * tokens of this turn of the event loop are written at once (setImmediate);
   * while a group is being written, newcomers wait for it and go together in
   * the next. At low load a token waits only for its own insert; under load
   * groups grow by themselves. (A fixed 4 ms window made every token wait
   * for it.)
   */
  record(tenantId: string, client: { id: string; name: string }, scopes: readonly string[], jti: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ tenantId, client, scope: [...scopes].sort().join(' '), jti, at: new Date(), resolve, reject });
      this.writing ??= this.writeGroups();
    });
  }

  private async writeGroups(): Promise<void> {
    try {
      await new Promise<void>((r) => setImmediate(r));
      while (this.queue.length > 0) await this.flush();
    } finally {
      this.writing = null;
    }
  }

  private async flush(): Promise<void> {
    const batch = this.queue.length > MAX_GROUP ? this.queue.splice(0, MAX_GROUP) : this.queue;
    if (batch === this.queue) this.queue = [];
    if (batch.length === 0) return;
    try {
      // One statement, so atomic without a transaction of its own.
      await runSql(
        this.dataSource,
        undefined,
        'INSERT INTO issued_tokens (tenant_id, client_id, client_name, scope, jti, issued_at) SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::timestamptz[])',
        [batch.map((p) => p.tenantId), batch.map((p) => p.client.id), batch.map((p) => p.client.name), batch.map((p) => p.scope), batch.map((p) => p.jti), batch.map((p) => p.at)],
      );
      for (const p of batch) p.resolve();
    } catch (err) {
      this.logger.error({ err: (err as Error).message, tokens: batch.length }, 'could not record issued tokens; none of them is handed out');
      for (const p of batch) p.reject(err);
    }
  }

  /** Moves recorded tokens into the outbox as grouped events; runs once at a time per replica. */
  report(): Promise<void> {
    this.reporting ??= this.reportRound().finally(() => (this.reporting = null));
    return this.reporting;
  }

  private async reportRound(): Promise<void> {
    try {
      await this.uow.run(async (tx) => {
        const rows = await runSql<Row>(
          this.dataSource,
          tx,
          'DELETE FROM issued_tokens WHERE seq IN (SELECT seq FROM issued_tokens ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED) RETURNING seq, tenant_id, client_id, client_name, scope, jti',
          [REPORT_BATCH],
        );
        const groups = new Map<string, Row[]>();
        for (const r of rows) {
          const key = `${r.tenant_id}/${r.client_id}/${r.scope}`;
          const list = groups.get(key) ?? [];
          list.push(r);
          groups.set(key, list);
        }
        for (const list of groups.values()) {
          for (let i = 0; i < list.length; i += JTIS_PER_EVENT) {
            const part = list.slice(i, i + JTIS_PER_EVENT);
            const first = part[0] as Row;
            await this.outbox.append(
              tx,
              'musubi.federation.token.issued.v1',
              {
                client: { id: first.client_id, name: first.client_name },
                grantType: 'client_credentials',
                userId: null,
                scopes: first.scope ? first.scope.split(' ') : [],
                count: part.length,
                tokenIds: part.map((r) => r.jti),
                refreshToken: false,
                idToken: false,
              },
              { tenantId: first.tenant_id, actor: { kind: 'service', service: 'federation' } },
            );
          }
        }
      });
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'could not report issued tokens to the trail; next round');
    }
  }
}
