import { ServerNats } from '@nestjs/microservices';
import type { CustomTransportStrategy, MessageHandler } from '@nestjs/microservices';
import { isObservable, lastValueFrom } from 'rxjs';
import { subjectDefinition, type ReplyEnvelope, type RpcDefinition, type ServiceName } from '@musubi/contracts';
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import { validationError } from '@musubi/platform/errors';
import { busMetrics } from '@musubi/platform/health';
import { runWithContext, type Logger } from '@musubi/platform/logging';
import { validate } from '@musubi/platform/validation';
import { decodeContext } from './context-headers.js';
import { coalesceWrites, natsAuthOptions, type NatsCredentials } from './nats.js';
import { toErrorBody } from './error-body.js';

export interface BusServerOptions {
  readonly service: ServiceName;
  readonly servers: readonly string[];
  readonly logger: Logger;
  /** How long `close()` waits for in-flight requests before draining anyway. */
  readonly drainTimeoutMs: number;
  readonly credentials?: NatsCredentials;
}

/**
 * Nest's NATS transport, specialised for the fleet:
 * - subscribes only to request/reply subjects of the contracts that this
 *   service owns, in a queue group named after the service;
 * - validates every inbound payload against the subject's schema before the
 *   handler runs, and reads the call context from the headers into the async
 *   context (so log lines carry request and tenant ids);
 * - replies with `{ ok, data }` or `{ ok: false, error: { code, message, details } }`,
 *   never with a stack;
 * - on `close()` stops taking requests, lets in-flight ones finish, then drains.
 */
export class BusServer extends ServerNats implements CustomTransportStrategy {
  private readonly subs: Subscription[] = [];
  private inFlight = 0;
  private idleWaiters: Array<() => void> = [];
  private closing = false;

  constructor(private readonly opts: BusServerOptions) {
    super({
      servers: [...opts.servers],
      name: `${opts.service}-server`,
      queue: opts.service,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      noAsyncTraces: true,
      ...natsAuthOptions(opts.credentials, `_INBOX_${opts.service}`),
    });
  }

  /** The server's NATS connection, for health checks. */
  get connection(): NatsConnection {
    return this.unwrap<NatsConnection>();
  }

  /**
   * Binds the handlers, then waits for the server to confirm the subscriptions
   * before reporting the service as listening: a request sent right after
   * `listen()` would otherwise meet no responders.
   */
  override start(callback: (err?: unknown) => void): void {
    const client = this.unwrap<NatsConnection>();
    coalesceWrites(client);
    try {
      this.bindEvents(client);
    } catch (err) {
      callback(err);
      return;
    }
    client.flush().then(
      () => callback(),
      (err: unknown) => callback(err),
    );
  }

  override bindEvents(client: NatsConnection): void {
    for (const subject of this.messageHandlers.keys()) {
      const def = subjectDefinition(subject);
      if (!def || def.kind !== 'rpc') throw new Error(`${subject} is not a request/reply subject in @musubi/contracts`);
      if (def.owner !== this.opts.service) throw new Error(`${this.opts.service} may not answer ${subject}: ${def.owner} owns it`);
      // Resolved once: Nest's per-message lookup JSON-parses the subject and throws, ~20 µs a request.
      const handler = this.messageHandlers.get(subject);
      if (!handler) throw new Error(`no handler for ${subject}`);
      const sub = client.subscribe(subject, {
        queue: this.opts.service,
        callback: (err, msg) => {
          if (err) {
            this.opts.logger.error({ err, subject }, 'subscription error');
            return;
          }
          void this.onRequest(subject, def, handler, msg);
        },
      });
      this.subs.push(sub);
    }
    this.opts.logger.info({ subjects: this.subs.length, queue: this.opts.service }, 'listening on the bus');
  }

  private async onRequest(subject: string, def: RpcDefinition, handler: MessageHandler, msg: Msg): Promise<void> {
    if (!msg.reply) return; // a request without a reply subject is nobody's request
    this.inFlight++;
    busMetrics.inFlight.inc();
    const timer = busMetrics.handled.startTimer({ subject });
    let reply: ReplyEnvelope<unknown>;
    try {
      const ctx = decodeContext(msg.headers);
      reply = await runWithContext(ctx, async () => {
        try {
          let payload: unknown;
          try {
            payload = msg.json();
          } catch {
            throw validationError([{ pointer: '', detail: 'is not valid JSON' }], 'The payload is not valid JSON.');
          }
          const checked = validate(def.request, payload);
          if (!checked.ok) throw validationError(checked.details);
          const result: unknown = await handler(checked.value, ctx);
          const data: unknown = isObservable(result) ? await lastValueFrom(result) : result;
          return { ok: true as const, data: data ?? {} };
        } catch (err) {
          return { ok: false as const, error: toErrorBody(err, this.opts.logger, subject) };
        }
      });
    } catch (err) {
      reply = { ok: false, error: toErrorBody(err, this.opts.logger, subject) };
    }
    try {
      msg.respond(JSON.stringify(reply));
    } catch (err) {
      this.opts.logger.warn({ err, subject }, 'could not send reply');
    } finally {
      timer({ outcome: reply.ok ? 'ok' : reply.error.code });
      busMetrics.inFlight.dec();
      this.inFlight--;
      if (this.inFlight === 0) this.idleWaiters.splice(0).forEach((resolve) => resolve());
    }
  }

  private waitIdle(timeoutMs: number): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.opts.logger.warn({ inFlight: this.inFlight }, 'in-flight requests still running at drain timeout');
        resolve();
      }, timeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  override async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    let nc: NatsConnection | undefined;
    try {
      nc = this.unwrap<NatsConnection>();
    } catch {
      return; // never connected
    }
    // Stop taking new requests; messages already delivered to us are still handled.
    await Promise.allSettled(this.subs.map((s) => s.drain()));
    await this.waitIdle(this.opts.drainTimeoutMs);
    if (!nc.isClosed()) await nc.drain().catch(() => undefined);
    this.opts.logger.info('bus server drained');
  }
}
