import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Server as NetServer } from 'node:net';
import { simpleParser, type AddressObject, type ParsedMail, type StructuredHeader } from 'mailparser';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import type { Logger } from '@musubi/platform/logging';
import { renderListPage, renderMessagePage, renderNotFoundPage } from './dev-mail-sink-pages.js';

/** A message as the sink keeps it, and as `GET /api/messages/<id>` returns it. */
export interface SinkMessage {
  readonly id: string;
  /** When the sink accepted it (ISO 8601). */
  readonly receivedAt: string;
  /** The SMTP envelope: who the client said it sent to, Bcc included. */
  readonly envelope: { readonly from: string | null; readonly to: readonly string[] };
  /** The From header as a mail client shows it, e.g. `Musubi <no-reply@musubi.localhost>`; '' if none. */
  readonly from: string;
  /** The To header as a mail client shows it; '' if none. */
  readonly to: string;
  /** Every recipient address (To, Cc and envelope), lower-cased: what `?to=` matches. */
  readonly recipients: readonly string[];
  readonly subject: string;
  /** The Date header (ISO 8601), or null if it had none or a bad one. */
  readonly date: string | null;
  /** The Message-ID header, with angle brackets, or null. */
  readonly messageId: string | null;
  /** The text part, decoded to a string whatever its charset; null if the message has none. */
  readonly text: string | null;
  /** The HTML part, decoded; null if none. */
  readonly html: string | null;
  /** Decoded header values by lower-case name; a repeated header gives an array. */
  readonly headers: Readonly<Record<string, string | readonly string[]>>;
  /** Attachments are not kept, only described. */
  readonly attachments: readonly { readonly filename: string | null; readonly contentType: string; readonly size: number }[];
  /** Size of the message as received, in bytes. */
  readonly size: number;
}

/** What `GET /api/messages` lists: a message without its parts and headers. */
export type SinkMessageSummary = Pick<SinkMessage, 'id' | 'receivedAt' | 'from' | 'to' | 'recipients' | 'subject' | 'date' | 'messageId' | 'size'>;

export interface DevMailSinkOptions {
  /** Larger messages are refused with `552 5.3.4`. Default 10 MiB. */
  readonly maxMessageBytes?: number;
  /** The oldest messages are dropped beyond this. Default 1,000. */
  readonly maxMessages?: number;
  /** One line per received message (id, size, recipient domains). */
  readonly logger?: Logger;
}

export interface DevMailSinkStartOptions {
  /** 0 (the default) picks a free port. */
  readonly smtpPort?: number;
  /** 0 (the default) picks a free port. */
  readonly httpPort?: number;
  /** Interface both servers listen on. Default 127.0.0.1: the sink has no authentication. */
  readonly host?: string;
}

export interface DevMailSinkAddress {
  readonly host: string;
  readonly smtpPort: number;
  readonly httpPort: number;
  /** e.g. `smtp://127.0.0.1:2525`, usable as `SMTP_URL`. */
  readonly smtpUrl: string;
  /** e.g. `http://127.0.0.1:8025`, the web mailbox. */
  readonly httpUrl: string;
}

export const DEV_MAIL_SINK_DEFAULT_MAX_BYTES = 10 * 1024 * 1024;
export const DEV_MAIL_SINK_DEFAULT_MAX_MESSAGES = 1000;

/**
 * Security headers of every response. The page CSP allows no script, no fetch and no
 * image anywhere; the HTML part of a message is shown in a sandboxed `srcdoc` frame,
 * which inherits this policy, so its scripts never run and it loads nothing remote.
 */
const SECURITY_HEADERS = {
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; frame-src 'self'; base-uri 'none'; form-action 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
} as const;

interface Waiter {
  readonly predicate: (m: SinkMessage) => boolean;
  readonly resolve: (m: SinkMessage) => void;
  readonly reject: (err: Error) => void;
}

/**
 * The development SMTP server: accepts any mail from anyone to anyone (no auth, no
 * TLS), keeps the last messages in memory and shows them on a small web page and a
 * JSON API, for `npm start` and for tests that read mail (password reset links…).
 *
 * Not for production: anyone who can reach its ports can read everything it holds.
 */
export class DevMailSink {
  private readonly maxBytes: number;
  private readonly maxMessages: number;
  private readonly logger: Logger | undefined;
  /** Newest first. */
  private store: SinkMessage[] = [];
  private readonly waiters = new Set<Waiter>();
  private smtp: SMTPServer | undefined;
  private http: Server | undefined;

  constructor(options: DevMailSinkOptions = {}) {
    this.maxBytes = options.maxMessageBytes ?? DEV_MAIL_SINK_DEFAULT_MAX_BYTES;
    this.maxMessages = options.maxMessages ?? DEV_MAIL_SINK_DEFAULT_MAX_MESSAGES;
    this.logger = options.logger?.child({ component: 'dev-mail-sink' });
  }

  async start(options: DevMailSinkStartOptions = {}): Promise<DevMailSinkAddress> {
    if (this.smtp || this.http) throw new Error('the mail sink is already started');
    const host = options.host ?? '127.0.0.1';
    const smtp = this.createSmtpServer();
    const http = createServer((req, res) => this.handle(req, res));
    this.smtp = smtp;
    this.http = http;
    try {
      const smtpPort = await listen(smtp.server, options.smtpPort ?? 0, host);
      const httpPort = await listen(http, options.httpPort ?? 0, host);
      const h = host.includes(':') ? `[${host}]` : host;
      return { host, smtpPort, httpPort, smtpUrl: `smtp://${h}:${smtpPort}`, httpUrl: `http://${h}:${httpPort}` };
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  /** Stops both servers, dropping any open connection, and fails pending `waitForMessage` calls. */
  async stop(): Promise<void> {
    const { smtp, http } = this;
    this.smtp = undefined;
    this.http = undefined;
    for (const w of this.waiters) w.reject(new Error('the mail sink stopped'));
    this.waiters.clear();
    await Promise.all([
      smtp && smtp.server.listening ? new Promise<void>((resolve) => smtp.close(() => resolve())) : undefined,
      http && http.listening
        ? new Promise<void>((resolve) => {
            http.close(() => resolve());
            http.closeAllConnections();
          })
        : undefined,
    ]);
  }

  /** Newest first; `to` keeps those with that recipient (any case). */
  messages(filter: { to?: string } = {}): readonly SinkMessage[] {
    const to = filter.to?.trim().toLowerCase();
    return to ? this.store.filter((m) => m.recipients.includes(to)) : [...this.store];
  }

  message(id: string): SinkMessage | undefined {
    return this.store.find((m) => m.id === id);
  }

  clear(): void {
    this.store = [];
  }

  /**
   * The newest message already held that matches, or else the first one to arrive
   * that does. Rejects after `timeoutMs`. Clear the sink first (or match on something
   * unique) so an earlier message cannot answer.
   */
  waitForMessage(predicate: (m: SinkMessage) => boolean, timeoutMs = 10_000): Promise<SinkMessage> {
    const held = this.store.find(predicate);
    if (held) return Promise.resolve(held);
    return new Promise<SinkMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`no matching mail arrived within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter: Waiter = {
        predicate,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      this.waiters.add(waiter);
    });
  }

  private createSmtpServer(): SMTPServer {
    const server = new SMTPServer({
      name: 'mail-sink.musubi.localhost',
      banner: 'Musubi development mail sink',
      // Anyone may send: no AUTH, and no STARTTLS, which would make clients try to
      // upgrade against the package's self-signed certificate and fail.
      authOptional: true,
      disabledCommands: ['AUTH', 'STARTTLS'],
      size: this.maxBytes,
      rejectOversized: true,
      lenientAddressParsing: true,
      disableReverseLookup: true,
      // stop() should not wait the default 30 s for pooled client connections.
      closeTimeout: 500,
      logger: false,
      onData: (stream, session, callback) => this.receive(stream, session, callback),
    });
    // Without a listener a client's reset connection would crash the process.
    server.on('error', (err) => this.logger?.warn({ err }, 'mail sink SMTP error'));
    return server;
  }

  private receive(stream: SMTPServerDataStream, session: SMTPServerSession, reply: (err?: Error | null, message?: string) => void): void {
    let replied = false;
    const callback = (err: Error | null, message?: string) => {
      if (replied) return;
      replied = true;
      reply(err, message);
    };
    const chunks: Buffer[] = [];
    let kept = 0;
    let tooLarge = false;
    stream.on('data', (chunk: Buffer) => {
      // Read an oversized message to its end (SMTP requires it) but do not keep it.
      if (tooLarge || kept + chunk.length > this.maxBytes) {
        tooLarge = true;
        chunks.length = 0;
        return;
      }
      chunks.push(chunk);
      kept += chunk.length;
    });
    stream.once('error', (err: Error) => callback(err));
    stream.once('end', () => {
      if (tooLarge || stream.sizeExceeded) {
        callback(smtpError(552, `message exceeds fixed maximum message size ${this.maxBytes}`));
        return;
      }
      const raw = Buffer.concat(chunks, kept);
      const envelope = {
        from: session.envelope.mailFrom ? session.envelope.mailFrom.address : null,
        to: session.envelope.rcptTo.map((r) => r.address),
      };
      simpleParser(raw, { skipImageLinks: true, skipTextToHtml: true }).then(
        (parsed) => {
          const message = toSinkMessage(parsed, envelope, raw.length);
          this.add(message);
          callback(null, `OK: queued as ${message.id}`);
        },
        (err: unknown) => {
          this.logger?.warn({ err }, 'mail sink could not parse a message');
          callback(smtpError(451, 'message could not be parsed'));
        },
      );
    });
  }

  private add(message: SinkMessage): void {
    this.store.unshift(message);
    if (this.store.length > this.maxMessages) this.store.length = this.maxMessages;
    this.logger?.info(
      { id: message.id, size: message.size, recipientDomains: [...new Set(message.recipients.map((r) => r.slice(r.lastIndexOf('@') + 1)))] },
      'mail received',
    );
    for (const w of this.waiters) {
      let matches: boolean;
      try {
        matches = w.predicate(message);
      } catch (err) {
        this.waiters.delete(w);
        w.reject(err instanceof Error ? err : new Error(String(err)));
        continue;
      }
      if (matches) {
        this.waiters.delete(w);
        w.resolve(message);
      }
    }
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    try {
      const url = new URL(req.url ?? '/', 'http://sink.invalid');
      const path = url.pathname.replace(/\/+$/, '') || '/';
      const method = req.method ?? 'GET';
      const api = /^\/api\/messages(?:\/([^/]+))?$/.exec(path);
      const page = /^\/messages\/([^/]+)$/.exec(path);

      if (path === '/') {
        if (method !== 'GET') return methodNotAllowed(res, 'GET');
        return send(res, 200, 'text/html', renderListPage(this.store));
      }
      if (page) {
        if (method !== 'GET') return methodNotAllowed(res, 'GET');
        const m = this.message(decodeSegment(page[1]));
        return m ? send(res, 200, 'text/html', renderMessagePage(m)) : send(res, 404, 'text/html', renderNotFoundPage());
      }
      if (api && api[1] === undefined) {
        if (method === 'GET') {
          const to = url.searchParams.get('to') ?? undefined;
          return sendJson(res, 200, this.messages(to === undefined ? {} : { to }).map(summaryOf));
        }
        if (method === 'DELETE') {
          this.clear();
          res.writeHead(204, SECURITY_HEADERS).end();
          return;
        }
        return methodNotAllowed(res, 'GET, DELETE');
      }
      if (api) {
        if (method !== 'GET') return methodNotAllowed(res, 'GET');
        const m = this.message(decodeSegment(api[1]));
        return m ? sendJson(res, 200, m) : sendJson(res, 404, { error: 'not_found' });
      }
      return path.startsWith('/api/') ? sendJson(res, 404, { error: 'not_found' }) : send(res, 404, 'text/html', renderNotFoundPage());
    } catch (err) {
      this.logger?.error({ err }, 'mail sink HTTP error');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal' });
      else res.destroy();
    }
  }
}

function listen(server: NetServer, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function smtpError(responseCode: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode });
}

function decodeSegment(s: string | undefined): string {
  try {
    return decodeURIComponent(s ?? '');
  } catch {
    return '';
  }
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': `${type}; charset=utf-8`, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  send(res, status, 'application/json', JSON.stringify(body));
}

function methodNotAllowed(res: ServerResponse, allow: string): void {
  res.setHeader('Allow', allow);
  sendJson(res, 405, { error: 'method_not_allowed' });
}

function summaryOf(m: SinkMessage): SinkMessageSummary {
  const { id, receivedAt, from, to, recipients, subject, date, messageId, size } = m;
  return { id, receivedAt, from, to, recipients, subject, date, messageId, size };
}

const addressObjects = (v: AddressObject | AddressObject[] | undefined): AddressObject[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

function addressesOf(objects: readonly AddressObject[]): string[] {
  const out: string[] = [];
  const walk = (list: AddressObject['value']) => {
    for (const a of list) {
      if (a.address) out.push(a.address.toLowerCase());
      if (a.group) walk(a.group);
    }
  };
  for (const o of objects) walk(o.value);
  return out;
}

/** `Name <address>` or `address`, comma-separated, unquoted: how a mail client shows them. */
function displayOf(objects: readonly AddressObject[]): string {
  const show = (a: AddressObject['value'][number]): string =>
    a.group ? `${a.name}: ${a.group.map(show).join(', ')};` : a.name ? `${a.name} <${a.address ?? ''}>` : (a.address ?? '');
  return objects.flatMap((o) => o.value.map(show)).join(', ');
}

function isAddressObject(v: object): v is AddressObject {
  return 'value' in v && Array.isArray(v.value) && 'text' in v;
}

/** One decoded header value as text; structured values (Content-Type…) get their parameters back. */
function headerText(v: string | Date | AddressObject | StructuredHeader): string {
  if (typeof v === 'string') return v;
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? '' : v.toISOString();
  if (isAddressObject(v)) return v.text;
  const params = Object.entries(v.params).map(([k, p]) => `; ${k}=${/^[\w.-]+$/.test(p) ? p : JSON.stringify(p)}`);
  return `${v.value}${params.join('')}`;
}

function headersOf(parsed: ParsedMail): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of parsed.headers) {
    out[name] = Array.isArray(value) ? value.map((v) => headerText(v)) : headerText(value);
  }
  return out;
}

function toSinkMessage(parsed: ParsedMail, envelope: SinkMessage['envelope'], size: number): SinkMessage {
  const toObjects = addressObjects(parsed.to);
  const recipients = [...new Set([...addressesOf(toObjects), ...addressesOf(addressObjects(parsed.cc)), ...envelope.to.map((a) => a.toLowerCase())])];
  const date = parsed.date && !Number.isNaN(parsed.date.getTime()) ? parsed.date.toISOString() : null;
  return {
    id: randomUUID(),
    receivedAt: new Date().toISOString(),
    envelope,
    from: parsed.from ? displayOf([parsed.from]) : '',
    to: displayOf(toObjects),
    recipients,
    subject: parsed.subject ?? '',
    date,
    messageId: parsed.messageId ?? null,
    text: parsed.text ?? null,
    html: parsed.html === false ? null : parsed.html,
    headers: headersOf(parsed),
    attachments: parsed.attachments.map((a) => ({ filename: a.filename ?? null, contentType: a.contentType, size: a.size })),
    size,
  };
}
