import { describe, expect, it } from '@jest/globals';
import { MAIL_KINDS } from '@musubi/contracts';
import { DEFAULT_TEMPLATES, PLACEHOLDERS, render } from './default-templates.js';

describe('mail templates', () => {
  it('have a Japanese and an English text for every kind, using only their placeholders', () => {
    for (const kind of MAIL_KINDS) {
      for (const lang of ['ja', 'en'] as const) {
        const t = DEFAULT_TEMPLATES[kind][lang];
        const used = [...`${t.subject}${t.body}`.matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]);
        for (const u of used) expect(PLACEHOLDERS[kind]).toContain(u);
      }
    }
  });

  it('fill placeholders, keep unknown ones, and never let a value break the subject line', () => {
    const out = render({ subject: 'Hi {{displayName}}', body: '{{displayName}}\n{{nope}}' }, { displayName: 'Taro\r\nBcc: evil@example.com' });
    expect(out.subject).toBe('Hi Taro Bcc: evil@example.com');
    expect(out.body).toBe('Taro\r\nBcc: evil@example.com\n{{nope}}');
  });
});
