import { describe, expect, it } from '@jest/globals';
import { randomToken } from './opaque-token.js';

describe('randomToken', () => {
  it('gives base64url tokens of the asked length, never the same twice, across refills of its random block', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 5000; i++) {
      const t = randomToken(i % 2 === 0 ? 16 : 32);
      expect(t).toMatch(i % 2 === 0 ? /^[A-Za-z0-9_-]{22}$/ : /^[A-Za-z0-9_-]{43}$/);
      seen.add(t);
    }
    expect(seen.size).toBe(5000);
    expect(randomToken(300)).toMatch(/^[A-Za-z0-9_-]{400}$/);
  });
});
