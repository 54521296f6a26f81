import { AckPolicy, DeliverPolicy, type JetStreamClient, type JetStreamManager, type JsMsg, type ConsumerMessages } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { EventEnvelope, streamNameOf, subjectDefinition, type ServiceName } from '@musubi/contracts';
import { busMetrics } from '@musubi/platform/health';
import { runWithContext, type Logger } from '@musubi/platform/logging';
import { validate } from '@musubi/platform/validation';

export interface EventConsumerOptions {
  /** The consuming service: also the durable consumer's name. */
  readonly service: ServiceName;
  /** Whose stream to read. */
  readonly from: ServiceName;
  /** Only these subjects (one filter on the server; several are filtered here). All when absent. */
  readonly subjects?: readonly string[];
  /**
   * Handles a batch of events, in stream order. It must be idempotent by event id:
   * after a crash between handling and acknowledging, the same events come again.
   * Throwing redelivers the batch later (after handling events one by one, so a
   * single bad event cannot hold up the others).
   */
  readonly handle: (events: readonly EventEnvelope[]) => Promise<void>;
  readonly logger: Logger;
  readonly maxBatch?: number;
  readonly ackWaitMs?: number;
}

const backoffMs = (deliveries: number) => Math.min(30_000, 250 * 2 ** Math.min(deliveries, 7));

/** How long a partial batch waits for one more message before it is handled. */
const FLUSH_IDLE_MS = 5;

/**
 * A durable pull consumer with explicit acks: each event is acknowledged only
 * after its handler committed, so nothing is lost when the consumer dies, and
 * handlers recognise redeliveries by event id.
 */
export class EventConsumer {
  private messages: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;
  private running = false;
  private wake: (() => void) | undefined;
  private markBound: () => void = () => undefined;
  private readonly boundPromise = new Promise<void>((resolve) => {
    this.markBound = resolve;
  });
  private readonly stream: string;

  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly opts: EventConsumerOptions,
  ) {
    this.stream = streamNameOf(opts.from);
  }

  /**
   * Binds the durable consumer and starts handling, in the background: the
   * producer owns its stream and creates it when it starts, so until then this
   * waits (and says so once) rather than creating someone else's stream.
   */
  async start(): Promise<void> {
    this.running = true;
    this.loop = this.bindAndRun();
  }

  /** Stops pulling; the batch being handled finishes and is acknowledged first. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    const m = this.messages;
    this.messages = undefined;
    if (m) await m.close().catch(() => undefined);
    await this.loop;
  }

  /** Resolves once the consumer is bound to its stream (tests use it to know events will flow). */
  get bound(): Promise<void> {
    return this.boundPromise;
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  private async bind(): Promise<ConsumerMessages> {
    const durable = this.opts.service;
    const only = this.opts.subjects?.length === 1 ? this.opts.subjects[0] : undefined;
    const config = {
      durable_name: durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(this.opts.ackWaitMs ?? 30_000),
      max_ack_pending: 10_000,
      ...(only ? { filter_subject: only } : {}),
    };
    try {
      await this.jsm.consumers.info(this.stream, durable);
      await this.jsm.consumers.update(this.stream, durable, config);
    } catch (err) {
      if (!/consumer not found/i.test((err as Error).message)) throw err;
      await this.jsm.consumers.add(this.stream, config);
    }
    const consumer = await this.js.consumers.get(this.stream, durable);
    return consumer.consume({ max_messages: (this.opts.maxBatch ?? 200) * 2 });
  }

  private async bindAndRun(): Promise<void> {
    let waiting = false;
    while (this.running) {
      let messages: ConsumerMessages;
      try {
        messages = await this.bind();
      } catch (err) {
        const missing = /stream not found/i.test((err as Error).message);
        if (!missing) this.opts.logger.warn({ err: (err as Error).message, stream: this.stream }, 'could not bind the consumer; retrying');
        else if (!waiting) this.opts.logger.info({ stream: this.stream }, 'waiting for the stream (its owner creates it when it starts)');
        waiting = true;
        await this.pause(1000);
        continue;
      }
      if (!this.running) {
        // stop() came while we were binding: do not leave the pull subscription open.
        await messages.close().catch(() => undefined);
        return;
      }
      this.messages = messages;
      waiting = false;
      this.opts.logger.info({ stream: this.stream, durable: this.opts.service }, 'consuming events');
      this.markBound();
      void this.watchForLoss(messages);
      await this.run(messages, this.opts.maxBatch ?? 200);
      // The pull ended. Unless stop() ended it, the consumer or its stream vanished
      // (a NATS server that came back without its store, say): bind again.
      if (!this.running) return;
      this.opts.logger.warn({ stream: this.stream, durable: this.opts.service }, 'the pull ended (consumer or stream gone); binding again');
      await this.pause(250);
    }
  }

  /**
   * Closes the pull (ending `run`) once the consumer or its stream is reported
   * missing: nats.js ends the pull itself for a lost stream, but keeps retrying a
   * lost consumer.
   */
  private async watchForLoss(messages: ConsumerMessages): Promise<void> {
    for await (const s of messages.status()) {
      if (s.type === 'consumer_not_found' || s.type === 'consumer_deleted' || s.type === 'stream_not_found') {
        await messages.close().catch(() => undefined);
        return;
      }
    }
  }


  /**
   * Hands events over in batches: a batch goes when it is full, or as soon as
   * no further message arrived within FLUSH_IDLE_MS. (The client's pending
   * count includes its own outstanding pull requests, so it is no sign that
   * the stream is drained; waiting for it to reach zero held the tail of a
   * burst until the pull expired.)
   */
  private async run(messages: ConsumerMessages, maxBatch: number): Promise<void> {
    let batch: JsMsg[] = [];
    const it = messages[Symbol.asyncIterator]();
    let next = it.next();
    const flush = async () => {
      const current = batch;
      batch = [];
      await this.handleBatch(current);
    };
    try {
      for (;;) {
        let idle: ReturnType<typeof setTimeout> | undefined;
        const r =
          batch.length === 0
            ? await next
            : await Promise.race([next, new Promise<'idle'>((resolve) => (idle = setTimeout(() => resolve('idle'), FLUSH_IDLE_MS)))]);
        clearTimeout(idle);
        if (r === 'idle') {
          await flush();
          continue;
        }
        if (r.done) break;
        batch.push(r.value);
        next = it.next();
        if (batch.length >= maxBatch) await flush();
      }
    } catch (err) {
      this.opts.logger.error({ err, stream: this.stream }, 'consumer loop ended with an error');
    }
    // Anything pulled but not handled is simply redelivered after ack_wait; nak it to be quicker.
    batch.forEach((m) => m.nak());
  }

  private decode(m: JsMsg): EventEnvelope | null {
    let body: unknown;
    try {
      body = m.json();
    } catch {
      body = undefined;
    }
    const checked = validate(EventEnvelope, body);
    if (!checked.ok || checked.value.subject !== m.subject) return null;
    const def = subjectDefinition(m.subject);
    if (!def || def.kind !== 'event' || !validate(def.payload, checked.value.payload).ok) return null;
    return checked.value;
  }

  private async handleBatch(msgs: JsMsg[]): Promise<void> {
    const wanted = this.opts.subjects ? new Set(this.opts.subjects) : null;
    const todo: Array<{ m: JsMsg; e: EventEnvelope }> = [];
    for (const m of msgs) {
      if (wanted && !wanted.has(m.subject)) {
        m.ack();
        continue;
      }
      const e = this.decode(m);
      if (!e) {
        // A message that breaks the contract will never get better: keep it out of the way.
        this.opts.logger.error({ stream: this.stream, subject: m.subject, seq: m.seq }, 'rejected an event that does not match its contract');
        busMetrics.consumed.inc({ stream: this.stream, outcome: 'rejected' });
        // No reason text: nats-server before 2.10 does not parse "+TERM <reason>" and would redeliver forever.
        m.term();
        continue;
      }
      todo.push({ m, e });
    }
    if (todo.length === 0) return;
    try {
      await this.opts.handle(todo.map((t) => t.e));
      todo.forEach((t) => t.m.ack());
      busMetrics.consumed.inc({ stream: this.stream, outcome: 'ok' }, todo.length);
      return;
    } catch (err) {
      if (todo.length === 1) {
        this.retry(todo[0]!.m, todo[0]!.e, err);
        return;
      }
    }
    for (const t of todo) {
      try {
        await runWithContext({ requestId: t.e.requestId ?? t.e.id, tenantId: t.e.tenantId, caller: t.e.actor }, () => this.opts.handle([t.e]));
        t.m.ack();
        busMetrics.consumed.inc({ stream: this.stream, outcome: 'ok' });
      } catch (err) {
        this.retry(t.m, t.e, err);
      }
    }
  }

  private retry(m: JsMsg, e: EventEnvelope, err: unknown): void {
    const delay = backoffMs(m.info.deliveryCount);
    this.opts.logger.warn({ err: (err as Error).message, eventId: e.id, subject: e.subject, deliveries: m.info.deliveryCount, retryInMs: delay }, 'event handling failed; will retry');
    busMetrics.consumed.inc({ stream: this.stream, outcome: 'retry' });
    m.nak(delay);
  }
}
