import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { hash as argon2Hash } from '@node-rs/argon2';
import type { CallContext, ClientInfo, ReplyOf, TenantView, UserView } from '@musubi/contracts';
import { DevMailSink } from '@musubi/platform/mail';
import { asService, asUser, createTenant, createUser, errorOf, expectError, operator, outboxDrained, schemaOf, startKit, streamMessages, waitFor, type Kit } from '@musubi/platform/testing';
import { directoryService } from '../../apps/directory/src/service.js';
import { authnService } from '../../apps/authn/src/service.js';

// Policies, lockout, reset by mail, sessions and API tokens of authn, with the real directory and an SMTP sink.

let kit: Kit;
let redis: Redis;
let sink: DevMailSink;
let tenant: TenantView;
let admin: UserView;
const secrets: string[] = [];
const client = { ip: '198.51.100.20', userAgent: 'jest', deviceFingerprint: 'fp-test-1' };
const anonymous = (tenantId: string): CallContext => ({ requestId: randomUUID(), tenantId, caller: { kind: 'anonymous' } });
const adminCtx = () => asUser(tenant.id, admin.id, ['tenant_admin']);

async function withPassword(name: string, fields: Parameters<typeof createUser>[3] = {}, t: TenantView = tenant): Promise<{ user: UserView; password: string; sessionId: string }> {
  const user = await createUser(kit, t, name, fields);
  const { temporaryPassword } = await kit.bus.request('musubi.authn.temporary-password.issue.v1', { tenantId: t.id, userId: user.id }, operator());
  const first = await login(user.loginId, temporaryPassword, t.id);
  const password = `river-stone-cloud-${randomUUID().slice(0, 8)}`;
  secrets.push(temporaryPassword, password);
  const changed = await kit.bus.request('musubi.authn.password.change.v1', { sessionId: first.sessionId, currentPassword: temporaryPassword, newPassword: password, client }, anonymous(t.id));
  return { user, password, sessionId: changed.sessionId };
}

async function login(loginId: string, password: string, tenantId = tenant.id, c: ClientInfo = client): Promise<ReplyOf<'musubi.authn.login.password.v1'>> {
  const reply = await kit.bus.request('musubi.authn.login.password.v1', { tenantId, loginId, password, client: c }, anonymous(tenantId));
  secrets.push(reply.sessionId);
  return reply;
}

const setPolicy = (changes: Record<string, unknown>, t = tenant) => kit.bus.request('musubi.authn.policy.update.v1', { tenantId: t.id, changes }, operator());

beforeAll(async () => {
  sink = new DevMailSink();
  const addr = await sink.start();
  kit = await startKit({ schemas: [schemaOf(directoryService), { schema: 'authn', migrations: authnService.database?.migrations ?? [] }], redis: true });
  await kit.start(directoryService);
  await kit.start(authnService, { SMTP_URL: addr.smtpUrl, PUBLIC_URL: 'https://id.example.test', LOGIN_IP_FAILURES: '25', NOTICE_INTERVAL_SECONDS: '1' });
  redis = new Redis(kit.redis!.url, { lazyConnect: true });
  await redis.connect();
  tenant = await createTenant(kit);
  admin = await createUser(kit, tenant, 'the-admin', { roles: ['tenant_admin'] });
}, 60_000);

afterAll(async () => {
  await redis?.quit();
  await kit?.stop();
  await sink?.stop();
}, 30_000);

describe('one-time passwords issued by people of the tenant', () => {
  it('lets helpdesk and administrators issue them, never for a role the issuer lacks, never across tenants', async () => {
    const helpdesk = await createUser(kit, tenant, 'the-helpdesk', { roles: ['helpdesk'] });
    const auditor = await createUser(kit, tenant, 'the-auditor', { roles: ['auditor'] });
    const plain = await createUser(kit, tenant, 'otp-plain');
    const issue = (userId: string, ctx: CallContext, tenantId = tenant.id) => kit.bus.request('musubi.authn.temporary-password.issue.v1', { tenantId, userId }, ctx);
    const credentialOf = async (userId: string) => (await kit.sql<{ password_hash: string }>('SELECT password_hash FROM authn.credentials WHERE user_id = $1', [userId]))[0]?.password_hash ?? null;

    const byHelpdesk = await issue(plain.id, asUser(tenant.id, helpdesk.id, ['helpdesk']));
    expect((await login(plain.loginId, byHelpdesk.temporaryPassword)).session).toMatchObject({ userId: plain.id, method: 'temp_pwd', mustChangePassword: true });
    expect((await issue(helpdesk.id, asUser(tenant.id, admin.id, ['tenant_admin']))).temporaryPassword).toHaveLength(byHelpdesk.temporaryPassword.length);

    // Escalation: helpdesk would sign in as the administrator or the auditor with a password it chose to obtain.
    const adminBefore = await credentialOf(admin.id);
    expect(await errorOf(issue(admin.id, asUser(tenant.id, helpdesk.id, ['helpdesk'])))).toMatchObject({ code: 'forbidden' });
    expect(await errorOf(issue(auditor.id, asUser(tenant.id, helpdesk.id, ['helpdesk'])))).toMatchObject({ code: 'forbidden' });
    expect(await credentialOf(admin.id)).toBe(adminBefore);
    // Roles without users:credentials, plain users, and another tenant's staff are refused.
    expect(await errorOf(issue(plain.id, asUser(tenant.id, auditor.id, ['auditor'])))).toMatchObject({ code: 'forbidden' });
    expect(await errorOf(issue(plain.id, asUser(tenant.id, plain.id, [])))).toMatchObject({ code: 'forbidden' });
    const other = await createTenant(kit);
    expect(await errorOf(issue(plain.id, asUser(other.id, randomUUID(), ['tenant_admin']), tenant.id))).toMatchObject({ code: 'not_found' });
  });
});

describe('the password policy of a tenant', () => {
  it('has NIST defaults, keeps its ranges and is changed only by an administrator', async () => {
    const t = await createTenant(kit);
    const p = await kit.bus.request('musubi.authn.policy.get.v1', { tenantId: t.id }, operator());
    expect(p).toMatchObject({ passwordMinLength: null, secondFactorRequired: false, passwordComplexity: false, passwordHistory: null, passwordExpiryDays: null, lockoutThreshold: 10, adminAllowedCidrs: [] });
    expect((await kit.bus.request('musubi.authn.policy.branding.v1', { tenantId: t.id }, anonymous(t.id))).passwordMinLength).toBe(15);
    await setPolicy({ secondFactorRequired: true }, t);
    expect((await kit.bus.request('musubi.authn.policy.branding.v1', { tenantId: t.id }, anonymous(t.id))).passwordMinLength).toBe(8);
    for (const bad of [{ passwordMinLength: 5 }, { passwordMinLength: 25 }, { passwordHistory: 25 }, { passwordExpiryDays: 1000 }, { lockoutThreshold: 0 }, { lockoutMinutes: 61 }, { temporaryPasswordHours: 2161 }, { logoutUrl: 'http://plain.example' }]) {
      await expectError(setPolicy(bad, t), 'validation_failed');
    }
    await expectError(setPolicy({ adminAllowedCidrs: ['10.0.0.0/33'] }, t), 'validation_failed', '/changes/adminAllowedCidrs/0');
    const plain = await createUser(kit, t, 'plain');
    await expectError(kit.bus.request('musubi.authn.policy.update.v1', { tenantId: t.id, changes: { lockoutThreshold: 3 } }, asUser(t.id, plain.id, [])), 'forbidden');
    await expectError(kit.bus.request('musubi.authn.policy.update.v1', { tenantId: t.id, changes: { lockoutThreshold: 3 } }, adminCtx()), 'not_found');
  });

  it('refuses common passwords, the user\'s names and reused ones, saying why; accepts 64+ characters whole', async () => {
    await setPolicy({ passwordMinLength: 8, passwordHistory: 3 });
    const { user, password, sessionId } = await withPassword('hist', { familyName: 'Kobayashi' });
    const change = (sid: string, cur: string, next: string) => kit.bus.request('musubi.authn.password.change.v1', { sessionId: sid, currentPassword: cur, newPassword: next, client }, anonymous(tenant.id));
    const common = await expectError(change(sessionId, password, 'password123'), 'validation_failed', '/newPassword');
    expect(common.details[0]!.detail).toMatch(/too common/);
    const named = await expectError(change(sessionId, password, 'kobayashi-2026!'), 'validation_failed', '/newPassword');
    expect(named.details[0]!.detail).toMatch(/name/);
    const same = await expectError(change(sessionId, password, password), 'validation_failed', '/newPassword');
    expect(same.details[0]!.detail).toMatch(/must differ from your last 4 passwords/);
    const long = `${'long passphrase with spaces and meaning '.repeat(3)}end`;
    expect(long.length).toBeGreaterThan(64);
    secrets.push(long);
    const r1 = await change(sessionId, password, long);
    // Never truncated: the password less its last character does not sign in.
    await expectError(login(user.loginId, long.slice(0, -1)), 'unauthenticated');
    expect((await login(user.loginId, long)).session.userId).toBe(user.id);
    // The old password is in the history now.
    const back = await expectError(change(r1.sessionId, long, password), 'validation_failed', '/newPassword');
    expect(back.details[0]!.detail).toMatch(/last 4/);
    await setPolicy({ passwordMinLength: null, passwordHistory: null });
  });

  it('upgrades a hash made with older argon2 parameters at the next sign-in', async () => {
    const { user, password } = await withPassword('rehash');
    const weak = await argon2Hash(password, { memoryCost: 4096, timeCost: 1, parallelism: 1 });
    await kit.sql('UPDATE authn.credentials SET password_hash = $2 WHERE user_id = $1', [user.id, weak]);
    await login(user.loginId, password);
    const [row] = await kit.sql<{ password_hash: string }>('SELECT password_hash FROM authn.credentials WHERE user_id = $1', [user.id]);
    expect(row!.password_hash).not.toBe(weak);
    expect(row!.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect((await login(user.loginId, password)).session.userId).toBe(user.id);
  });

  it('makes an expired password sign in only to change it, and warns 14 days ahead', async () => {
    const t = await createTenant(kit);
    await setPolicy({ passwordExpiryDays: 90 }, t);
    const { user, password } = await withPassword('expiring', {}, t);
    await kit.sql("UPDATE authn.credentials SET changed_at = now() - interval '80 days' WHERE user_id = $1", [user.id]);
    const soon = await login(user.loginId, password, t.id);
    expect(soon.session.mustChangePassword).toBe(false);
    expect(Date.parse(soon.session.passwordExpiresSoon!) - Date.now()).toBeGreaterThan(9 * 86_400_000);
    await kit.sql("UPDATE authn.credentials SET changed_at = now() - interval '91 days' WHERE user_id = $1", [user.id]);
    const expired = await login(user.loginId, password, t.id);
    expect(expired.session).toMatchObject({ mustChangePassword: true, passwordChangeReason: 'expired', method: 'pwd' });
  });
});

describe('lockout', () => {
  it('locks after the threshold with the same answer, survives a Redis flush, and an administrator unlocks', async () => {
    await setPolicy({ lockoutThreshold: 3, lockoutMinutes: 5 });
    const { user, password } = await withPassword('locked', { email: `locked-mail@${tenant.platformDomain}` });
    secrets.push('wrong-guess-000');
    const wrong = await errorOf(login(user.loginId, 'wrong-guess-000'));
    await errorOf(login(user.loginId, 'wrong-guess-000'));
    await errorOf(login(user.loginId, 'wrong-guess-000'));
    const whileLocked = await errorOf(login(user.loginId, password));
    expect({ code: whileLocked.code, message: whileLocked.message }).toEqual({ code: wrong.code, message: wrong.message });
    expect(await kit.bus.request('musubi.authn.lockout.get.v1', { tenantId: tenant.id, userId: user.id }, adminCtx())).toMatchObject({ locked: true, consecutiveFailures: 3 });
    // The user is told by mail.
    const mail = await sink.waitForMessage((m) => m.recipients.includes(`locked-mail@${tenant.platformDomain}`) && m.subject.includes('ロック'));
    expect(mail.subject).toContain('アカウントがロックされました');
    expect(mail.text).toContain('https://id.example.test/t/');

    await redis.flushall();
    await expectError(login(user.loginId, password), 'unauthenticated');

    const helpdesk = await createUser(kit, tenant, 'helper', { roles: ['helpdesk'] });
    const auditor = await createUser(kit, tenant, 'auditor', { roles: ['auditor'] });
    await expectError(kit.bus.request('musubi.authn.lockout.clear.v1', { tenantId: tenant.id, userId: user.id }, asUser(tenant.id, auditor.id, ['auditor'])), 'forbidden');
    const other = await createTenant(kit);
    await expectError(kit.bus.request('musubi.authn.lockout.clear.v1', { tenantId: other.id, userId: user.id }, operator()), 'not_found');
    expect(await kit.bus.request('musubi.authn.lockout.clear.v1', { tenantId: tenant.id, userId: user.id }, asUser(tenant.id, helpdesk.id, ['helpdesk']))).toMatchObject({ locked: false });
    expect((await login(user.loginId, password)).session.userId).toBe(user.id);
    await setPolicy({ lockoutThreshold: 10, lockoutMinutes: 15 });
  });

  it('unlocks by itself once the lock time has passed', async () => {
    await setPolicy({ lockoutThreshold: 1, lockoutMinutes: 1 });
    const { user, password } = await withPassword('autounlock');
    await errorOf(login(user.loginId, 'wrong-guess-000'));
    await expectError(login(user.loginId, password), 'unauthenticated');
    await kit.sql("UPDATE authn.lockouts SET locked_until = now() - interval '1 second' WHERE user_id = $1", [user.id]);
    expect((await login(user.loginId, password)).session.userId).toBe(user.id);
    expect(await kit.sql('SELECT 1 FROM authn.lockouts WHERE user_id = $1', [user.id])).toEqual([]);
    await setPolicy({ lockoutThreshold: 10, lockoutMinutes: 15 });
  });

  it('answers unknown, wrong, disabled and locked alike, and throttles one IP spraying many accounts', async () => {
    const sprayer = { ip: '192.0.2.99', userAgent: 'spray' };
    const users = await Promise.all([1, 2, 3].map((i) => createUser(kit, tenant, `spray-${i}`)));
    const seen = new Set<string>();
    for (let i = 0; i < 25; i++) {
      const e = await errorOf(login(users[i % 3]!.loginId, `guess-${i}-xxxxxxxx`, tenant.id, sprayer));
      seen.add(`${e.code}:${e.message}`);
    }
    expect([...seen]).toEqual(['unauthenticated:The login ID or password is incorrect.']);
    const throttled = await errorOf(login(users[0]!.loginId, 'guess-x-xxxxxxxx', tenant.id, sprayer));
    expect(throttled.code).toBe('rate_limited');
    // Another address is not affected.
    await expectError(login(users[0]!.loginId, 'guess-y-xxxxxxxx', tenant.id, { ...sprayer, ip: '192.0.2.100' }), 'unauthenticated');
  });
});

describe('password reset by mail', () => {
  const ask = (loginId: string, ip = '203.0.113.50') => kit.bus.request('musubi.authn.password-reset.request.v1', { tenantId: tenant.id, loginId, client: { ...client, ip }, lang: 'en' }, anonymous(tenant.id));

  it('answers the same whether or not the account exists, and mails a single-use link that ends sessions', async () => {
    const { user, sessionId } = await withPassword('forgetful', { locale: 'en-US' });
    expect(await ask(`nobody@${tenant.platformDomain}`)).toEqual({});
    expect(await ask(user.loginId)).toEqual({});
    const mail = await sink.waitForMessage((m) => m.recipients.includes(user.loginId.toLowerCase()) && m.subject.includes('Reset your password'));
    const link = /https:\/\/id\.example\.test\/t\/[a-z0-9-]+\/password-reset\/([A-Za-z0-9_-]{43})/.exec(mail.text ?? '');
    expect(link).not.toBeNull();
    const token = link![1]!;
    secrets.push(token);
    expect(await kit.bus.request('musubi.authn.password-reset.check.v1', { tenantId: tenant.id, token }, anonymous(tenant.id))).toMatchObject({ valid: true });
    // Another tenant cannot use it.
    const other = await createTenant(kit);
    expect((await kit.bus.request('musubi.authn.password-reset.check.v1', { tenantId: other.id, token }, anonymous(other.id))).valid).toBe(false);
    await expectError(kit.bus.request('musubi.authn.password-reset.complete.v1', { tenantId: tenant.id, token, newPassword: 'qwerty123', endSessions: true, client }, anonymous(tenant.id)), 'validation_failed', '/newPassword');
    const fresh = 'a brand new reset passphrase';
    secrets.push(fresh);
    await kit.bus.request('musubi.authn.password-reset.complete.v1', { tenantId: tenant.id, token, newPassword: fresh, endSessions: true, client }, anonymous(tenant.id));
    await expectError(kit.bus.request('musubi.authn.session.get.v1', { sessionId }, anonymous(tenant.id)), 'unauthenticated');
    await expectError(kit.bus.request('musubi.authn.password-reset.complete.v1', { tenantId: tenant.id, token, newPassword: `${fresh}!`, endSessions: false, client }, anonymous(tenant.id)), 'not_found');
    expect((await login(user.loginId, fresh)).session.userId).toBe(user.id);
    await sink.waitForMessage((m) => m.recipients.includes(user.loginId.toLowerCase()) && m.subject.includes('password was changed'));
    expect(await kit.sql("SELECT 1 FROM authn.password_resets WHERE token_hash = decode($1, 'escape')", [token])).toEqual([]);
  });

  it('sends at most the tenant limit per user, then pauses; and throttles one IP', async () => {
    await setPolicy({ resetMailsPerHour: 2, resetLockMinutes: 30 });
    const user = await createUser(kit, tenant, 'many-resets');
    await kit.bus.request('musubi.authn.temporary-password.issue.v1', { tenantId: tenant.id, userId: user.id }, operator());
    for (let i = 0; i < 4; i++) await ask(user.loginId, `203.0.113.${60 + i}`);
    // The requests are handled after they are answered: wait for all four.
    const requested = async () => {
      await outboxDrained(kit, 'authn');
      const events = (await streamMessages(kit, 'authn')).filter((m) => m.subject === 'musubi.authn.password-reset.requested.v1' && (m.envelope.payload as { userId: string }).userId === user.id);
      return events.length === 4 ? events : null;
    };
    const events = await waitFor('four reset requests', requested);
    expect(events.map((e) => (e.envelope.payload as { mailed: boolean }).mailed).sort()).toEqual([false, false, true, true]);
    await new Promise((r) => setTimeout(r, 500));
    expect(sink.messages({ to: user.loginId }).filter((m) => m.subject.includes('パスワード再設定'))).toHaveLength(2);
    await setPolicy({ resetMailsPerHour: 3, resetLockMinutes: 60 });
  });

  it('lets a tenant edit its templates', async () => {
    const put = await kit.bus.request('musubi.authn.mail-template.put.v1', { tenantId: tenant.id, kind: 'reset_requested', lang: 'ja', subject: '再設定 {{tenantName}}', body: 'リンク: {{resetLink}}' }, adminCtx());
    expect(put).toMatchObject({ customized: true, placeholders: expect.arrayContaining(['resetLink']) });
    const user = await createUser(kit, tenant, 'templated');
    await kit.bus.request('musubi.authn.temporary-password.issue.v1', { tenantId: tenant.id, userId: user.id }, operator());
    await ask(user.loginId, '203.0.113.90');
    const mail = await sink.waitForMessage((m) => m.recipients.includes(user.loginId.toLowerCase()) && m.subject.startsWith('再設定'));
    expect(mail.subject).toBe(`再設定 ${tenant.displayName}`);
    expect(mail.text).toMatch(/^リンク: https:\/\/id\.example\.test\/t\//);
    const list = await kit.bus.request('musubi.authn.mail-template.list.v1', { tenantId: tenant.id }, adminCtx());
    expect(list.items).toHaveLength(14);
    await kit.bus.request('musubi.authn.mail-template.reset.v1', { tenantId: tenant.id, kind: 'reset_requested', lang: 'ja' }, adminCtx());
  });
});

describe('expiry notices by mail', () => {
  it('tell a user 14 days ahead that their password expires, once', async () => {
    const t = await createTenant(kit);
    await setPolicy({ passwordExpiryDays: 30 }, t);
    const { user } = await withPassword('expires-soon', { locale: 'en-US' }, t);
    await kit.sql("UPDATE authn.credentials SET changed_at = now() - interval '20 days' WHERE user_id = $1", [user.id]);
    const mail = await sink.waitForMessage((m) => m.recipients.includes(user.loginId.toLowerCase()) && m.subject.includes('expires soon'));
    expect(mail.text).toContain(`https://id.example.test/t/${t.slug}/login`);
    await new Promise((r) => setTimeout(r, 2500));
    expect(sink.messages({ to: user.loginId }).filter((m) => m.subject.includes('expires soon'))).toHaveLength(1);
  });

  it('tell the maker of an API token before it expires, but not for tokens living under a day', async () => {
    const maker = await createUser(kit, tenant, 'token-maker', { roles: ['tenant_admin'], locale: 'en-US' });
    const ctx = asUser(tenant.id, maker.id, ['tenant_admin']);
    const long = await kit.bus.request('musubi.authn.api-token.create.v1', { tenantId: tenant.id, name: 'nightly sync', scopes: ['users:read'], expiresInDays: 30 }, ctx);
    const short = await kit.bus.request('musubi.authn.api-token.create.v1', { tenantId: tenant.id, name: 'one-off', scopes: ['users:read'], expiresInDays: 1 }, ctx);
    secrets.push(long.token, short.token);
    await kit.sql("UPDATE authn.api_tokens SET created_at = now() - interval '27 days', expires_at = now() + interval '3 days' WHERE id = $1", [long.apiToken.id]);
    await kit.sql("UPDATE authn.api_tokens SET created_at = now() - interval '1 hour', expires_at = now() + interval '20 hours' WHERE id = $1", [short.apiToken.id]);
    const mail = await sink.waitForMessage((m) => m.recipients.includes(maker.loginId.toLowerCase()) && m.subject.includes('API token'));
    expect(mail.text).toContain('"nightly sync"');
    await new Promise((r) => setTimeout(r, 2500));
    const all = sink.messages({ to: maker.loginId }).filter((m) => m.subject.includes('API token'));
    expect(all).toHaveLength(1);
  });
});

describe('sessions of a user', () => {
  it('are listed and ended by their user, and all ended by an administrator', async () => {
    const { user, password, sessionId } = await withPassword('multi');
    const second = await login(user.loginId, password);
    const list = await kit.bus.request('musubi.authn.session.list.v1', { sessionId: second.sessionId }, anonymous(tenant.id));
    expect(list.items).toHaveLength(2);
    expect(list.items.filter((s) => s.current)).toHaveLength(1);
    const other = list.items.find((s) => !s.current)!;
    expect(JSON.stringify(list)).not.toContain(sessionId);
    await kit.bus.request('musubi.authn.session.revoke.v1', { sessionId: second.sessionId, handle: other.handle }, anonymous(tenant.id));
    await expectError(kit.bus.request('musubi.authn.session.get.v1', { sessionId }, anonymous(tenant.id)), 'unauthenticated');
    // Someone else's session handle is not found.
    const stranger = await withPassword('stranger');
    await expectError(kit.bus.request('musubi.authn.session.revoke.v1', { sessionId: stranger.sessionId, handle: list.items.find((s) => s.current)!.handle }, anonymous(tenant.id)), 'not_found');
    expect(await kit.bus.request('musubi.authn.session.revoke-all.v1', { tenantId: tenant.id, userId: user.id }, adminCtx())).toEqual({ revoked: 1 });
    await expectError(kit.bus.request('musubi.authn.session.get.v1', { sessionId: second.sessionId }, anonymous(tenant.id)), 'unauthenticated');
  });

  it('end at once when the directory disables the user', async () => {
    const { user, sessionId } = await withPassword('to-disable');
    await kit.bus.request('musubi.directory.user.disable.v1', { tenantId: tenant.id, userId: user.id }, operator());
    const deadline = Date.now() + 10_000;
    let ended = false;
    while (!ended && Date.now() < deadline) {
      ended = (await errorOf(kit.bus.request('musubi.authn.session.get.v1', { sessionId }, anonymous(tenant.id))).catch(() => null))?.code === 'unauthenticated';
      if (!ended) await new Promise((r) => setTimeout(r, 100));
    }
    expect(ended).toBe(true);
  });
});

describe('API tokens', () => {
  it('are shown once, stored hashed, limited to the maker\'s roles, verified for the gateway and revocable', async () => {
    const helpdesk = await createUser(kit, tenant, 'token-helpdesk', { roles: ['helpdesk'] });
    const made = await kit.bus.request('musubi.authn.api-token.create.v1', { tenantId: tenant.id, name: 'sync', scopes: ['users:read'], expiresInDays: 30 }, asUser(tenant.id, helpdesk.id, ['helpdesk']));
    secrets.push(made.token);
    expect(made.token).toMatch(/^msb_[A-Za-z0-9_-]{43}$/);
    const rows = await kit.sql<{ token_hash: Buffer }>('SELECT token_hash FROM authn.api_tokens WHERE id = $1', [made.apiToken.id]);
    expect(rows[0]!.token_hash.toString('utf8')).not.toContain(made.token);
    await expectError(kit.bus.request('musubi.authn.api-token.create.v1', { tenantId: tenant.id, name: 'too much', scopes: ['groups:write'], expiresInDays: 30 }, asUser(tenant.id, helpdesk.id, ['helpdesk'])), 'forbidden');
    const principal = await kit.bus.request('musubi.authn.api-token.verify.v1', { token: made.token }, asService('gateway'));
    expect(principal).toMatchObject({ tenantId: tenant.id, userId: helpdesk.id, roles: ['helpdesk'], scopes: ['users:read'] });
    await expectError(kit.bus.request('musubi.authn.api-token.verify.v1', { token: made.token }, asUser(tenant.id, helpdesk.id, ['helpdesk'])), 'forbidden');
    const list = await kit.bus.request('musubi.authn.api-token.list.v1', { tenantId: tenant.id }, asUser(tenant.id, helpdesk.id, ['helpdesk']));
    expect(list.items.map((t) => t.id)).toContain(made.apiToken.id);
    expect(JSON.stringify(list)).not.toContain(made.token);
    await kit.bus.request('musubi.authn.api-token.revoke.v1', { tenantId: tenant.id, tokenId: made.apiToken.id }, adminCtx());
    await expectError(kit.bus.request('musubi.authn.api-token.verify.v1', { token: made.token }, asService('gateway')), 'unauthenticated');
  });
});

describe('what authn left behind', () => {
  it('emitted lockout, reset and sign-in events with IP, user agent and device, and logged no secret', async () => {
    await outboxDrained(kit, 'authn');
    const events = await streamMessages(kit, 'authn');
    const subjects = new Set(events.map((e) => e.subject));
    for (const s of ['musubi.authn.lockout.locked.v1', 'musubi.authn.lockout.cleared.v1', 'musubi.authn.password-reset.requested.v1', 'musubi.authn.password-reset.completed.v1', 'musubi.authn.session.revoked.v1', 'musubi.authn.api-token.created.v1', 'musubi.authn.policy.updated.v1']) {
      expect(subjects).toContain(s);
    }
    const ok = events.find((e) => e.subject === 'musubi.authn.login.succeeded.v1' && (e.envelope.payload as { ip: string }).ip === client.ip)!;
    expect(ok.envelope.payload).toMatchObject({ method: expect.stringMatching(/^(pwd|temp_pwd)$/), ip: client.ip, userAgent: 'jest', deviceFingerprint: 'fp-test-1' });
    const all = events.map((e) => e.raw).join('\n') + kit.logs.text();
    for (const s of secrets) expect(all).not.toContain(s);
  });
});
