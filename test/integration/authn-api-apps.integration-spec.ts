import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AppTokenGrantReply, CallContext, ReplyOf, TenantView, UserView } from '@musubi/contracts';
import { DevMailSink } from '@musubi/platform/mail';
import { asService, asUser, createTenant, createUser, errorOf, expectError, operator, outboxDrained, schemaOf, startKit, streamMessages, waitFor, type Kit } from '@musubi/platform/testing';
import { directoryService } from '../../apps/directory/src/service.js';
import { authnService } from '../../apps/authn/src/service.js';

// Registered API applications of authn, with the real directory: the 25-refresh-token limit,
// rotation and reuse detection (RFC 9700), client authentication, tenant isolation, expiry
// and revocation of access tokens; and the mails that follow a one-time password.

let kit: Kit;
let sink: DevMailSink;
let tenant: TenantView;
let other: TenantView;
let admin: UserView;
let otherAdmin: UserView;
const secrets: string[] = [];
const adminCtx = (): CallContext => asUser(tenant.id, admin.id, ['tenant_admin']);
const gateway = () => asService('gateway');

type App = ReplyOf<'musubi.authn.api-app.create.v1'>;
type Tokens = Extract<AppTokenGrantReply, { kind: 'tokens' }>;

async function register(name: string, scopes: App['app']['scopes'], t = tenant, by = admin): Promise<App> {
  const made = await kit.bus.request('musubi.authn.api-app.create.v1', { tenantId: t.id, name, scopes }, asUser(t.id, by.id, ['tenant_admin']));
  secrets.push(made.clientSecret);
  return made;
}

async function issue(app: App, name = 'server', ctx = adminCtx()): Promise<ReplyOf<'musubi.authn.refresh-token.issue.v1'>> {
  const issued = await kit.bus.request('musubi.authn.refresh-token.issue.v1', { tenantId: app.app.tenantId, appId: app.app.id, name, expiresInDays: 30 }, ctx);
  secrets.push(issued.refreshToken);
  return issued;
}

function grant(app: App, refreshToken: string, extra: Record<string, string> = {}, tenantId = app.app.tenantId): Promise<AppTokenGrantReply> {
  return kit.bus.request(
    'musubi.authn.app-token.grant.v1',
    { tenantId, params: { grant_type: 'refresh_token', refresh_token: refreshToken, ...extra }, basic: { clientId: app.app.clientId, clientSecret: app.clientSecret } },
    gateway(),
  );
}

function tokens(reply: AppTokenGrantReply): Tokens {
  if (reply.kind !== 'tokens') throw new Error(`expected tokens, got ${reply.error}: ${reply.errorDescription}`);
  secrets.push(reply.accessToken, reply.refreshToken);
  return reply;
}

const verify = (token: string) => kit.bus.request('musubi.authn.app-token.verify.v1', { token }, gateway());

beforeAll(async () => {
  sink = new DevMailSink();
  const addr = await sink.start();
  kit = await startKit({ schemas: [schemaOf(directoryService), { schema: 'authn', migrations: authnService.database?.migrations ?? [] }], redis: true });
  await kit.start(directoryService);
  await kit.start(authnService, { SMTP_URL: addr.smtpUrl, PUBLIC_URL: 'https://id.example.test' });
  tenant = await createTenant(kit);
  other = await createTenant(kit);
  admin = await createUser(kit, tenant, 'apps-admin', { roles: ['tenant_admin'] });
  otherAdmin = await createUser(kit, other, 'apps-admin', { roles: ['tenant_admin'] });
}, 60_000);

afterAll(async () => {
  await kit?.stop();
  await sink?.stop();
}, 30_000);

describe('registering an API application', () => {
  it('shows the client secret once, keeps only its digest, and lists the application', async () => {
    const made = await register('HR sync', ['users:write', 'users:read']);
    expect(made.clientSecret).toMatch(/^mss_[A-Za-z0-9_-]{43}$/);
    expect(made.app).toMatchObject({ tenantId: tenant.id, name: 'HR sync', scopes: ['users:read', 'users:write'], createdBy: admin.id, liveRefreshTokens: 0 });
    const rows = await kit.sql<{ secret_hash: Buffer }>('SELECT secret_hash FROM authn.api_apps WHERE id = $1', [made.app.id]);
    expect(rows[0]!.secret_hash.toString('latin1')).not.toContain(made.clientSecret);
    const list = await kit.bus.request('musubi.authn.api-app.list.v1', { tenantId: tenant.id }, adminCtx());
    expect(list.items.map((a) => a.id)).toContain(made.app.id);
    expect(JSON.stringify(list)).not.toContain(made.clientSecret);
  });

  it("refuses scopes beyond the registrar's roles, roles without apps:write, the operator, and another tenant", async () => {
    const helpdesk = await createUser(kit, tenant, 'apps-helpdesk', { roles: ['helpdesk'] });
    await expectError(kit.bus.request('musubi.authn.api-app.create.v1', { tenantId: tenant.id, name: 'x', scopes: ['users:read'] }, asUser(tenant.id, helpdesk.id, ['helpdesk'])), 'forbidden');
    await expectError(kit.bus.request('musubi.authn.api-app.create.v1', { tenantId: tenant.id, name: 'x', scopes: ['users:read'] }, operator()), 'forbidden');
    await expectError(kit.bus.request('musubi.authn.api-app.create.v1', { tenantId: other.id, name: 'x', scopes: ['users:read'] }, adminCtx()), 'not_found');
    await expectError(kit.bus.request('musubi.authn.api-app.create.v1', { tenantId: tenant.id, name: '', scopes: ['users:read'] }, adminCtx()), 'validation_failed', '/name');
    await expectError(kit.bus.request('musubi.authn.api-app.list.v1', { tenantId: other.id }, adminCtx()), 'not_found');
  });
});

describe('refresh tokens of an application', () => {
  it('are at most 25 live: the 26th is refused with limit_exceeded and writes nothing; rotation does not count; revoking frees a place', async () => {
    const app = await register('limited', ['users:read']);
    const issued: Array<ReplyOf<'musubi.authn.refresh-token.issue.v1'>> = [];
    for (let i = 0; i < 25; i++) issued.push(await issue(app, `server ${i}`));
    const counts = async () =>
      (
        await kit.sql<{ tokens: number; secrets: number; issued: number }>(
          `SELECT (SELECT count(*) FROM authn.app_refresh_tokens WHERE app_id = $1)::int AS tokens,
                  (SELECT count(*) FROM authn.app_refresh_secrets s JOIN authn.app_refresh_tokens t ON t.id = s.token_id WHERE t.app_id = $1)::int AS secrets,
                  (SELECT count(*) FROM authn.outbox WHERE subject = 'musubi.authn.refresh-token.issued.v1')::int AS issued`,
          [app.app.id],
        )
      )[0]!;
    await outboxDrained(kit, 'authn');
    const err = await expectError(issue(app, 'one too many'), 'limit_exceeded', '/appId');
    expect(err.message).toContain('25 live refresh tokens');
    // Nothing was written: no token, no secret, no event.
    expect(await counts()).toEqual({ tokens: 25, secrets: 25, issued: 0 });

    // Rotating keeps the family: still 25, still full.
    const rotated = tokens(await grant(app, issued[0]!.refreshToken));
    tokens(await grant(app, rotated.refreshToken));
    const list = await kit.bus.request('musubi.authn.refresh-token.list.v1', { tenantId: tenant.id, appId: app.app.id }, adminCtx());
    expect(list.items).toHaveLength(25);
    expect(list.items.find((t) => t.id === issued[0]!.token.id)).toMatchObject({ rotations: 2, revokedAt: null });
    expect(JSON.stringify(list)).not.toMatch(/msr_/);
    await expectError(issue(app, 'still too many'), 'limit_exceeded');

    // An expired one is not live either, and a revoked one frees its place.
    await kit.bus.request('musubi.authn.refresh-token.revoke.v1', { tenantId: tenant.id, appId: app.app.id, tokenId: issued[1]!.token.id }, adminCtx());
    await issue(app, 'replacement');
    await expectError(issue(app, 'again too many'), 'limit_exceeded');
    await kit.sql("UPDATE authn.app_refresh_tokens SET expires_at = now() - interval '1 second' WHERE id = $1", [issued[2]!.token.id]);
    await issue(app, 'after expiry');
    expect((await kit.bus.request('musubi.authn.api-app.list.v1', { tenantId: tenant.id }, adminCtx())).items.find((a) => a.id === app.app.id)?.liveRefreshTokens).toBe(25);
  });

  it('holds under concurrent issuing: never more than 25 live', async () => {
    const app = await register('raced', ['users:read']);
    for (let i = 0; i < 20; i++) await issue(app, `s${i}`);
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => issue(app, `race ${i}`)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(5);
    const [row] = await kit.sql<{ n: number }>('SELECT count(*)::int AS n FROM authn.app_refresh_tokens WHERE app_id = $1 AND revoked_at IS NULL', [app.app.id]);
    expect(row!.n).toBe(25);
  });

  it('rotate at every grant; a rotated one presented again revokes the whole family and its access tokens', async () => {
    const app = await register('rotating', ['users:read', 'groups:read']);
    const first = await issue(app);
    expect(first.refreshToken).toMatch(/^msr_[A-Za-z0-9_-]{43}$/);
    const a = tokens(await grant(app, first.refreshToken));
    expect(a).toMatchObject({ tokenType: 'Bearer', expiresIn: 600, scope: 'users:read groups:read' });
    expect(a.accessToken).toMatch(/^msa_[A-Za-z0-9_-]{43}$/);
    expect(a.refreshToken).not.toBe(first.refreshToken);
    const principal = await verify(a.accessToken);
    expect(principal).toMatchObject({ tenantId: tenant.id, applicationId: app.app.id, userId: admin.id, roles: ['tenant_admin'], scopes: ['users:read', 'groups:read'], tokenId: first.token.id });

    const b = tokens(await grant(app, a.refreshToken));
    expect((await verify(b.accessToken)).tenantId).toBe(tenant.id);
    // The first refresh token again: reuse. The family (and every access token of it) ends.
    const reuse = await grant(app, first.refreshToken);
    expect(reuse).toMatchObject({ kind: 'oauth_error', error: 'invalid_grant' });
    expect(await grant(app, b.refreshToken)).toMatchObject({ kind: 'oauth_error', error: 'invalid_grant' });
    await expectError(verify(a.accessToken), 'unauthenticated');
    await expectError(verify(b.accessToken), 'unauthenticated');
    const listed = await kit.bus.request('musubi.authn.refresh-token.list.v1', { tenantId: tenant.id, appId: app.app.id }, adminCtx());
    expect(listed.items[0]).toMatchObject({ id: first.token.id, revokedReason: 'reuse', rotations: 2 });
    await outboxDrained(kit, 'authn');
    const events = (await streamMessages(kit, 'authn')).filter((e) => (e.envelope.payload as { applicationId?: string }).applicationId === app.app.id);
    expect(events.map((e) => e.subject)).toEqual(['musubi.authn.refresh-token.issued.v1', 'musubi.authn.refresh-token.reused.v1', 'musubi.authn.refresh-token.revoked.v1']);
  });

  it('can be narrowed to fewer scopes at the grant, never widened', async () => {
    const app = await register('narrowing', ['users:read', 'groups:read']);
    const rt = await issue(app);
    const narrow = tokens(await grant(app, rt.refreshToken, { scope: 'groups:read' }));
    expect(narrow.scope).toBe('groups:read');
    expect((await verify(narrow.accessToken)).scopes).toEqual(['groups:read']);
    expect(await grant(app, narrow.refreshToken, { scope: 'users:write' })).toMatchObject({ kind: 'oauth_error', error: 'invalid_scope' });
  });
});

describe('what an application keeps', () => {
  it('forgets secrets retired over 30 days ago and refresh tokens dead over 90 days, never a live one', async () => {
    const app = await register('long-lived', ['users:read']);
    const dead = await issue(app, 'long revoked');
    await kit.bus.request('musubi.authn.refresh-token.revoke.v1', { tenantId: tenant.id, appId: app.app.id, tokenId: dead.token.id }, adminCtx());
    const recent = await issue(app, 'recently revoked');
    await kit.bus.request('musubi.authn.refresh-token.revoke.v1', { tenantId: tenant.id, appId: app.app.id, tokenId: recent.token.id }, adminCtx());
    await kit.sql("UPDATE authn.app_refresh_tokens SET revoked_at = now() - interval '91 days' WHERE id = $1", [dead.token.id]);
    const live = await issue(app, 'live');
    const listed = await kit.bus.request('musubi.authn.refresh-token.list.v1', { tenantId: tenant.id, appId: app.app.id }, adminCtx());
    expect(listed.items.map((t) => t.name).sort()).toEqual(['live', 'recently revoked']);

    const a = tokens(await grant(app, live.refreshToken));
    const b = tokens(await grant(app, a.refreshToken));
    await kit.sql("UPDATE authn.app_refresh_secrets SET rotated_at = now() - interval '31 days' WHERE token_id = $1 AND rotated_at IS NOT NULL", [live.token.id]);
    tokens(await grant(app, b.refreshToken));
    const [row] = await kit.sql<{ n: number }>('SELECT count(*)::int AS n FROM authn.app_refresh_secrets WHERE token_id = $1', [live.token.id]);
    // The one just retired and the current one.
    expect(row!.n).toBe(2);
  });
});

describe('the token endpoint', () => {
  it('refuses a wrong client secret, another application, and ambiguous or missing client authentication, without spending the token', async () => {
    const app = await register('client-a', ['users:read']);
    const otherApp = await register('client-b', ['users:read']);
    const rt = await issue(app);
    const wrongSecret = { ...app, clientSecret: otherApp.clientSecret };
    expect(await grant(wrongSecret, rt.refreshToken)).toMatchObject({ kind: 'oauth_error', error: 'invalid_client' });
    // Another application's valid credentials with this application's refresh token.
    expect(await grant(otherApp, rt.refreshToken)).toMatchObject({ kind: 'oauth_error', error: 'invalid_grant' });
    const call = (params: Record<string, string>, basic: { clientId: string; clientSecret: string } | null) => kit.bus.request('musubi.authn.app-token.grant.v1', { tenantId: tenant.id, params, basic }, gateway());
    expect(await call({ grant_type: 'refresh_token', refresh_token: rt.refreshToken }, null)).toMatchObject({ error: 'invalid_client' });
    expect(await call({ grant_type: 'refresh_token', refresh_token: rt.refreshToken, client_secret: app.clientSecret }, { clientId: app.app.clientId, clientSecret: app.clientSecret })).toMatchObject({ error: 'invalid_request' });
    expect(await call({ grant_type: 'client_credentials' }, { clientId: app.app.clientId, clientSecret: app.clientSecret })).toMatchObject({ error: 'unsupported_grant_type' });
    expect(await call({ grant_type: 'refresh_token' }, { clientId: app.app.clientId, clientSecret: app.clientSecret })).toMatchObject({ error: 'invalid_request' });
    expect(await call({ grant_type: 'refresh_token', refresh_token: 'msr_not-a-token' }, { clientId: app.app.clientId, clientSecret: app.clientSecret })).toMatchObject({ error: 'invalid_grant' });
    // Client authentication in the form works too, and none of the failures above spent the token.
    tokens(await call({ grant_type: 'refresh_token', refresh_token: rt.refreshToken, client_id: app.app.clientId, client_secret: app.clientSecret }, null));
    // Only the gateway may call it.
    await expectError(kit.bus.request('musubi.authn.app-token.grant.v1', { tenantId: tenant.id, params: {}, basic: null }, adminCtx()), 'forbidden');
    await expectError(kit.bus.request('musubi.authn.app-token.verify.v1', { token: `msa_${'a'.repeat(43)}` }, adminCtx()), 'forbidden');
  });

  it("refuses tenant A's application and refresh token at tenant B", async () => {
    const appA = await register('tenant-a app', ['users:read']);
    const rt = await issue(appA);
    expect(await grant(appA, rt.refreshToken, {}, other.id)).toMatchObject({ kind: 'oauth_error', error: 'invalid_client' });
    // Tenant B's own application with tenant A's refresh token.
    const appB = await register('tenant-b app', ['users:read'], other, otherAdmin);
    expect(await grant(appB, rt.refreshToken)).toMatchObject({ kind: 'oauth_error', error: 'invalid_grant' });
    // Tenant B's administrator cannot see, issue for, or delete tenant A's application.
    const bAdmin = asUser(other.id, otherAdmin.id, ['tenant_admin']);
    await expectError(kit.bus.request('musubi.authn.refresh-token.issue.v1', { tenantId: tenant.id, appId: appA.app.id, name: 'x', expiresInDays: 1 }, bAdmin), 'not_found');
    await expectError(kit.bus.request('musubi.authn.refresh-token.issue.v1', { tenantId: other.id, appId: appA.app.id, name: 'x', expiresInDays: 1 }, bAdmin), 'not_found');
    await expectError(kit.bus.request('musubi.authn.api-app.delete.v1', { tenantId: other.id, appId: appA.app.id }, bAdmin), 'not_found');
    await expectError(kit.bus.request('musubi.authn.refresh-token.list.v1', { tenantId: other.id, appId: appA.app.id }, bAdmin), 'not_found');
    // And the access token names tenant A, which the gateway compares with the route's tenant.
    const a = tokens(await grant(appA, rt.refreshToken));
    expect((await verify(a.accessToken)).tenantId).toBe(tenant.id);
  });
});

describe('access tokens of an application', () => {
  it('stop working when they expire, when their refresh token is revoked, and when the application is deleted', async () => {
    const app = await register('ending', ['users:read']);
    const one = await issue(app, 'one');
    const two = await issue(app, 'two');
    const a = tokens(await grant(app, one.refreshToken));
    await kit.sql("UPDATE authn.app_access_tokens SET expires_at = now() - interval '1 second'");
    await expectError(verify(a.accessToken), 'unauthenticated');

    const b = tokens(await grant(app, a.refreshToken));
    await verify(b.accessToken);
    await kit.bus.request('musubi.authn.refresh-token.revoke.v1', { tenantId: tenant.id, appId: app.app.id, tokenId: one.token.id }, adminCtx());
    await expectError(verify(b.accessToken), 'unauthenticated');
    expect(await grant(app, b.refreshToken)).toMatchObject({ error: 'invalid_grant' });

    const c = tokens(await grant(app, two.refreshToken));
    await verify(c.accessToken);
    const deleted = await kit.bus.request('musubi.authn.api-app.delete.v1', { tenantId: tenant.id, appId: app.app.id }, adminCtx());
    expect(deleted).toEqual({ revokedRefreshTokens: 1 });
    await expectError(verify(c.accessToken), 'unauthenticated');
    expect(await grant(app, c.refreshToken)).toMatchObject({ error: 'invalid_client' });
    await expectError(kit.bus.request('musubi.authn.api-app.delete.v1', { tenantId: tenant.id, appId: app.app.id }, adminCtx()), 'not_found');
    await outboxDrained(kit, 'authn');
    const events = await streamMessages(kit, 'authn');
    const revokedForDelete = events.find((e) => e.subject === 'musubi.authn.refresh-token.revoked.v1' && (e.envelope.payload as { reason?: string }).reason === 'app_deleted');
    expect(revokedForDelete?.envelope.payload).toMatchObject({ applicationId: app.app.id, refreshToken: { id: two.token.id } });
    expect(events.some((e) => e.subject === 'musubi.authn.api-app.deleted.v1' && (e.envelope.payload as { apiApp: { id: string } }).apiApp.id === app.app.id)).toBe(true);
  });

  it("never outlive their registrar's standing: a disabled registrar's application stops within ten seconds", async () => {
    const registrar = await createUser(kit, tenant, 'leaving-admin', { roles: ['tenant_admin'] });
    const app = await register('orphaned', ['users:read'], tenant, registrar);
    const rt = await issue(app, 'x', asUser(tenant.id, registrar.id, ['tenant_admin']));
    const a = tokens(await grant(app, rt.refreshToken));
    expect((await verify(a.accessToken)).userId).toBe(registrar.id);
    await kit.bus.request('musubi.directory.user.disable.v1', { tenantId: tenant.id, userId: registrar.id }, operator());
    const refused = await waitFor('the disabled registrar to end the token', async () => (await errorOf(verify(a.accessToken)).catch(() => null))?.code === 'unauthenticated', 12_000, 250);
    expect(refused).toBe(true);
    // A token of an application whose registrar is already known to be disabled is refused at once.
    const b = tokens(await grant(app, a.refreshToken));
    await expectError(verify(b.accessToken), 'unauthenticated');
  }, 30_000);
});

describe('mails after a one-time password', () => {
  it('tells a new user their account is issued and that a one-time password was issued, in their language, without the password', async () => {
    const user = await createUser(kit, tenant, 'newcomer', { email: 'newcomer@mail.example.test', locale: 'en-US', familyName: 'Suzuki', givenName: 'Hana' });
    const { temporaryPassword, expiresAt } = await kit.bus.request('musubi.authn.temporary-password.issue.v1', { tenantId: tenant.id, userId: user.id }, operator());
    secrets.push(temporaryPassword);
    const issued = await sink.waitForMessage((m) => m.recipients.includes('newcomer@mail.example.test') && m.subject.includes('Your account is ready'));
    expect(issued.text).toContain(`Login ID: ${user.loginId}`);
    expect(issued.text).toContain(`https://id.example.test/t/${tenant.slug}/login`);
    const temp = await sink.waitForMessage((m) => m.recipients.includes('newcomer@mail.example.test') && m.subject.includes('one-time password'));
    expect(temp.text).toContain(expiresAt);
    for (const m of [issued, temp]) expect(`${m.subject}${m.text ?? ''}`).not.toContain(temporaryPassword);

    // A second one-time password: only the one-time password mail, no second "account issued".
    const again = await kit.bus.request('musubi.authn.temporary-password.issue.v1', { tenantId: tenant.id, userId: user.id }, operator());
    secrets.push(again.temporaryPassword);
    await sink.waitForMessage((m) => m.recipients.includes('newcomer@mail.example.test') && (m.text ?? '').includes(again.expiresAt));
    await new Promise((r) => setTimeout(r, 500));
    const all = sink.messages({ to: 'newcomer@mail.example.test' });
    expect(all.filter((m) => m.subject.includes('Your account is ready'))).toHaveLength(1);
    expect(all.filter((m) => m.subject.includes('one-time password'))).toHaveLength(2);
  });

  it('writes in Japanese to a Japanese user, to the login ID when there is no notification address', async () => {
    const user = await createUser(kit, tenant, 'shinjin', { locale: 'ja-JP' });
    const { temporaryPassword } = await kit.bus.request('musubi.authn.temporary-password.issue.v1', { tenantId: tenant.id, userId: user.id }, operator());
    secrets.push(temporaryPassword);
    const issued = await sink.waitForMessage((m) => m.recipients.includes(user.loginId.toLowerCase()) && m.subject.includes('アカウントが発行されました'));
    expect(issued.text).toContain(`ログインID: ${user.loginId}`);
    await sink.waitForMessage((m) => m.recipients.includes(user.loginId.toLowerCase()) && m.subject.includes('一時パスワードが発行されました'));
  });
});

describe('mails after a one-time password, in the tenant language', () => {
  it('writes in English for a user of an English-speaking tenant who set no language', async () => {
    const en = await createTenant(kit, { defaultLocale: 'en-US' });
    const user = await createUser(kit, en, 'no-locale');
    const { temporaryPassword } = await kit.bus.request('musubi.authn.temporary-password.issue.v1', { tenantId: en.id, userId: user.id }, operator());
    secrets.push(temporaryPassword);
    await sink.waitForMessage((m) => m.recipients.includes(user.loginId.toLowerCase()) && m.subject.includes('Your account is ready'));
  });
});

describe('what authn left behind', () => {
  it('logged and emitted no secret: client secrets, refresh, access and one-time passwords', async () => {
    await outboxDrained(kit, 'authn');
    const events = await streamMessages(kit, 'authn');
    const subjects = new Set(events.map((e) => e.subject));
    for (const s of ['musubi.authn.api-app.created.v1', 'musubi.authn.api-app.deleted.v1', 'musubi.authn.refresh-token.issued.v1', 'musubi.authn.refresh-token.revoked.v1', 'musubi.authn.refresh-token.reused.v1']) {
      expect(subjects).toContain(s);
    }
    const all = events.map((e) => e.raw).join('\n') + kit.logs.text();
    expect(secrets.length).toBeGreaterThan(50);
    for (const s of secrets) expect(all).not.toContain(s);
  });
});
