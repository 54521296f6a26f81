import { isIP } from 'node:net';
import { domainToASCII, domainToUnicode } from 'node:url';
import { CHALLENGE_LABEL } from './domain.js';

/**
 * Names under which anyone can register a domain of their own (public
 * suffixes): a tenant may own `acme.co.jp`, never `co.jp`. A short built-in
 * list of the common Japanese and global second-level suffixes and of the
 * shared hosting suffixes, not the whole Public Suffix List; single-label
 * names (TLDs) are refused anyway.
 */
export const PUBLIC_SUFFIXES: ReadonlySet<string> = new Set([
  // Japan: organisational types (JPRS)
  'ac.jp', 'ad.jp', 'co.jp', 'ed.jp', 'go.jp', 'gr.jp', 'lg.jp', 'ne.jp', 'or.jp',
  // Japan: the 47 prefectures, as general-use geographic second levels
  'aichi.jp', 'akita.jp', 'aomori.jp', 'chiba.jp', 'ehime.jp', 'fukui.jp', 'fukuoka.jp', 'fukushima.jp', 'gifu.jp',
  'gunma.jp', 'hiroshima.jp', 'hokkaido.jp', 'hyogo.jp', 'ibaraki.jp', 'ishikawa.jp', 'iwate.jp', 'kagawa.jp',
  'kagoshima.jp', 'kanagawa.jp', 'kochi.jp', 'kumamoto.jp', 'kyoto.jp', 'mie.jp', 'miyagi.jp', 'miyazaki.jp',
  'nagano.jp', 'nagasaki.jp', 'nara.jp', 'niigata.jp', 'oita.jp', 'okayama.jp', 'okinawa.jp', 'osaka.jp', 'saga.jp',
  'saitama.jp', 'shiga.jp', 'shimane.jp', 'shizuoka.jp', 'tochigi.jp', 'tokushima.jp', 'tokyo.jp', 'tottori.jp',
  'toyama.jp', 'wakayama.jp', 'yamagata.jp', 'yamaguchi.jp', 'yamanashi.jp',
  // Other countries' common second levels
  'ac.uk', 'co.uk', 'gov.uk', 'ltd.uk', 'me.uk', 'net.uk', 'org.uk', 'plc.uk', 'sch.uk',
  'com.au', 'edu.au', 'gov.au', 'net.au', 'org.au', 'ac.nz', 'co.nz', 'net.nz', 'org.nz', 'govt.nz',
  'com.cn', 'edu.cn', 'gov.cn', 'net.cn', 'org.cn', 'com.hk', 'edu.hk', 'gov.hk', 'net.hk', 'org.hk',
  'com.tw', 'edu.tw', 'gov.tw', 'net.tw', 'org.tw', 'ac.kr', 'co.kr', 'go.kr', 'ne.kr', 'or.kr',
  'com.sg', 'edu.sg', 'gov.sg', 'net.sg', 'org.sg', 'ac.th', 'co.th', 'go.th', 'in.th', 'or.th',
  'co.id', 'or.id', 'web.id', 'com.my', 'net.my', 'org.my', 'com.ph', 'net.ph', 'org.ph', 'com.vn', 'net.vn',
  'ac.in', 'co.in', 'firm.in', 'gen.in', 'net.in', 'org.in', 'com.br', 'net.br', 'org.br', 'com.mx', 'org.mx',
  'com.ar', 'com.tr', 'co.za', 'org.za', 'co.il', 'ac.il', 'com.ru', 'co.at', 'or.at', 'com.es', 'co.it',
  'eu.com', 'uk.com', 'us.com', 'co.com',
  // Shared hosting: every customer gets a sub-domain of these
  'appspot.com', 'azurewebsites.net', 'blogspot.com', 'cloudfront.net', 'firebaseapp.com', 'github.io',
  'gitlab.io', 'herokuapp.com', 'netlify.app', 'pages.dev', 'vercel.app', 'web.app', 'workers.dev',
]);

export type DomainNameProblem = 'malformed' | 'ip_address' | 'too_long' | 'label_too_long' | 'single_label' | 'public_suffix' | 'platform_domain';

export type DomainNameResult = { readonly ok: true; readonly name: string } | { readonly ok: false; readonly problem: DomainNameProblem; readonly detail: string };

/** Letters, digits, inner hyphens (LDH, RFC 1123); A-labels (`xn--…`) are LDH too. */
const LABEL = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;
/** A top-level domain is never numeric (that is what tells `1.2.3.4` from a name). */
const TLD = /^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/;
/** Characters that make a URL parser read something other than a host name. */
const NOT_IN_A_HOST = /[\s/\\?#@:%[\]<>"'`^{}|*,;=+!$&()~]/u;
/** A trailing dot (the root), also as the ideographic or full-width full stop. */
const TRAILING_DOT = /[.\u3002\uff0e\uff61]$/u;

/** A DNS name has at most 253 octets (RFC 1035), the challenge record's name included. */
export const MAX_NAME_LENGTH = 253 - CHALLENGE_LABEL.length - 1;

const fail = (problem: DomainNameProblem, detail: string): DomainNameResult => ({ ok: false, problem, detail });

/**
 * The one spelling of a domain name that is stored and compared: lower case,
 * IDN as punycode A-labels (`例え.jp` → `xn--r8jz45g.jp`, with `node:url`'s
 * UTS #46 mapping, so full-width letters and the ideographic full stop are read
 * as what they look like), no trailing dot. Refused: anything that is not a
 * host name of at least two LDH labels (an IP address, a URL, a bare TLD, an
 * underscore, a label over 63 octets, or a name too long for its challenge
 * record's name to stay within 253), a public suffix by
 * itself, and the platform's own domain and its sub-domains.
 */
export function normalizeDomainName(raw: string, platformDomain: string): DomainNameResult {
  let input = raw.trim();
  if (TRAILING_DOT.test(input)) input = input.slice(0, -1);
  if (isIP(input) !== 0 || isIP(input.replace(/^\[|\]$/g, '')) !== 0) return fail('ip_address', 'is an IP address, not a domain name');
  if (input === '' || NOT_IN_A_HOST.test(input)) return fail('malformed', 'is not a domain name');
  const ascii = domainToASCII(input);
  if (ascii === '') return fail('malformed', 'is not a domain name');
  // The URL host parser reads `192.168.1` and `0x7f.1` as IPv4 addresses.
  if (isIP(ascii) !== 0) return fail('ip_address', 'is an IP address, not a domain name');
  if (ascii.length > MAX_NAME_LENGTH) return fail('too_long', `is longer than ${MAX_NAME_LENGTH} characters (the TXT record's name ${CHALLENGE_LABEL}.<name> must fit in 253)`);
  const labels = ascii.split('.');
  if (labels.length < 2) return fail('single_label', 'needs at least two labels, such as example.co.jp');
  if (labels.some((l) => l.length > 63)) return fail('label_too_long', 'has a label longer than 63 characters');
  if (!labels.every((l) => LABEL.test(l)) || !TLD.test(labels[labels.length - 1] ?? '')) {
    return fail('malformed', 'is not a domain name (letters, digits and inner hyphens between dots)');
  }
  if (PUBLIC_SUFFIXES.has(ascii)) return fail('public_suffix', 'is a public suffix; register the domain under it, such as example.co.jp');
  const platform = platformDomain.toLowerCase();
  if (ascii === platform || ascii.endsWith(`.${platform}`)) return fail('platform_domain', "is the platform's own domain; every tenant already has its sub-domain of it");
  return { ok: true, name: ascii };
}

/** The name as people read it (`xn--r8jz45g.jp` → `例え.jp`). */
export const unicodeOf = (name: string): string => domainToUnicode(name) || name;
