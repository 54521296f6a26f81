import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { SERVICES } from '../support/services.js';
// @ts-expect-error the generator is plain JavaScript
import { BEGIN, END, renderReference } from '../../tools/dev/config-reference.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');

describe('README', () => {
  it('shows the two commands a new user runs', () => {
    expect(readme).toContain('npm install && npm start');
    expect(readme).toContain('npm test');
  });

  it('documents the current settings of every service (run tools/dev/config-reference.mjs --write)', () => {
    const block = readme.slice(readme.indexOf(BEGIN) + (BEGIN as string).length, readme.indexOf(END)).trim();
    const expected = (renderReference as (s: unknown) => string)(Object.fromEntries(SERVICES.map((s) => [s.name, s.settings])));
    expect(block).toBe(expected);
  });

  it('lists every service with its health port', () => {
    for (const s of SERVICES) {
      expect(readme).toMatch(new RegExp(`\\| \`${s.name}\` \\|[^\\n]*\\| ${s.settings.HTTP_PORT.default} \\|`));
    }
  });
});
