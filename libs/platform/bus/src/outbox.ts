import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import { subjectDefinition, type Caller, type EventEnvelope, type EventPayloadOf, type EventSubject, type ServiceName } from '@musubi/contracts';
import { poolOf, prepared, runSqlIn, type Tx } from '@musubi/platform/db';
import { busMetrics } from '@musubi/platform/health';
import { currentContext, type Logger } from '@musubi/platform/logging';
import { validate } from '@musubi/platform/validation';
import type { StreamPublisher } from './stream-publisher.js';

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
  private readonly insert: string;

  constructor(
    private readonly service: ServiceName,
    private readonly schema: string,
    /** Needed only by `record` (an event written in a statement of its own). */
    private readonly dataSource?: DataSource,
  ) {
    this.insert = `INSERT INTO "${schema}".outbox (id, subject, envelope) VALUES ($1, $2, $3)`;
  }

  async append<S extends EventSubject>(tx: Tx, subject: S, payload: EventPayloadOf<S>, opts: AppendOptions = {}): Promise<EventEnvelope<EventPayloadOf<S>>> {
    const envelope = this.envelope(subject, payload, opts);
    await runSqlIn(tx, this.insert, [envelope.id, subject, JSON.stringify(envelope)]);
    return envelope;
  }

  /**
   * An event that describes no other write of this service (a sign-in, say),
   * stored by one INSERT on its own: a single statement is its own
   * transaction, so this is as safe as `append` and costs one round trip
   * instead of BEGIN, INSERT and COMMIT.
   */
  async record<S extends EventSubject>(subject: S, payload: EventPayloadOf<S>, opts: AppendOptions = {}): Promise<EventEnvelope<EventPayloadOf<S>>> {
    if (!this.dataSource) throw new Error('this OutboxWriter was made without a data source');
    const envelope = this.envelope(subject, payload, opts);
    await poolOf(this.dataSource).query(prepared(this.insert, [envelope.id, subject, JSON.stringify(envelope)]));
    return envelope;
  }

  private envelope<S extends EventSubject>(subject: S, payload: EventPayloadOf<S>, opts: AppendOptions): EventEnvelope<EventPayloadOf<S>> {
    const def = subjectDefinition(subject);
    if (!def || def.kind !== 'event' || def.owner !== this.service) {
      throw new Error(`${this.service} may not emit ${subject}`);
    }
    const checked = validate(def.payload, payload);
    if (!checked.ok) throw new Error(`event ${subject} does not match its contract: ${JSON.stringify(checked.details)}`);
    const ctx = currentContext();
    return {
      id: uuidv7(),
      subject,
      occurredAt: new Date().toISOString(),
      tenantId: opts.tenantId !== undefined ? opts.tenantId : (ctx?.tenantId ?? null),
      requestId: ctx?.requestId ?? null,
      actor: opts.actor ?? ctx?.caller ?? { kind: 'service', service: this.service },
      payload,
    };
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
  private readonly take: string;

  constructor(
    private readonly dataSource: DataSource,
    private readonly js: StreamPublisher,
    private readonly opts: OutboxRelayOptions,
  ) {
    this.batchSize = opts.batchSize ?? 500;
    this.pollMs = opts.pollMs ?? 1000;
    const outbox = `"${opts.schema}".outbox`;
    this.take = `DELETE FROM ${outbox} WHERE seq IN (SELECT seq FROM ${outbox} ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED)
      RETURNING seq, id, subject, envelope::text AS envelope`;
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

  /**
   * One round: take up to a batch out of the outbox, publish it and commit
   * only once JetStream acknowledged every event (a failed publish rolls the
   * rows back into the outbox). Returns the count. Runs on a bare pool
   * connection with one statement (DELETE … RETURNING) between BEGIN and
   * COMMIT: measured on sign-ins, the relay's rounds were a large part of
   * authn's socket writes.
   */
  async relayBatch(): Promise<number> {
    const client = await poolOf(this.dataSource).connect();
    let open = false;
    try {
      await client.query('BEGIN');
      open = true;
      const { rows } = await client.query<OutboxRow>(prepared(this.take, [this.batchSize]));
      if (rows.length === 0) {
        await client.query('COMMIT');
        open = false;
        return 0;
      }
      rows.sort((a, b) => (BigInt(a.seq) < BigInt(b.seq) ? -1 : 1)); // RETURNING keeps no order
      await Promise.all(rows.map((r) => this.js.publish(r.subject, r.envelope, { msgID: r.id, timeout: 5000 })));
      await client.query('COMMIT');
      open = false;
      busMetrics.outboxPublished.inc(rows.length);
      return rows.length;
    } catch (err) {
      if (open) await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }
}
