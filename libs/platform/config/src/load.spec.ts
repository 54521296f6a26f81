import { describe, expect, it } from '@jest/globals';
import { ConfigError, describeConfig, loadConfig } from './load.js';
import { enumSetting, intSetting, listSetting, optional, portSetting, stringSetting, urlListSetting, urlSetting } from './setting.js';

const spec = {
  PORT: portSetting({ doc: 'port', default: '8080' }),
  DATABASE_URL: urlSetting({ doc: 'db', secret: true, protocols: ['postgres:'] }),
  LEVEL: enumSetting(['info', 'debug'] as const, { doc: 'level', default: 'info' }),
  NATS_URL: urlListSetting({ doc: 'nats', default: 'nats://a:4222', protocols: ['nats:'] }),
  TOKEN: stringSetting({ doc: 'token', secret: true, minLength: 32 }),
  LIMIT: intSetting({ doc: 'limit', default: '5', min: 1, max: 10 }),
  EXTRA: optional(stringSetting({ doc: 'extra' })),
  LIST: listSetting({ doc: 'list', default: '' }),
};

const good = { DATABASE_URL: 'postgres://u:secretpw@h/db', TOKEN: 'x'.repeat(32) };

describe('loadConfig', () => {
  it('applies defaults and parses types', () => {
    const c = loadConfig(spec, good);
    expect(c).toEqual({
      PORT: 8080,
      DATABASE_URL: 'postgres://u:secretpw@h/db',
      LEVEL: 'info',
      NATS_URL: ['nats://a:4222'],
      TOKEN: 'x'.repeat(32),
      LIMIT: 5,
      EXTRA: undefined,
      LIST: [],
    });
  });

  it('names every missing and bad setting at once', () => {
    let err: unknown;
    try {
      loadConfig(spec, { PORT: '99999', LEVEL: 'loud', NATS_URL: 'nats://a,http://b', LIMIT: '1.5' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const names = (err as ConfigError).issues.map((i) => i.name).sort();
    expect(names).toEqual(['DATABASE_URL', 'LEVEL', 'LIMIT', 'NATS_URL', 'PORT', 'TOKEN']);
    expect((err as ConfigError).message).toContain('PORT: must be between 1 and 65535 (got "99999")');
    expect((err as ConfigError).message).toContain('NATS_URL: entry 2 must use nats:');
  });

  it('never echoes a secret value in its message', () => {
    try {
      loadConfig(spec, { ...good, DATABASE_URL: 'mysql://u:hunter2hunter2@h/db', TOKEN: 'short-secret' });
      throw new Error('should have failed');
    } catch (e) {
      const msg = (e as Error).message;
      expect(msg).toContain('DATABASE_URL: must use postgres:');
      expect(msg).toContain('TOKEN: must be at least 32 characters');
      expect(msg).not.toContain('hunter2');
      expect(msg).not.toContain('short-secret');
    }
  });

  it('documents settings with defaults and secrecy', () => {
    const docs = describeConfig(spec);
    expect(docs.find((d) => d.name === 'TOKEN')).toEqual({ name: 'TOKEN', doc: 'token', default: null, required: true, secret: true });
    expect(docs.find((d) => d.name === 'EXTRA')?.required).toBe(false);
  });
});
