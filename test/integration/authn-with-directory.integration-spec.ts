import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import type { CallContext, ReplyOf, TenantView, UserView } from '@musubi/contracts';
// Sign-in needs the real directory (authn asks it for users over the bus), so its test kit runs here too.
import { asUser, createTenant, createUser, errorOf, expectError, operator, outboxDrained, schemaOf, startKit, streamMessages, type Kit } from '@musubi/platform/testing';
import { directoryService } from '../../apps/directory/src/service.js';
import { authnService } from '../../apps/authn/src/service.js';

// authn with directory, over a NATS, a Redis and a database of this file's own.

let kit: Kit;
let redis: Redis;
let tenant: TenantView;
/** Every secret handed out or typed in this file: none may show up in a log line, an event or Redis. */
const secrets: string[] = [];

const client = { ip: '203.0.113.7', userAgent: 'jest' };
const anonymous = (tenantId: string): CallContext => ({ requestId: randomUUID(), tenantId, caller: { kind: 'anonymous' } });

async function issue(user: UserView): Promise<ReplyOf<'musubi.authn.temporary-password.issue.v1'>> {
  const reply = await kit.bus.request('musubi.authn.temporary-password.issue.v1', { tenantId: user.tenantId, userId: user.id }, operator());
  secrets.push(reply.temporaryPassword);
  return reply;
}

async function login(loginId: string, password: string, tenantId = tenant.id): Promise<ReplyOf<'musubi.authn.login.password.v1'>> {
  const reply = await kit.bus.request('musubi.authn.login.password.v1', { tenantId, loginId, password, client }, anonymous(tenantId));
  secrets.push(reply.sessionId);
  return reply;
}

async function changePassword(sessionId: string, currentPassword: string, newPassword: string): Promise<ReplyOf<'musubi.authn.password.change.v1'>> {
  const reply = await kit.bus.request('musubi.authn.password.change.v1', { sessionId, currentPassword, newPassword, client }, anonymous(tenant.id));
  secrets.push(reply.sessionId);
  return reply;
}

const sessionGet = (sessionId: string) => kit.bus.request('musubi.authn.session.get.v1', { sessionId }, anonymous(tenant.id));

beforeAll(async () => {
  kit = await startKit({ schemas: [schemaOf(directoryService), { schema: 'authn', migrations: authnService.database?.migrations ?? [] }], redis: true });
  await kit.start(directoryService);
  await kit.start(authnService);
  redis = new Redis(kit.redis!.url, { lazyConnect: true });
  await redis.connect();
  tenant = await createTenant(kit);
}, 60_000);

afterAll(async () => {
  await redis?.quit();
  await kit?.stop();
}, 30_000);

describe('one-time passwords', () => {
  it('are issued by an operator, valid for 72 hours, and stored only as an argon2id hash', async () => {
    const user = await createUser(kit, tenant, 'issue-me');
    const started = Date.now();
    const reply = await issue(user);
    expect(reply.temporaryPassword).toMatch(/^[A-HJ-NP-Za-km-z2-9]{5}(-[A-HJ-NP-Za-km-z2-9]{5}){3}$/);
    expect(Date.parse(reply.expiresAt) - started).toBeGreaterThan(72 * 3_600_000 - 60_000);
    expect(Date.parse(reply.expiresAt) - started).toBeLessThanOrEqual(72 * 3_600_000 + 60_000);
    const rows = await kit.sql<{ password_hash: string; temporary: boolean }>('SELECT password_hash, temporary FROM authn.credentials WHERE user_id = $1', [user.id]);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.temporary).toBe(true);
    expect(rows[0]!.password_hash).toMatch(/^\$argon2id\$/);
    expect(rows[0]!.password_hash).not.toContain(reply.temporaryPassword);
  });

  it('are refused to a user caller without users:credentials (an auditor, a plain user)', async () => {
    const auditor = await createUser(kit, tenant, 'the-auditor', { roles: ['auditor'] });
    const target = await createUser(kit, tenant, 'target');
    for (const ctx of [asUser(tenant.id, auditor.id, ['auditor']), asUser(tenant.id, target.id, [])]) {
      await expectError(kit.bus.request('musubi.authn.temporary-password.issue.v1', { tenantId: tenant.id, userId: target.id }, ctx), 'forbidden');
    }
    expect(await kit.sql('SELECT 1 FROM authn.credentials WHERE user_id = $1', [target.id])).toEqual([]);
  });

  it('are refused for a user that does not exist, or not in that tenant', async () => {
    await expectError(kit.bus.request('musubi.authn.temporary-password.issue.v1', { tenantId: tenant.id, userId: randomUUID() }, operator()), 'not_found');
    const elsewhere = await createTenant(kit);
    const stranger = await createUser(kit, elsewhere, 'stranger');
    await expectError(kit.bus.request('musubi.authn.temporary-password.issue.v1', { tenantId: tenant.id, userId: stranger.id }, operator()), 'not_found');
    expect(await kit.sql('SELECT 1 FROM authn.credentials WHERE user_id = $1', [stranger.id])).toEqual([]);
  });
});

describe('signing in', () => {
  it('with a one-time password opens a session that must change its password', async () => {
    const user = await createUser(kit, tenant, 'first-timer');
    const { temporaryPassword } = await issue(user);
    const before = Date.now();
    const { sessionId, session } = await login(user.loginId, temporaryPassword);
    expect(sessionId.length).toBeGreaterThanOrEqual(43);
    expect(session).toEqual({
      tenantId: tenant.id,
      userId: user.id,
      createdAt: expect.any(String),
      expiresAt: expect.any(String),
      mustChangePassword: true,
      method: 'temp_pwd',
      authTime: session.createdAt,
      amr: ['temp_pwd'],
      passwordChangeReason: 'temporary',
      passwordExpiresSoon: null,
    });
    // Idle timeout (30 minutes by default) comes before the absolute one.
    expect(Date.parse(session.expiresAt) - before).toBeLessThanOrEqual(30 * 60_000 + 5_000);
    expect(await sessionGet(sessionId)).toMatchObject({ userId: user.id, mustChangePassword: true, method: 'temp_pwd' });
  });

  it('fails the same way for a wrong password, an unknown login ID or tenant, a user without password and a disabled user', async () => {
    const user = await createUser(kit, tenant, 'careful');
    const { temporaryPassword } = await issue(user);
    const noPassword = await createUser(kit, tenant, 'never-issued');
    const disabled = await createUser(kit, tenant, 'disabled');
    const disabledPassword = (await issue(disabled)).temporaryPassword;
    // directory has no way to disable a user yet: its table is the only way.
    await kit.sql("UPDATE directory.users SET status = 'disabled' WHERE id = $1", [disabled.id]);
    secrets.push('wrong-password-1', 'whatever-pass-2');
    const failures = await Promise.all([
      errorOf(login(user.loginId, 'wrong-password-1')),
      errorOf(login(user.loginId, `${temporaryPassword}x`)),
      errorOf(login(`nobody@${tenant.platformDomain}`, temporaryPassword)),
      errorOf(login(user.loginId, temporaryPassword, randomUUID())),
      errorOf(login(noPassword.loginId, 'whatever-pass-2')),
      errorOf(login(disabled.loginId, disabledPassword)),
    ]);
    const seen = failures.map((e) => ({ code: e.code, message: e.message, details: e.details }));
    expect(seen[0]!.code).toBe('unauthenticated');
    for (const s of seen) expect(s).toEqual(seen[0]);
    // The right password still works afterwards.
    expect((await login(user.loginId, temporaryPassword)).session.userId).toBe(user.id);
  });

  it('refuses an expired one-time password with the same answer', async () => {
    const user = await createUser(kit, tenant, 'too-late');
    const { temporaryPassword } = await issue(user);
    const wrong = await errorOf(login(user.loginId, 'not-the-password'));
    await kit.sql("UPDATE authn.credentials SET expires_at = now() - interval '1 minute' WHERE user_id = $1", [user.id]);
    const expired = await errorOf(login(user.loginId, temporaryPassword));
    expect({ code: expired.code, message: expired.message }).toEqual({ code: 'unauthenticated', message: wrong.message });
  });
});

describe('changing the password', () => {
  let user: UserView;
  let temporaryPassword: string;
  let sessionId: string;
  const newPassword = 'correct horse battery staple 42';

  beforeAll(async () => {
    user = await createUser(kit, tenant, 'kumo-user', { familyName: 'Yamada', givenName: 'Taro' });
    ({ temporaryPassword } = await issue(user));
    ({ sessionId } = await login(user.loginId, temporaryPassword));
    secrets.push(newPassword);
  });

  it('refuses a wrong current password at /currentPassword', async () => {
    secrets.push('not-my-current-password');
    const err = await expectError(changePassword(sessionId, 'not-my-current-password', newPassword), 'validation_failed', '/currentPassword');
    expect(err.details.map((d) => d.pointer)).toEqual(['/currentPassword']);
    expect(await sessionGet(sessionId)).toMatchObject({ mustChangePassword: true });
  });

  it('refuses a new password under 15 characters, saying why', async () => {
    const err = await expectError(changePassword(sessionId, temporaryPassword, 'short-pass-14c'), 'validation_failed', '/newPassword');
    expect(err.details.map((d) => d.detail).join(' ')).toMatch(/at least 15 characters/);
    // 15 code points, but 16 UTF-16 units: the length is counted in characters.
    const err2 = await expectError(changePassword(sessionId, temporaryPassword, '🔑bcdefghijklmn'), 'validation_failed', '/newPassword');
    expect(err2.details.map((d) => d.detail).join(' ')).toMatch(/at least 15 characters/);
  });

  it("refuses a new password containing the login ID's local part or the user's name, whatever the case, saying why", async () => {
    const err = await expectError(changePassword(sessionId, temporaryPassword, 'my-KUMO-USER-passphrase'), 'validation_failed', '/newPassword');
    expect(err.details.map((d) => d.detail).join(' ')).toMatch(/login ID/);
    const err2 = await expectError(changePassword(sessionId, temporaryPassword, 'the-yamada-family-passphrase'), 'validation_failed', '/newPassword');
    expect(err2.details.map((d) => d.detail).join(' ')).toMatch(/name/);
  });

  it('renews the session id: the old one is dead, the new one live and free to go on', async () => {
    const changed = await changePassword(sessionId, temporaryPassword, newPassword);
    expect(changed.sessionId).not.toBe(sessionId);
    expect(changed.session).toMatchObject({ userId: user.id, tenantId: tenant.id, mustChangePassword: false });
    await expectError(sessionGet(sessionId), 'unauthenticated');
    expect(await sessionGet(changed.sessionId)).toMatchObject({ userId: user.id, mustChangePassword: false });
    const [row] = await kit.sql<{ temporary: boolean; expires_at: Date | null }>('SELECT temporary, expires_at FROM authn.credentials WHERE user_id = $1', [user.id]);
    expect(row).toEqual({ temporary: false, expires_at: null });
  });

  it('lets the user sign in with the new password (method pwd), the login ID matched case-insensitively', async () => {
    const { session } = await login(user.loginId.toUpperCase(), newPassword);
    expect(session).toMatchObject({ userId: user.id, mustChangePassword: false, method: 'pwd' });
    await expectError(login(user.loginId, temporaryPassword), 'unauthenticated');
  });
});

describe('sessions', () => {
  it('are unknown as unauthenticated', async () => {
    await expectError(sessionGet('x'.repeat(43)), 'unauthenticated');
  });

  it('end when asked, and ending twice is harmless', async () => {
    const user = await createUser(kit, tenant, 'leaver');
    const { sessionId } = await login(user.loginId, (await issue(user)).temporaryPassword);
    await sessionGet(sessionId);
    await kit.bus.request('musubi.authn.session.end.v1', { sessionId }, anonymous(tenant.id));
    await expectError(sessionGet(sessionId), 'unauthenticated');
    expect(await kit.bus.request('musubi.authn.session.end.v1', { sessionId }, anonymous(tenant.id))).toEqual({});
  });

  it('leave nothing in Redis that works as a session id', async () => {
    const user = await createUser(kit, tenant, 'dumped');
    const { sessionId } = await login(user.loginId, (await issue(user)).temporaryPassword);
    const keys = await redis.keys('*');
    expect(keys.length).toBeGreaterThan(0);
    const dump: string[] = [...keys];
    for (const key of keys) {
      const type = await redis.type(key);
      if (type === 'string') dump.push((await redis.get(key)) ?? '');
      else if (type === 'set') dump.push(...(await redis.smembers(key)));
      else throw new Error(`unexpected ${type} at ${key}`);
    }
    const text = dump.join('\n');
    const ids = secrets.filter((s) => s.length >= 43);
    expect(ids.length).toBeGreaterThan(3);
    for (const id of [sessionId, ...ids]) expect(text).not.toContain(id);
    // And none of those keys, tried as a session id, opens a session.
    for (const key of keys.slice(0, 5)) await expectError(sessionGet(key.slice(0, 256)), 'unauthenticated');
    const suffixes = keys.map((k) => k.split(':').pop() ?? '').filter((s) => s.length >= 22);
    for (const s of suffixes.slice(0, 5)) await expectError(sessionGet(s), 'unauthenticated');
  });
});

describe('what authn tells the rest of the fleet', () => {
  it('publishes sign-ins, failures, password changes and issued passwords through its outbox, without secrets', async () => {
    const user = await createUser(kit, tenant, 'eventful');
    const { temporaryPassword } = await issue(user);
    secrets.push('bad-guess-for-events');
    await errorOf(login(user.loginId, 'bad-guess-for-events'));
    const { sessionId } = await login(user.loginId, temporaryPassword);
    const pw = 'an entirely new passphrase';
    secrets.push(pw);
    await changePassword(sessionId, temporaryPassword, pw);

    await outboxDrained(kit, 'authn');
    const events = (await streamMessages(kit, 'authn')).filter((m) => m.envelope.tenantId === tenant.id);
    const mine = events.filter((m) => (m.envelope.payload as { userId?: string | null }).userId === user.id);
    expect(mine.map((m) => m.subject)).toEqual([
      'musubi.authn.temporary-password.issued.v1',
      'musubi.authn.login.failed.v1',
      'musubi.authn.login.succeeded.v1',
      'musubi.authn.password.changed.v1',
    ]);
    expect(mine.map((m) => m.envelope.actor)).toEqual([
      { kind: 'operator', id: 'bootstrap' },
      { kind: 'anonymous' },
      { kind: 'user', userId: user.id, tenantId: tenant.id, roles: user.roles },
      { kind: 'user', userId: user.id, tenantId: tenant.id, roles: user.roles },
    ]);
    expect(mine[1]!.envelope.payload).toEqual({ loginId: user.loginId, userId: user.id, ...client, reason: 'wrong_password', method: 'temp_pwd' });
    expect(mine[2]!.envelope.payload).toEqual({ userId: user.id, loginId: user.loginId, method: 'temp_pwd', ...client });
    // A failure for an unknown login ID is recorded too, with no user.
    expect(events.some((m) => m.subject === 'musubi.authn.login.failed.v1' && (m.envelope.payload as { loginId: string }).loginId === `nobody@${tenant.platformDomain}`)).toBe(true);

    const everything = events.map((m) => m.raw).join('\n');
    expect(secrets.length).toBeGreaterThan(10);
    for (const s of secrets) expect(everything).not.toContain(s);
  });

  it('never writes a password or a session id to a log line', async () => {
    const text = kit.logs.text();
    expect(text).toContain('authn ready');
    for (const s of secrets) expect(text).not.toContain(s);
  });
});
