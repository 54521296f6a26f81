import { readFileSync } from 'node:fs';
import { connect, credsAuthenticator, type ConnectionOptions, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '@musubi/platform/logging';

export type { NatsConnection } from '@nats-io/transport-node';

export interface NatsCredentials {
  readonly user?: string | undefined;
  readonly password?: string | undefined;
  /** A .creds file (JWT + NKey seed), for decentralised NATS auth. */
  readonly credsFile?: string | undefined;
}

export interface NatsConnectOptions {
  readonly servers: readonly string[];
  /** Shown in the server's connection list: `<service>-<role>`. */
  readonly name: string;
  readonly logger: Logger;
  readonly credentials?: NatsCredentials;
  /**
   * Reply subjects start with this, so NATS permissions can let each service
   * read only its own replies (`_INBOX_<service>.>`).
   */
  readonly inboxPrefix?: string;
}

/** Connection options shared by the bus client and the bus server: credentials and the inbox prefix. */
export function natsAuthOptions(credentials: NatsCredentials | undefined, inboxPrefix: string | undefined): Partial<ConnectionOptions> {
  const out: Partial<ConnectionOptions> = {};
  if (inboxPrefix) out.inboxPrefix = inboxPrefix;
  if (credentials?.credsFile) out.authenticator = credsAuthenticator(new Uint8Array(readFileSync(credentials.credsFile)));
  else if (credentials?.user) {
    out.user = credentials.user;
    if (credentials.password !== undefined) out.pass = credentials.password;
  }
  return out;
}

/**
 * nats.js writes its outbound buffer to the socket in a microtask after the
 * first command of each task: a service answering many HTTP requests or bus
 * messages, each in its own task, made one socket write per message, and
 * those writes were the largest single cost in the gateway's and federation's
 * profiles under load (~80 µs each on a busy 2-core host). Deferring the
 * flush to the end of the event-loop turn (setImmediate) sends everything of
 * that turn in one write, in the same order; nothing waits longer than the
 * current turn. Left as is if this nats.js has no such method.
 */
export function coalesceWrites(nc: NatsConnection): void {
  const protocol = (nc as unknown as { protocol?: { flushPending?: () => void } }).protocol;
  if (!protocol || typeof protocol.flushPending !== 'function') return;
  const flush = protocol.flushPending.bind(protocol);
  let scheduled = false;
  protocol.flushPending = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      flush();
    });
  };
}

/**
 * A connection that keeps reconnecting for as long as the process lives: a NATS
 * restart is an outage to ride out, not a reason to exit. Status changes are logged.
 */
export async function connectNats(opts: NatsConnectOptions): Promise<NatsConnection> {
  const nc = await connect({
    servers: [...opts.servers],
    name: opts.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    pingInterval: 10_000,
    timeout: 5_000,
    // nats.js otherwise builds two Error objects per request to keep async stack traces (~60 µs).
    noAsyncTraces: true,
    ...natsAuthOptions(opts.credentials, opts.inboxPrefix),
  });
  coalesceWrites(nc);
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect' || s.type === 'error') opts.logger.warn({ nats: s.type, connection: opts.name }, 'NATS connection problem');
      else if (s.type === 'reconnect') opts.logger.info({ nats: s.type, connection: opts.name }, 'NATS reconnected');
    }
  })();
  return nc;
}
