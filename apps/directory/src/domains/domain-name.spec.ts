import { describe, expect, it } from '@jest/globals';
import { normalizeDomainName, unicodeOf, type DomainNameProblem } from './domain-name.js';

const PLATFORM = 'id.example.com';
const ok = (raw: string) => normalizeDomainName(raw, PLATFORM);

describe('normalizeDomainName', () => {
  it.each([
    ['acme.co.jp', 'acme.co.jp'],
    ['  ACME.Co.JP  ', 'acme.co.jp'],
    ['acme.co.jp.', 'acme.co.jp'],
    ['sales.acme.example', 'sales.acme.example'],
    ['例え.jp', 'xn--r8jz45g.jp'],
    ['例え。jp', 'xn--r8jz45g.jp'],
    ['ＡＣＭＥ．ｃｏ．ｊｐ', 'acme.co.jp'],
    ['münchen.de', 'xn--mnchen-3ya.de'],
    ['xn--r8jz45g.jp', 'xn--r8jz45g.jp'],
    ['my-company.co.jp', 'my-company.co.jp'],
    ['example.xn--zckzah', 'example.xn--zckzah'],
    ['id.example.com.evil.jp', 'id.example.com.evil.jp'],
    ['example.com', 'example.com'],
  ])('%j → %j', (raw, name) => {
    expect(ok(raw)).toEqual({ ok: true, name });
  });

  it.each<[string, DomainNameProblem]>([
    ['', 'malformed'],
    ['   ', 'malformed'],
    ['.', 'malformed'],
    ['1.2.3.4', 'ip_address'],
    ['192.168.1', 'ip_address'],
    ['0x7f.1', 'ip_address'],
    ['::1', 'ip_address'],
    ['[2001:db8::1]', 'ip_address'],
    ['acme', 'single_label'],
    ['localhost.', 'single_label'],
    ['co.jp', 'public_suffix'],
    ['Tokyo.JP', 'public_suffix'],
    ['co.uk', 'public_suffix'],
    ['github.io', 'public_suffix'],
    ['id.example.com', 'platform_domain'],
    ['acme.id.example.com', 'platform_domain'],
    ['ACME.ID.EXAMPLE.COM.', 'platform_domain'],
    ['https://acme.co.jp', 'malformed'],
    ['acme.co.jp/path', 'malformed'],
    ['taro@acme.co.jp', 'malformed'],
    ['acme.co.jp:8080', 'malformed'],
    ['%61cme.co.jp', 'malformed'],
    ['ac me.co.jp', 'malformed'],
    ['ac_me.co.jp', 'malformed'],
    ['*.acme.co.jp', 'malformed'],
    ['-acme.co.jp', 'malformed'],
    ['acme-.co.jp', 'malformed'],
    ['acme..co.jp', 'malformed'],
    ['.acme.co.jp', 'malformed'],
    ['acme.co.jp..', 'malformed'],
    ['acme.123', 'malformed'],
    ['xn--zz.com', 'malformed'],
    [`${'a'.repeat(64)}.co.jp`, 'label_too_long'],
    [`${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}.jp`, 'too_long'],
  ])('refuses %j as %s', (raw, problem) => {
    const result = ok(raw);
    expect(result).toMatchObject({ ok: false, problem });
  });

  it('keeps room for the challenge label: 235 characters at most', () => {
    const name = (n: number) => `${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(n)}.co.jp`;
    expect(ok(name(46))).toEqual({ ok: true, name: name(46) });
    expect(ok(name(47))).toMatchObject({ ok: false, problem: 'too_long' });
  });

  it('shows an A-label name as people read it', () => {
    expect(unicodeOf('xn--r8jz45g.jp')).toBe('例え.jp');
    expect(unicodeOf('acme.co.jp')).toBe('acme.co.jp');
  });
});
