import { createTransport } from 'nodemailer';
import type { Logger } from '@musubi/platform/logging';
import { parseMailbox, parseSmtpUrl, type MailConfig } from './settings.js';

/** One message to one recipient. Strings are UTF-8; nodemailer encodes headers and bodies as needed. */
export interface OutgoingMail {
  /** One mailbox: `local@domain` or `Name <local@domain>`. */
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  /** An HTML alternative of `text`; the text part is always sent too. */
  readonly html?: string;
}

export interface SentMail {
  /** The Message-ID header, with its angle brackets: `<…@domain>`. */
  readonly messageId: string;
}

export interface Mailer {
  /** Resolves once the SMTP server accepted the message; rejects with a `MailSendError`. */
  send(mail: OutgoingMail): Promise<SentMail>;
  /** Connects (and logs in, if `SMTP_URL` has credentials) without sending, e.g. for a readiness check. */
  verify(): Promise<void>;
  /** Closes the pooled connections; a message being delivered finishes first. */
  close(): Promise<void>;
}

export interface MailerOptions {
  /** How long one `send` may take in all, waiting for a pooled connection included. Default 30 s. */
  readonly sendTimeoutMs?: number;
  /** Pooled SMTP connections. Default 5. */
  readonly maxConnections?: number;
  /** An idle pooled connection is closed after this long. Default 30 s. */
  readonly idleTimeoutMs?: number;
}

/**
 * A failed send. `permanent` is true when retrying the same message cannot help
 * (a 5xx reply, an invalid address); a transient failure (timeout, 4xx, connection
 * lost) may be retried later. The message never contains the body.
 */
export class MailSendError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
    /** nodemailer's code (`ETIMEDOUT`, `EABORT`, `EMESSAGE`, `EENVELOPE`…), if any. */
    readonly code: string | undefined,
    /** The SMTP reply code, if the server answered. */
    readonly responseCode: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'MailSendError';
  }
}

interface NodemailerFailure {
  readonly message?: unknown;
  readonly code?: unknown;
  readonly responseCode?: unknown;
  readonly permanent?: unknown;
  readonly command?: unknown;
}

const DEFAULT_SEND_TIMEOUT_MS = 30_000;

const isLoopback = (host: string) => host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);

/** Addresses in a server reply (`550 <bob@example.com>: unknown user`) are personal data: keep the domain only. */
const maskAddresses = (s: string) => s.replace(/[^\s<>"':;,]+@([^\s<>"':;,]+)/g, '…@$1');

function recipientOf(to: string): { address: string; domain: string } {
  let address: string;
  try {
    address = parseMailbox(to).address;
  } catch (err) {
    throw new MailSendError(`invalid recipient: ${(err as Error).message}`, true, 'EENVELOPE', undefined);
  }
  return { address, domain: address.slice(address.lastIndexOf('@') + 1).toLowerCase() };
}

/**
 * Sends mail through the SMTP server of `SMTP_URL` with nodemailer's pooled SMTP
 * transport. Logs one line per message with the recipient's domain and the
 * Message-ID only: never the body, the subject or the full address.
 */
export function createMailer(config: MailConfig, logger: Logger, options: MailerOptions = {}): Mailer {
  const endpoint = parseSmtpUrl(config.SMTP_URL);
  const from = config.MAIL_FROM;
  // Checked at boot by the setting; checked again here for callers that build the config by hand.
  parseMailbox(from);
  const sendTimeoutMs = options.sendTimeoutMs ?? DEFAULT_SEND_TIMEOUT_MS;
  const log = logger.child({ component: 'mailer' });

  const transport = createTransport({
    pool: true,
    host: endpoint.host,
    port: endpoint.port,
    secure: endpoint.secure,
    auth: endpoint.auth ? { user: endpoint.auth.user, pass: endpoint.auth.pass } : undefined,
    // nodemailer upgrades an smtp: connection only if the server offers STARTTLS; someone on the
    // path could remove the offer and read the password. With credentials, insist on TLS
    // (loopback excepted: a local relay or the dev sink).
    requireTLS: !endpoint.secure && endpoint.auth !== undefined && !isLoopback(endpoint.host),
    maxConnections: options.maxConnections ?? 5,
    idleTimeout: options.idleTimeoutMs ?? 30_000,
    // Socket-level timeouts; the per-send AbortSignal below bounds the whole send,
    // which also catches a server trickling its replies slowly enough to keep the socket "active".
    connectionTimeout: Math.min(10_000, sendTimeoutMs),
    greetingTimeout: Math.min(10_000, sendTimeoutMs),
    socketTimeout: Math.max(sendTimeoutMs, 10_000),
    // Never let nodemailer log: its debug output contains the message source.
    logger: false,
    debug: false,
    // Only strings are sent: refuse any content that would read a file or fetch a URL.
    disableFileAccess: true,
    disableUrlAccess: true,
  });

  return {
    async send(mail) {
      const recipient = recipientOf(mail.to);
      try {
        const info = await transport.sendMail({
          from,
          to: mail.to,
          subject: mail.subject,
          text: mail.text,
          ...(mail.html === undefined ? {} : { html: mail.html }),
          signal: AbortSignal.timeout(sendTimeoutMs),
        });
        log.info({ recipientDomain: recipient.domain, messageId: info.messageId }, 'mail sent');
        return { messageId: info.messageId };
      } catch (err) {
        const e = (typeof err === 'object' && err !== null ? err : {}) as NodemailerFailure;
        const responseCode = typeof e.responseCode === 'number' ? e.responseCode : undefined;
        // The only signal is ours, so an abort is the send timeout.
        const timedOut = e.code === 'EABORT';
        const code = timedOut ? 'ETIMEDOUT' : typeof e.code === 'string' ? e.code : undefined;
        const permanent = typeof e.permanent === 'boolean' ? e.permanent : responseCode !== undefined && responseCode >= 500;
        const reason = timedOut
          ? `no reply within ${sendTimeoutMs} ms`
          : maskAddresses(typeof e.message === 'string' ? e.message : String(err));
        log.warn(
          { recipientDomain: recipient.domain, code, responseCode, permanent, command: typeof e.command === 'string' ? e.command : undefined, reason },
          'mail not sent',
        );
        throw new MailSendError(`mail to a recipient at ${recipient.domain} not sent: ${reason}`, permanent, code, responseCode, { cause: err });
      }
    },

    async verify() {
      await transport.verify();
    },

    async close() {
      transport.close();
    },
  };
}
