import { describe, expect, it } from '@jest/globals';
import { uuidv7 } from './outbox.js';

const FORMAT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const hex = (id: string) => id.replace(/-/g, '');

describe('uuidv7', () => {
  it('is a UUID of version 7 with the RFC 9562 variant', () => {
    for (let i = 0; i < 200; i++) {
      const id = uuidv7();
      expect(id).toMatch(FORMAT);
      expect(hex(id)[12]).toBe('7');
      // Variant 10xx: the top two bits of byte 8.
      expect(parseInt(hex(id)[16] ?? '', 16) >> 2).toBe(0b10);
    }
  });

  it('carries the Unix time in milliseconds in its first 48 bits', () => {
    const now = Date.UTC(2024, 4, 1, 12, 34, 56, 789);
    expect(parseInt(hex(uuidv7(now)).slice(0, 12), 16)).toBe(now);
    const before = Date.now();
    const ts = parseInt(hex(uuidv7()).slice(0, 12), 16);
    expect(ts).toBeGreaterThanOrEqual(before);
    expect(ts).toBeLessThanOrEqual(Date.now());
  });

  it('sorts by time, as text', () => {
    const start = Date.UTC(2024, 0, 1);
    const times = [0, 1, 2, 255, 256, 65_536, 2 ** 32, 2 ** 40].map((d) => start + d);
    const ids = times.map((t) => uuidv7(t));
    expect([...ids].reverse().sort()).toEqual(ids);
  });

  it('is unique, even within one millisecond', () => {
    const now = Date.now();
    const ids = new Set(Array.from({ length: 5000 }, () => uuidv7(now)));
    expect(ids.size).toBe(5000);
  });
});
