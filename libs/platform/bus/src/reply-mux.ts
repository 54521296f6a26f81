import { createInbox, type Msg, type MsgHdrs, type NatsConnection, type Subscription } from '@nats-io/transport-node';

export type MuxFailure = 'no_responders' | 'timeout' | 'closed';

export class MuxError extends Error {
  constructor(readonly reason: MuxFailure) {
    super(reason);
    this.name = 'MuxError';
  }
}

interface Pending {
  readonly resolve: (m: Msg) => void;
  readonly reject: (e: MuxError) => void;
  readonly deadline: number;
}

/**
 * Request/reply over one wildcard reply subscription. nats.js's `request()`
 * built several Error objects and a timer for every call, successful or not
 * (~30-60 µs a request measured here); this keeps a map of pending replies and
 * sweeps expired ones every `sweepMs`, so a timeout fires within that much of
 * its deadline.
 */
export class ReplyMux {
  private readonly prefix: string;
  private readonly pending = new Map<string, Pending>();
  private readonly sub: Subscription;
  private readonly sweeper: NodeJS.Timeout;
  private next = 0;

  constructor(
    private readonly nc: NatsConnection,
    inboxPrefix: string,
    sweepMs = 25,
  ) {
    this.prefix = createInbox(inboxPrefix);
    this.sub = nc.subscribe(`${this.prefix}.*`, {
      callback: (err, msg) => {
        // A subscription error ends the subscription; pending requests then time out or are failed by close().
        if (!err && msg) this.onReply(msg);
      },
    });
    this.sweeper = setInterval(() => this.sweep(), sweepMs);
    this.sweeper.unref();
    void nc.closed().then(() => this.close());
  }

  request(subject: string, data: string, headers: MsgHdrs, timeoutMs: number): Promise<Msg> {
    if (this.nc.isClosed() || this.nc.isDraining()) return Promise.reject(new MuxError('closed'));
    const token = (this.next++).toString(36);
    const reply = new Promise<Msg>((resolve, reject) => {
      this.pending.set(token, { resolve, reject, deadline: Date.now() + timeoutMs });
    });
    try {
      this.nc.publish(subject, data, { reply: `${this.prefix}.${token}`, headers });
    } catch {
      this.pending.delete(token);
      return Promise.reject(new MuxError('closed'));
    }
    return reply;
  }

  private onReply(msg: Msg): void {
    const token = msg.subject.slice(this.prefix.length + 1);
    const p = this.pending.get(token);
    if (!p) return; // late reply to a request that already timed out
    this.pending.delete(token);
    // The server answers a request nobody subscribes to with an empty 503 status message.
    if (msg.data.length === 0 && msg.headers?.code === 503) p.reject(new MuxError('no_responders'));
    else p.resolve(msg);
  }

  private sweep(): void {
    if (this.pending.size === 0) return;
    const now = Date.now();
    for (const [token, p] of this.pending) {
      if (p.deadline <= now) {
        this.pending.delete(token);
        p.reject(new MuxError('timeout'));
      }
    }
  }

  close(): void {
    clearInterval(this.sweeper);
    for (const p of this.pending.values()) p.reject(new MuxError('closed'));
    this.pending.clear();
    if (!this.sub.isClosed()) this.sub.unsubscribe();
  }
}
