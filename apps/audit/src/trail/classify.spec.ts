import { describe, expect, it } from '@jest/globals';
import { classify, normalizeIp } from './classify.js';
import { diff } from './diff.js';
import { REDACTED, redact } from './redact.js';
import { formatLocal } from './time.js';

const user = '0190f5d2-7c1e-7a3b-9c4d-5e6f7a8b9c0d';

describe('classify', () => {
  it('reads a sign-in: method code, result, address, user agent, device, application, the user it is about', () => {
    const c = classify(
      'musubi.authn.login.succeeded.v1',
      { userId: user.toUpperCase(), loginId: 'a@b', method: 'pop', ip: '::ffff:203.0.113.9', userAgent: 'Mozilla/5.0', deviceFingerprint: 'fp-1', clientId: 'crm' },
      { kind: 'user', userId: user, tenantId: user, roles: [] },
    );
    expect(c).toMatchObject({ category: 'login', result: 'success', method: 'pop', ip: '203.0.113.9', userAgent: 'Mozilla/5.0', device: 'fp-1', application: 'crm', targetUserId: user, actorId: user });
    const failed = classify('musubi.authn.login.failed.v1', { loginId: 'x', userId: null, ip: '2001:DB8:0:0:0:0:0:1', userAgent: 'curl' }, { kind: 'anonymous' });
    expect(failed).toMatchObject({ category: 'login', result: 'failure', ip: '2001:db8::1', actorId: null, targetUserId: null });
  });

  it('reads a job: its status as the result', () => {
    const started = { id: user, kind: 'import_users', fileName: 'a.csv', fileBytes: 3 };
    expect(classify('musubi.directory.job.started.v1', { job: started }, { kind: 'operator', id: 'bootstrap' })).toMatchObject({ category: 'job', result: null });
    const ok = { id: user, kind: 'import_users', status: 'succeeded', counts: { rows: 3 } };
    expect(classify('musubi.directory.job.finished.v1', { job: ok }, { kind: 'service', service: 'directory' })).toMatchObject({ result: 'success' });
    const job = { id: user, kind: 'import_users', status: 'failed', counts: { rows: 3 } };
    expect(classify('musubi.directory.job.finished.v1', { job }, { kind: 'service', service: 'directory' })).toMatchObject({
      category: 'job',
      result: 'failure',
      targetType: 'job',
      targetId: user,
      actorId: 'directory',
    });
  });

  it("reads an administrator's change: target, field-level before and after, secrets never kept", () => {
    const before = { id: user, displayName: '山田', version: 1, settings: { mfa: false }, clientSecret: 'old-s3cret' };
    const after = { id: user, displayName: '山田 太郎', version: 2, settings: { mfa: true }, clientSecret: 'new-s3cret' };
    const c = classify('musubi.directory.user.updated.v1', { before, after, reason: null }, { kind: 'operator', id: 'bootstrap' });
    expect(c).toMatchObject({ category: 'admin', targetType: 'user', targetId: user, targetUserId: user, actorId: 'bootstrap' });
    expect(c.changes).toEqual([
      { path: 'clientSecret', op: 'changed', redacted: true },
      { path: 'displayName', op: 'changed', before: '山田', after: '山田 太郎' },
      { path: 'settings.mfa', op: 'changed', before: false, after: true },
    ]);
    expect(JSON.stringify(c.changes)).not.toContain('s3cret');
  });

  it('keeps only real addresses', () => {
    expect(normalizeIp('10.0.0.1')).toBe('10.0.0.1');
    expect(normalizeIp('not an ip')).toBeNull();
    expect(normalizeIp('1.2.3.4; DROP TABLE')).toBeNull();
    expect(normalizeIp(42)).toBeNull();
  });
});

describe('redact', () => {
  it('removes secrets under any spelling and at any depth, keeps flags', () => {
    const out = redact({
      password: 'p',
      new_password: 'p',
      'Client-Secret': 's',
      tokens: ['t'],
      nested: [{ refreshToken: 'r', otp: '123456', privateKey: 'k', name: 'ok' }],
      mustChangePassword: true,
      passwordHash: null,
    });
    expect(out).toEqual({
      password: REDACTED,
      new_password: REDACTED,
      'Client-Secret': REDACTED,
      tokens: REDACTED,
      nested: [{ refreshToken: REDACTED, otp: REDACTED, privateKey: REDACTED, name: 'ok' }],
      mustChangePassword: true,
      passwordHash: null,
    });
  });

  it('makes text storable in Postgres', () => {
    expect(redact({ a: 'x\u0000y\uD800' })).toEqual({ a: 'x\uFFFDy\uFFFD' });
  });
});

describe('diff', () => {
  it('lists added and removed fields, ignores version noise', () => {
    expect(diff({ a: 1, b: [1], version: 1 }, { b: [1, 2], c: 'x', version: 2 })).toEqual([
      { path: 'a', op: 'removed', before: 1 },
      { path: 'b', op: 'changed', before: [1], after: [1, 2] },
      { path: 'c', op: 'added', after: 'x' },
    ]);
  });
});

describe('formatLocal', () => {
  it("shows UTC in the tenant's zone, Asia/Tokyo for an unknown one", () => {
    expect(formatLocal('2026-03-15T09:04:05.123Z', 'Asia/Tokyo')).toBe('2026-03-15T18:04:05.123+09:00');
    expect(formatLocal('2026-03-15T09:04:05.123Z', 'America/New_York')).toBe('2026-03-15T05:04:05.123-04:00');
    expect(formatLocal('2026-03-15T09:04:05.123Z', 'UTC')).toBe('2026-03-15T09:04:05.123+00:00');
    expect(formatLocal('2026-03-15T09:04:05.123Z', 'Not/AZone')).toBe('2026-03-15T18:04:05.123+09:00');
  });
});
