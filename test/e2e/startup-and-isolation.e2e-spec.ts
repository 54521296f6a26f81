import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '@musubi/platform/testing';
import { schemaSpecs } from '../support/services.js';
import { ROOT } from '../support/test-fleet.js';

function runService(name: string, env: Record<string, string>, args: string[] = []) {
  return spawnSync(process.execPath, [join(ROOT, 'apps', name, 'dist', 'main.js'), ...args], {
    env: { PATH: process.env['PATH'] ?? '', ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
}

describe('a service with bad settings refuses to start', () => {
  it('exits 78 naming every missing and bad setting', () => {
    const r = runService('directory', { HTTP_PORT: 'eighty', LOG_LEVEL: 'loud', NATS_URL: 'http://nats:4222' });
    expect(r.status).toBe(78);
    for (const name of ['DATABASE_URL: is required', 'HTTP_PORT: must be an integer', 'LOG_LEVEL: must be one of', 'NATS_URL: entry 1 must use nats:']) {
      expect(r.stderr).toContain(name);
    }
  });

  it('never echoes a secret value while refusing it', () => {
    const r = runService('gateway', { MUSUBI_OPERATOR_TOKEN: 'too-short-secret', REDIS_URL: 'http://user:hunter2@redis:6379' });
    expect(r.status).toBe(78);
    expect(r.stderr).toContain('MUSUBI_OPERATOR_TOKEN: must be at least 32 characters');
    expect(r.stderr).toContain('REDIS_URL: must use redis: or rediss:');
    expect(`${r.stdout}${r.stderr}`).not.toContain('too-short-secret');
    expect(`${r.stdout}${r.stderr}`).not.toContain('hunter2');
  });
});

describe('each service role reaches only its own schema', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase(schemaSpecs);
  }, 120_000);
  afterAll(async () => {
    await db?.drop();
  });

  it("refuses the directory role on authn's and audit's tables", async () => {
    const c = new pg.Client({ connectionString: db.urlFor('directory') });
    await c.connect();
    try {
      await expect(c.query('SELECT * FROM authn.credentials')).rejects.toThrow(/permission denied/);
      await expect(c.query('INSERT INTO audit.events (id, subject, occurred_at, actor, payload) VALUES (gen_random_uuid(), $1, now(), $2, $3)', ['x', '{}', '{}'])).rejects.toThrow(/permission denied/);
      await expect(c.query('CREATE TABLE public.intruder (id int)')).rejects.toThrow(/permission denied/);
      // Its own schema is its own.
      const own = await c.query<{ n: number }>('SELECT count(*)::int AS n FROM directory.tenants');
      expect(own.rows[0]?.n).toBe(0);
    } finally {
      await c.end();
    }
  });

  it('migrate is idempotent and provisions the role and schema itself', () => {
    const env = { DATABASE_URL: db.urlFor('billing'), DATABASE_ADMIN_URL: db.adminUrl, LOG_LEVEL: 'info' };
    const r = runService('billing', env, ['migrate']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('schema up to date');
  });
});
