import { describe, expect, it } from '@jest/globals';
import { generateTemporaryPassword } from './temporary-password.js';

describe('generateTemporaryPassword', () => {
  it('gives four groups of five unambiguous characters', () => {
    for (let i = 0; i < 200; i++) expect(generateTemporaryPassword()).toMatch(/^[A-HJ-NP-Za-km-z2-9]{5}(-[A-HJ-NP-Za-km-z2-9]{5}){3}$/);
  });

  it('never repeats itself and uses the whole alphabet', () => {
    const made = Array.from({ length: 2000 }, () => generateTemporaryPassword());
    expect(new Set(made).size).toBe(made.length);
    const used = new Set(made.join('').replace(/-/g, ''));
    expect(used.size).toBe(57);
  });
});
