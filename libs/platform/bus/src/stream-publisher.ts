import { headers, type NatsConnection } from '@nats-io/transport-node';
import { MuxError, ReplyMux } from './reply-mux.js';

/** What the outbox relay needs of JetStream: a publish the stream acknowledged, deduplicated by message id. */
export interface StreamPublisher {
  publish(subject: string, data: string, opts: { msgID: string; timeout: number }): Promise<unknown>;
}

/** The stream's answer to a publish (a PubAck, or an error). */
interface PubAckBody {
  readonly stream?: string;
  readonly seq?: number;
  readonly duplicate?: boolean;
  readonly error?: { readonly code?: number; readonly description?: string };
}

/**
 * JetStream publishes as plain requests over one muxed reply subscription. A
 * JetStream publish is a request to the subject with `Nats-Msg-Id`, answered
 * by a PubAck; nats.js's `js.publish()` goes through `request()`, which builds
 * error objects for async stack traces on every call (seen in profiles of the
 * outbox relay under sign-in load), as the bus client's requests did before
 * they moved to `ReplyMux`.
 */
export class JetStreamPublisher implements StreamPublisher {
  private readonly mux: ReplyMux;

  constructor(nc: NatsConnection, inboxPrefix: string) {
    this.mux = new ReplyMux(nc, inboxPrefix);
  }

  async publish(subject: string, data: string, opts: { msgID: string; timeout: number }): Promise<PubAckBody> {
    const h = headers();
    h.set('Nats-Msg-Id', opts.msgID);
    let body: PubAckBody;
    try {
      body = (await this.mux.request(subject, data, h, opts.timeout)).json<PubAckBody>();
    } catch (err) {
      // The relay recreates the stream on "no responders" (no stream captures the subject).
      if (err instanceof MuxError) throw new Error(err.reason === 'no_responders' ? `no responders: no stream captures ${subject}` : `JetStream publish ${err.reason}`);
      throw new Error('JetStream sent an unreadable acknowledgement');
    }
    if (body.error) throw new Error(`JetStream refused the publish: ${body.error.code ?? '?'} ${body.error.description ?? ''}`.trim());
    if (typeof body.stream !== 'string' || typeof body.seq !== 'number') throw new Error('JetStream sent no acknowledgement');
    return body;
  }

  close(): void {
    this.mux.close();
  }
}
