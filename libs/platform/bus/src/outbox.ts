import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import { subjectDefinition, type Caller, type EventEnvelope, type EventPayloadOf, type EventSubject, type ServiceName } from '@musubi/contracts';
import type { JetStreamClient } from '@nats-io/jetstream';
import { managerOf, type Tx } from '@musubi/platform/db';
import { busMetrics } from '@musubi/platform/health';
import { currentContext, type Logger } from '@musubi/platform/logging';
import { validate } from '@musubi/platform/validation';

/** UUIDv7 (RFC 9562): time-ordered, so event ids sort roughly by creation. */
export function uuidv7(now = Date.now()): string {
  const bytes = Buffer.from(randomUUID().replace(/-/g, ''), 'hex');
  bytes.writeUIntBE(now, 0, 6);
  bytes[6] = 0x70 | ((bytes[6] ?? 0) & 0x0f);
  bytes[8] = 0x80 | ((bytes[8] ?? 0) & 0x3f);
  const h = bytes.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export interface AppendOptions {
  /** The tenant the event is about; defaults to the current call's tenant. */
  readonly tenantId?: string | null;
  /** Who acted; defaults to the current call's caller (e.g. a sign-in names the user who signed in). */
  readonly actor?: Caller;
}

/**
 * Writes events into the service's outbox inside the caller's transaction, so
 * an event exists if and only if the change it describes was committed.
 */
export class OutboxWriter {
  constructor(
    private readonly service: ServiceName,
    private readonly schema: string,
  ) {}

  async append<S extends EventSubject>(tx: Tx, subject: S, payload: EventPayloadOf<S>, opts: AppendOptions = {}): Promise<EventEnvelope<EventPayloadOf<S>>> {
    const def = subjectDefinition(subject);
    if (!def || def.kind !== 'event' || def.owner !== this.service) {
      throw new Error(`${this.service} may not emit ${subject}`);
    }
    const checked = validate(def.payload, payload);
    if (!checked.ok) throw new Error(`event ${subject} does not match its contract: ${JSON.stringify(checked.details)}`);
    const ctx = currentContext();
    const envelope: EventEnvelope<EventPayloadOf<S>> = {
      id: uuidv7(),
      subject,
      occurredAt: new Date().toISOString(),
      tenantId: opts.tenantId !== undefined ? opts.tenantId : (ctx?.tenantId ?? null),
      requestId: ctx?.requestId ?? null,
      actor: opts.actor ?? ctx?.caller ?? { kind: 'service', service: this.service },
      payload,
    };
    await managerOf(tx).query(`INSERT INTO "${this.schema}".outbox (id, subject, envelope) VALUES ($1, $2, $3)`, [
      envelope.id,
      subject,
      JSON.stringify(envelope),
    ]);
    return envelope;
  }
}

export interface OutboxRelayOptions {
  readonly schema: string;
  readonly logger: Logger;
  /** Postgres URL for the LISTEN connection (the pool's connections come and go). */
  readonly listenUrl: string;
  readonly batchSize?: number;
  /** Fallback poll when no notification arrives (a lost NOTIFY, a restarted relay). */
  readonly pollMs?: number;
  /**
   * Recreates the stream when publishing finds none (a NATS server that came
   * back without its store); the events wait in the outbox meanwhile.
   */
  readonly ensureStream?: () => Promise<unknown>;
}

interface OutboxRow {
  seq: string;
  id: string;
  subject: string;
  envelope: string;
}

/**
 * Moves committed events from the outbox to JetStream. Rows are locked with
 * SKIP LOCKED (replicas share the work), published with `Nats-Msg-Id` = event
 * id (the stream drops a duplicate if a crash made us publish twice) and
 * deleted only after JetStream acknowledged them.
 */
export class OutboxRelay {
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  /** Set by a NOTIFY; one that arrives during a round (nobody idles to wake) must still skip the next poll wait. */
  private notified = false;
  private listener: pg.Client | undefined;
  private readonly batchSize: number;
  private readonly pollMs: number;

  constructor(
    private readonly dataSource: DataSource,
    private readonly js: JetStreamClient,
    private readonly opts: OutboxRelayOptions,
  ) {
    this.batchSize = opts.batchSize ?? 500;
    this.pollMs = opts.pollMs ?? 1000;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.listen();
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    const l = this.listener;
    this.listener = undefined;
    await l?.end().catch(() => undefined);
  }

  private async listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.opts.listenUrl, application_name: `${this.opts.schema}-outbox-listen` });
    client.on('notification', () => {
      this.notified = true;
      this.wake?.();
    });
    client.on('error', (err) => {
      this.opts.logger.warn({ err: err.message }, 'outbox LISTEN connection lost; polling until it is back');
      if (this.listener === client) this.listener = undefined;
      setTimeout(() => {
        if (this.running && !this.listener) void this.listen().catch(() => undefined);
      }, 1000).unref();
    });
    try {
      await client.connect();
      await client.query(`LISTEN "${this.opts.schema}_outbox"`);
      this.listener = client;
    } catch (err) {
      this.opts.logger.warn({ err: (err as Error).message }, 'outbox LISTEN failed; polling');
      await client.end().catch(() => undefined);
    }
  }

  private idle(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wake = done;
    });
  }

  private async run(): Promise<void> {
    let backoff = 100;
    while (this.running) {
      let moved = 0;
      this.notified = false;
      try {
        moved = await this.relayBatch();
        backoff = 100;
      } catch (err) {
        busMetrics.outboxErrors.inc();
        const message = (err as Error).message;
        this.opts.logger.warn({ err: message }, 'outbox relay round failed; will retry');
        // No stream captures the subject: nats.js reports the server's "no responders" as "jetstream is not enabled".
        if (/jetstream is not enabled|no responders|stream not found|503/i.test(message) && this.opts.ensureStream) {
          await this.opts.ensureStream().catch((e: unknown) => this.opts.logger.warn({ err: (e as Error).message }, 'could not recreate the stream'));
        }
        await this.idle(backoff);
        backoff = Math.min(backoff * 2, 5000);
        continue;
      }
      if (moved < this.batchSize && this.running && !this.notified) await this.idle(this.pollMs);
    }
  }

  /** One round: publish up to a batch and delete what JetStream acknowledged. Returns the count. */
  async relayBatch(): Promise<number> {
    const qr = this.dataSource.createQueryRunner();
    await qr.connect();
    await qr.startTransaction();
    try {
      const rows = (await qr.query(
        `SELECT seq, id, subject, envelope::text AS envelope FROM "${this.opts.schema}".outbox
         ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [this.batchSize],
      )) as OutboxRow[];
      if (rows.length === 0) {
        await qr.commitTransaction();
        return 0;
      }
      await Promise.all(rows.map((r) => this.js.publish(r.subject, r.envelope, { msgID: r.id, timeout: 5000 })));
      await qr.query(`DELETE FROM "${this.opts.schema}".outbox WHERE seq = ANY($1::bigint[])`, [rows.map((r) => r.seq)]);
      await qr.commitTransaction();
      busMetrics.outboxPublished.inc(rows.length);
      return rows.length;
    } catch (err) {
      await qr.rollbackTransaction().catch(() => undefined);
      throw err;
    } finally {
      await qr.release();
    }
  }
}
