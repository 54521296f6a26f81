import { randomUUID } from 'node:crypto';
import {
  subjectDefinition,
  type CallContext,
  type ReplyEnvelope,
  type ReplyOf,
  type RequestOf,
  type RpcSubject,
  type ServiceName,
} from '@musubi/contracts';
import type { Msg, NatsConnection } from '@nats-io/transport-node';
import { DomainError, RemoteError, assertUnreachable } from '@musubi/platform/errors';
import { busMetrics } from '@musubi/platform/health';
import { currentContext } from '@musubi/platform/logging';
import { encodeContext } from './context-headers.js';
import { fromWire } from './error-body.js';
import { MuxError, ReplyMux } from './reply-mux.js';

export interface RequestOptions {
  /** Overrides the configured timeout for one call. */
  readonly timeoutMs?: number;
}

/**
 * Typed request/reply over core NATS. `request(subject, payload)` is checked by
 * the compiler against the contracts on both ends. The call context (request id,
 * tenant, caller) is taken from the current call unless given, and travels in
 * headers. A dead or slow service fails fast as `service_unavailable`.
 */
export class BusClient {
  private readonly mux: ReplyMux;

  constructor(
    nc: NatsConnection,
    private readonly self: ServiceName,
    private readonly timeoutMs: number,
  ) {
    this.mux = new ReplyMux(nc, `_INBOX_${self}`);
  }

  async request<S extends RpcSubject>(subject: S, payload: RequestOf<S>, ctx?: CallContext, opts: RequestOptions = {}): Promise<ReplyOf<S>> {
    const def = subjectDefinition(subject);
    const owner = def?.owner ?? 'unknown';
    const context: CallContext = ctx ??
      currentContext() ?? { requestId: randomUUID(), tenantId: null, caller: { kind: 'service', service: this.self } };
    const timer = busMetrics.requested.startTimer({ subject });
    let raw: Msg;
    try {
      raw = await this.mux.request(subject, JSON.stringify(payload), encodeContext(context), opts.timeoutMs ?? this.timeoutMs);
    } catch (err) {
      timer({ outcome: 'unavailable' });
      if (!(err instanceof MuxError)) throw err;
      switch (err.reason) {
        case 'no_responders':
          throw new DomainError('service_unavailable', `The ${owner} service is not available.`);
        case 'timeout':
          throw new DomainError('service_unavailable', `The ${owner} service did not answer in time.`);
        case 'closed':
          throw new DomainError('service_unavailable', 'The message bus is not available.');
        default:
          return assertUnreachable(err.reason, 'mux failure');
      }
    }
    let reply: ReplyEnvelope<ReplyOf<S>>;
    try {
      reply = raw.json<ReplyEnvelope<ReplyOf<S>>>();
    } catch {
      timer({ outcome: 'internal' });
      throw new DomainError('internal', `The ${owner} service sent an unreadable reply.`);
    }
    if (typeof reply !== 'object' || reply === null) {
      timer({ outcome: 'internal' });
      throw new DomainError('internal', `The ${owner} service sent an unreadable reply.`);
    }
    if (reply.ok) {
      timer({ outcome: 'ok' });
      return reply.data;
    }
    const body = fromWire(reply.error);
    timer({ outcome: body.code });
    throw new RemoteError(subject, body);
  }
}
