import { describe, expect, it } from '@jest/globals';
import { checkNewPassword } from './password-policy.js';

const taro = { loginId: 'taro.yamada@acme.musubi.localhost', names: ['山田', 'Taro', 'Yamada Taro', 'Li'] };

describe('checkNewPassword', () => {
  it('accepts a long passphrase with no composition rules', () => {
    expect(checkNewPassword('correct horse battery staple', taro)).toEqual([]);
    expect(checkNewPassword('ひらがなだけのながいあいことばです', taro)).toEqual([]);
  });

  it('asks for at least 15 characters, counted in code points', () => {
    expect(checkNewPassword('fourteen-chars', taro)).toEqual([{ pointer: '/newPassword', detail: 'must be at least 15 characters long' }]);
    expect(checkNewPassword('fifteen-chars-x', taro)).toEqual([]);
    // 14 emoji are 28 UTF-16 units but 14 characters.
    expect(checkNewPassword('🔑'.repeat(7) + '🗝'.repeat(7), taro)).toHaveLength(1);
    expect(checkNewPassword('🔑'.repeat(8) + '🗝'.repeat(7), taro)).toEqual([]);
  });

  it('refuses more than 1,024 characters rather than truncating', () => {
    expect(checkNewPassword('ab'.repeat(512), taro)).toEqual([]);
    expect(checkNewPassword(`${'ab'.repeat(512)}c`, taro)).toEqual([{ pointer: '/newPassword', detail: 'must be at most 1024 characters long' }]);
  });

  it("refuses the login ID's local part and the user's names, whatever the case", () => {
    const refused = { pointer: '/newPassword', detail: 'must not contain your login ID or your name' };
    expect(checkNewPassword('my KUMO.SAN passphrase!', { loginId: 'kumo.san@acme.musubi.localhost', names: [] })).toEqual([refused]);
    expect(checkNewPassword('my kumo passphrase here', { loginId: 'kumo.san@acme.musubi.localhost', names: [] })).toEqual([]);
    expect(checkNewPassword('山田さんの長い長いパスワードです', taro)).toEqual([]); // two characters: too short to count as a name
    expect(checkNewPassword('i am yamada taro, hello!', taro)).toEqual([refused]);
    expect(checkNewPassword('a long passphrase for taro', taro)).toEqual([refused]);
    // Names under three characters would refuse too much.
    expect(checkNewPassword('olive limousine drive', taro)).toEqual([]);
  });

  it('refuses one character repeated, and reports every problem with the given pointer', () => {
    expect(checkNewPassword('aaaaaaaaaaaaaaaa', taro, '/password')).toEqual([{ pointer: '/password', detail: 'must not be one character repeated' }]);
    expect(checkNewPassword('taro', taro).map((p) => p.detail)).toEqual(['must be at least 15 characters long', 'must not contain your login ID or your name']);
  });
});

describe('checkNewPassword with a tenant policy and the common-password list', () => {
  const loose = { minLength: 6, complexity: false };

  it('refuses common and breached passwords, also with digits appended or repeated, telling why', () => {
    const why = 'is too common: it is on a list of passwords attackers try first';
    for (const pw of ['password', 'PASSWORD', 'iloveyou', 'qwertyuiop', 'password123!', 'dragon2024', 'sunshinesunshinesunshine']) {
      expect(checkNewPassword(pw, taro, '/newPassword', loose)).toEqual([{ pointer: '/newPassword', detail: why }]);
    }
    expect(checkNewPassword('kumo-no-ue', taro, '/newPassword', loose)).toEqual([]);
  });

  it('applies the tenant minimum (6-24) and the optional complexity rule', () => {
    expect(checkNewPassword('kumo-n', taro, '/p', loose)).toEqual([]);
    expect(checkNewPassword('kumo-no-ue', taro, '/p', { minLength: 24, complexity: false })).toEqual([{ pointer: '/p', detail: 'must be at least 24 characters long' }]);
    const complex = { minLength: 8, complexity: true };
    expect(checkNewPassword('kumonouenoneko', taro, '/p', complex)).toEqual([{ pointer: '/p', detail: 'must mix at least three kinds of characters: upper case, lower case, kana or kanji, digits, symbols' }]);
    expect(checkNewPassword('Kumo-no-ue', taro, '/p', complex)).toEqual([]);
    expect(checkNewPassword('くもの上の猫7!', taro, '/p', complex)).toEqual([]);
  });

  it('accepts 64 and 1,024 characters whole (never truncated)', () => {
    const long = 'a tale of two cities, it was the best of times, it was the worst ';
    expect(long.length).toBeGreaterThanOrEqual(64);
    expect(checkNewPassword(long, taro)).toEqual([]);
  });
});
