import addressparser from 'nodemailer/lib/addressparser';
import type { ConfigOf, Setting } from '@musubi/platform/config';
import { stringSetting, urlSetting } from '@musubi/platform/config';

/** The host, port, TLS mode and credentials nodemailer is given; nothing else is read from `SMTP_URL`. */
export interface SmtpEndpoint {
  readonly host: string;
  readonly port: number;
  /** `smtps:` is TLS from the first byte (usually port 465); `smtp:` upgrades with STARTTLS when the server offers it. */
  readonly secure: boolean;
  readonly auth?: { readonly user: string; readonly pass: string };
}

/**
 * Reads an `smtp:`/`smtps:` URL. Only host, port and user info count: nodemailer would
 * also read query parameters (`?tls.rejectUnauthorized=false`, `?pool=false`…) over our
 * own options, so a URL carrying any is refused rather than half-applied.
 */
export function parseSmtpUrl(raw: string): SmtpEndpoint {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error('is not a valid URL');
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') throw new Error('must use smtp: or smtps:');
  if (!url.hostname) throw new Error('must name a host');
  if (url.search || url.hash) throw new Error('must not carry query parameters or a fragment');
  if (url.pathname !== '' && url.pathname !== '/') throw new Error('must not carry a path');
  const secure = url.protocol === 'smtps:';
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const port = url.port ? Number(url.port) : secure ? 465 : 587;
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      throw new Error('has badly percent-encoded credentials');
    }
  };
  return url.username || url.password
    ? { host, port, secure, auth: { user: decode(url.username), pass: decode(url.password) } }
    : { host, port, secure };
}

/** An RFC 5322 mailbox (`Name <local@domain>` or `local@domain`): exactly one, no group, no line break. */
export function parseMailbox(raw: string): { readonly name: string; readonly address: string } {
  if (/[\r\n]/.test(raw)) throw new Error('must be on one line');
  const parsed = addressparser(raw);
  const only = parsed.length === 1 ? parsed[0] : undefined;
  if (!only || only.group !== undefined) throw new Error('must be exactly one address, such as "Musubi <no-reply@example.com>"');
  const at = only.address.lastIndexOf('@');
  if (at < 1 || at === only.address.length - 1 || /\s/.test(only.address)) {
    throw new Error('must be an address of the form local@domain, such as "Musubi <no-reply@example.com>"');
  }
  return { name: only.name, address: only.address };
}

const smtpUrl = urlSetting({
  doc: 'SMTP server mail is sent through: smtp://[user:password@]host[:port] (STARTTLS when offered, port 587 by default) or smtps://… (TLS, port 465 by default)',
  secret: true,
  default: 'smtp://127.0.0.1:2525',
  protocols: ['smtp:', 'smtps:'],
});

const mailFrom = stringSetting({
  doc: 'Sender of the mail the service sends, an RFC 5322 address such as "Musubi <no-reply@example.com>"',
  default: 'Musubi <no-reply@musubi.localhost>',
});

/** Settings of a service that sends mail. The default `SMTP_URL` is the development sink (`tools/dev/mail-sink.mjs`). */
export const mailSettings = {
  SMTP_URL: {
    ...smtpUrl,
    parse: (raw: string) => {
      parseSmtpUrl(smtpUrl.parse(raw));
      return raw;
    },
  } satisfies Setting<string>,
  MAIL_FROM: {
    ...mailFrom,
    parse: (raw: string) => {
      const value = mailFrom.parse(raw.trim());
      parseMailbox(value);
      return value;
    },
  } satisfies Setting<string>,
} as const;

export type MailConfig = ConfigOf<typeof mailSettings>;
