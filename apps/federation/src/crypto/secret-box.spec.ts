import { randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { SecretBox } from './secret-box.js';

describe('SecretBox', () => {
  const box = new SecretBox(randomBytes(32));

  it('opens what it sealed, with the same associated data', () => {
    const plain = Buffer.from('{"d":"private"}');
    const sealed = box.seal(plain, 'tenant/kid');
    expect(sealed.includes(plain)).toBe(false);
    expect(box.open(sealed, 'tenant/kid').toString()).toBe('{"d":"private"}');
  });

  it('refuses another row\'s associated data, another key and a flipped bit', () => {
    const sealed = box.seal(Buffer.from('secret'), 'tenant-a/kid-1');
    expect(() => box.open(sealed, 'tenant-b/kid-1')).toThrow();
    expect(() => new SecretBox(randomBytes(32)).open(sealed, 'tenant-a/kid-1')).toThrow();
    const flipped = Buffer.from(sealed);
    flipped[flipped.length - 1] = (flipped[flipped.length - 1] ?? 0) ^ 1;
    expect(() => box.open(flipped, 'tenant-a/kid-1')).toThrow();
  });

  it('uses a fresh IV each time', () => {
    expect(box.seal(Buffer.from('x'), 'a').equals(box.seal(Buffer.from('x'), 'a'))).toBe(false);
  });
});
