import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import type { ApiTokenView, AuthPolicyView, TenantView, UserView } from '@musubi/contracts';
import { DevMailSink } from '@musubi/platform/mail';
import { waitFor } from '@musubi/platform/testing';
import { launchChromium } from '../support/browser.js';
import { operatorFetch, startTestFleet, type TestFleet } from '../support/test-fleet.js';

/**
 * Authentication end to end, in headless Chromium and over HTTP: lockout and
 * unlock, password reset by a link read from the SMTP sink, the tenant's
 * logout landing page and branding, admin access limited to networks, a
 * disabled user's sessions ending; and the attacks: enumeration, CSRF, cookie
 * flags, clickjacking headers, scope escalation with a narrow API token.
 */

jest.setTimeout(60_000);

const SESSION_COOKIE = '__Host-musubi-session';
const CSRF_COOKIE = '__Host-musubi-csrf';
const LOGIN_COOKIE = '__Host-musubi-login';
const FAILED_EN = 'The login ID or password is incorrect.';
const PASSWORD = 'tsuki-ga-kirei-desu-ne-2026';

let f: TestFleet;
let browser: Browser;
let sink: DevMailSink;
let tenant: TenantView;
let other: TenantView;
let admin: UserView;
let adminPassword: string;

const url = (path: string, t: TenantView = tenant) => `${f.gatewayUrl}/t/${t.slug}${path}`;
const pathOf = (page: Page) => new URL(page.url()).pathname;

function cookiesOf(res: Response): Map<string, string> {
  return new Map(res.headers.getSetCookie().map((c) => c.split(';')[0]!.split('=') as [string, string]).map(([k, ...v]) => [k, v.join('=')]));
}

/** An HTTP client with a cookie jar, as a browser without script would be. */
class Client {
  readonly jar = new Map<string, string>();
  constructor(private readonly headers: Record<string, string> = {}) {}
  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    for (const [k, v] of Object.entries(this.headers)) headers.set(k, v);
    if (this.jar.size > 0) headers.set('cookie', [...this.jar].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(path.startsWith('http') ? path : `${f.gatewayUrl}${path}`, { ...init, headers, redirect: 'manual' });
    for (const [k, v] of cookiesOf(res)) {
      if (v === '') this.jar.delete(k);
      else this.jar.set(k, v);
    }
    return res;
  }
  form(path: string, fields: Record<string, string>): Promise<Response> {
    return this.fetch(path, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ csrf: this.jar.get(CSRF_COOKIE) ?? '', ...fields }).toString() });
  }
  async signIn(t: TenantView, loginId: string, password: string): Promise<Response> {
    await this.fetch(`/t/${t.slug}/login`);
    return this.form(`/t/${t.slug}/login`, { loginId, password });
  }
}

async function createUser(t: TenantView, local: string, roles: string[] = [], extra: Record<string, unknown> = {}): Promise<UserView> {
  const res = await operatorFetch(f, `/api/v1/tenants/${t.id}/users`, { method: 'POST', body: JSON.stringify({ loginId: `${local}@${t.platformDomain}`, displayName: local, roles, ...extra }) });
  expect(res.status).toBe(201);
  return (await res.json()) as UserView;
}

/** A user with a chosen password: one-time password issued, signed in, changed. */
async function userWithPassword(t: TenantView, local: string, roles: string[] = [], extra: Record<string, unknown> = {}): Promise<{ user: UserView; password: string }> {
  const user = await createUser(t, local, roles, extra);
  const p = await operatorFetch(f, `/api/v1/tenants/${t.id}/users/${user.id}/temporary-password`, { method: 'POST' });
  const { temporaryPassword } = (await p.json()) as { temporaryPassword: string };
  const c = new Client();
  expect((await c.signIn(t, user.loginId, temporaryPassword)).headers.get('location')).toBe(`/t/${t.slug}/password`);
  const changed = await c.form(`/t/${t.slug}/password`, { currentPassword: temporaryPassword, newPassword: PASSWORD, confirmPassword: PASSWORD });
  expect(changed.status).toBe(303);
  return { user, password: PASSWORD };
}

const setPolicy = async (changes: Partial<AuthPolicyView>, t = tenant) => {
  const res = await operatorFetch(f, `/api/v1/tenants/${t.id}/auth-policy`, { method: 'PATCH', body: JSON.stringify(changes) });
  expect(res.status).toBe(200);
  return (await res.json()) as AuthPolicyView;
};

async function signInBrowser(page: Page, t: TenantView, loginId: string, password: string) {
  await page.goto(url('/login', t));
  await page.fill('#loginId', loginId);
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  await page.fill('#password', password);
  const [res] = await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  return res;
}

beforeAll(async () => {
  sink = new DevMailSink();
  const mail = await sink.start();
  // Loopback may speak for clients here, so the tests can play other source addresses.
  [f, browser] = await Promise.all([startTestFleet({ extra: { SMTP_URL: mail.smtpUrl, TRUSTED_PROXIES: '127.0.0.1,::1' } }), launchChromium()]);
  const t = await operatorFetch(f, '/api/v1/tenants', { method: 'POST', body: JSON.stringify({ slug: 'tsukimi', displayName: 'Tsukimi Trading', defaultLocale: 'en-US' }) });
  tenant = (await t.json()) as TenantView;
  const o = await operatorFetch(f, '/api/v1/tenants', { method: 'POST', body: JSON.stringify({ slug: 'yozakura', displayName: 'Yozakura' }) });
  other = (await o.json()) as TenantView;
  ({ user: admin, password: adminPassword } = await userWithPassword(tenant, 'admin', ['tenant_admin']));
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await f?.stop();
  await sink?.stop();
}, 60_000);

describe('lockout and unlock', () => {
  it('locks after the tenant threshold with the usual answer, mails the user, and a helpdesk unlock lets them in', async () => {
    await setPolicy({ lockoutThreshold: 3, lockoutMinutes: 30 });
    const { user, password } = await userWithPassword(tenant, 'clumsy', [], { email: `clumsy.mail@${tenant.platformDomain}` });
    const { user: helper, password: helperPassword } = await userWithPassword(tenant, 'helper', ['helpdesk']);
    const context = await browser.newContext({ locale: 'en-US' });
    try {
      const page = await context.newPage();
      for (let i = 0; i < 3; i++) {
        const res = await signInBrowser(page, tenant, user.loginId, `not-it-${i}-xxxxxxxx`);
        expect(res?.status()).toBe(401);
        expect((await page.textContent('[role=alert]'))?.trim()).toBe(FAILED_EN);
      }
      // Locked: the right password gets the very same answer.
      const locked = await signInBrowser(page, tenant, user.loginId, password);
      expect(locked?.status()).toBe(401);
      expect((await page.textContent('[role=alert]'))?.trim()).toBe(FAILED_EN);
      const mail = await sink.waitForMessage((m) => m.recipients.includes(`clumsy.mail@${tenant.platformDomain}`) && /locked/i.test(m.subject));
      expect(mail.text).toContain(`/t/${tenant.slug}/password-reset`);

      const h = new Client();
      expect((await h.signIn(tenant, helper.loginId, helperPassword)).status).toBe(303);
      const state = await h.fetch(`/api/v1/tenants/${tenant.id}/users/${user.id}/lockout`);
      expect(await state.json()).toMatchObject({ locked: true, consecutiveFailures: 3 });
      const noCsrf = await h.fetch(`/api/v1/tenants/${tenant.id}/users/${user.id}/lockout`, { method: 'DELETE' });
      expect(noCsrf.status).toBe(403);
      const unlocked = await h.fetch(`/api/v1/tenants/${tenant.id}/users/${user.id}/lockout`, { method: 'DELETE', headers: { 'x-csrf-token': h.jar.get(CSRF_COOKIE)! } });
      expect(unlocked.status).toBe(200);
      expect(await unlocked.json()).toMatchObject({ locked: false });

      await signInBrowser(page, tenant, user.loginId, password);
      expect(pathOf(page)).toBe(`/t/${tenant.slug}/account`);
    } finally {
      await context.close();
      await setPolicy({ lockoutThreshold: 10, lockoutMinutes: 15 });
    }
  });
});

describe('password reset by mail', () => {
  it('sends a single-use link read from the sink; the new password works and the old sessions end', async () => {
    const { user, password } = await userWithPassword(tenant, 'forgetful', [], { locale: 'en-US' });
    const old = new Client();
    await old.signIn(tenant, user.loginId, password);
    expect((await old.fetch(`/t/${tenant.slug}/account`)).status).toBe(200);

    const context = await browser.newContext({ locale: 'en-US' });
    try {
      const page = await context.newPage();
      await page.goto(url('/login'));
      await Promise.all([page.waitForNavigation(), page.click('a[href$="/password-reset"]')]);
      await page.fill('#loginId', user.loginId);
      await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
      expect(await page.textContent('[role=status]')).toContain('If the account exists');
      const mail = await sink.waitForMessage((m) => m.recipients.includes(user.loginId.toLowerCase()) && m.subject.includes('Reset your password'));
      const link = /(http:\/\/localhost:\d+\/t\/tsukimi\/password-reset\/[A-Za-z0-9_-]{43})/.exec(mail.text ?? '')?.[1];
      expect(link).toBeDefined();

      const res = await page.goto(link!);
      expect(res?.status()).toBe(200);
      expect(res?.headers()['referrer-policy']).toBe('no-referrer');
      await page.fill('#newPassword', 'password1');
      await page.fill('#confirmPassword', 'password1');
      const [weak] = await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
      expect(weak?.status()).toBe(400);
      expect(await page.locator('[role=alert]').allTextContents()).toEqual(expect.arrayContaining([expect.stringMatching(/too common|at least 15/)]));
      const fresh = 'a-new-moon-over-the-river-2026';
      await page.fill('#newPassword', fresh);
      await page.fill('#confirmPassword', fresh);
      await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
      expect(await page.textContent('[role=status]')).toContain('has been reset');

      // Single use, and every other session ended.
      expect((await page.goto(link!))?.status()).toBe(404);
      expect((await old.fetch(`/t/${tenant.slug}/account`)).headers.get('location')).toBe(`/t/${tenant.slug}/login`);
      await signInBrowser(page, tenant, user.loginId, fresh);
      expect(pathOf(page)).toBe(`/t/${tenant.slug}/account`);
    } finally {
      await context.close();
    }
  });
});

describe('the tenant\'s look and its logout landing page', () => {
  it('shows the logo and colour, and signing out lands on the tenant\'s page', async () => {
    await setPolicy({ logoutUrl: 'https://intranet.tsukimi.example/bye', logoUrl: 'https://cdn.tsukimi.example/logo.png', primaryColor: '#aa3355' });
    const { user, password } = await userWithPassword(tenant, 'leaver');
    const context = await browser.newContext({ locale: 'ja-JP' });
    try {
      await context.route('https://intranet.tsukimi.example/**', (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<h1>Bye from the intranet</h1>' }));
      await context.route('https://cdn.tsukimi.example/**', (route) => route.fulfill({ status: 200, contentType: 'image/png', body: Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=', 'base64') }));
      const page = await context.newPage();
      // The gateway keeps a tenant's branding for up to five seconds.
      const res = await waitFor('the new branding', async () => {
        const r = await page.goto(url('/login'));
        return r?.headers()['content-security-policy']?.includes('https://cdn.tsukimi.example') ? r : null;
      }, 10_000, 500);
      expect(res.headers()['content-security-policy']).toContain("img-src 'self' data: https://cdn.tsukimi.example");
      expect(res.headers()['content-security-policy']).toContain("form-action 'self' https://intranet.tsukimi.example");
      expect(await page.getAttribute('img.logo', 'src')).toBe('https://cdn.tsukimi.example/logo.png');
      expect(await page.evaluate("getComputedStyle(document.querySelector('button')).backgroundColor")).toBe('rgb(170, 51, 85)');
      await signInBrowser(page, tenant, user.loginId, password);
      expect(pathOf(page)).toBe(`/t/${tenant.slug}/account`);
      // The browser follows the sign-out redirect to the tenant's page (not blocked by the page's form-action CSP).
      const landing = page.waitForRequest('https://intranet.tsukimi.example/bye', { timeout: 10_000 });
      await page.click('form[action$="/logout"] button[type=submit]');
      expect((await landing).isNavigationRequest()).toBe(true);
      expect((await new Client().fetch(`/t/${tenant.slug}/account`)).status).toBe(303);
    } finally {
      await context.close();
      await setPolicy({ logoutUrl: null, logoUrl: null, primaryColor: null });
    }
  });
});

describe('sessions', () => {
  it('are listed on the account page and one can be ended there; disabling the user ends the rest at once', async () => {
    const { user, password } = await userWithPassword(tenant, 'twodevices');
    const laptop = new Client({ 'user-agent': 'Laptop/1.0' });
    await laptop.signIn(tenant, user.loginId, password);
    const context = await browser.newContext({ locale: 'en-US' });
    try {
      const page = await context.newPage();
      await signInBrowser(page, tenant, user.loginId, password);
      // This browser, the laptop, and the session in which the one-time password was changed.
      expect(await page.locator('.sessions li').count()).toBe(3);
      expect(await page.locator('.sessions li.current').count()).toBe(1);
      await Promise.all([page.waitForNavigation(), page.click('.sessions li:has-text("Laptop/1.0") button')]);
      expect(await page.locator('.sessions li').count()).toBe(2);
      expect(await page.locator('.sessions li:has-text("Laptop/1.0")').count()).toBe(0);
      expect((await laptop.fetch(`/t/${tenant.slug}/account`)).status).toBe(303);

      const disabled = await operatorFetch(f, `/api/v1/tenants/${tenant.id}/users/${user.id}/disable`, { method: 'POST', body: '{}' });
      expect(disabled.status).toBe(200);
      await waitFor('the session to end', async () => {
        const res = await page.goto(url('/account'));
        return res && pathOf(page) === `/t/${tenant.slug}/login` ? true : null;
      });
    } finally {
      await context.close();
    }
  });
});

describe('admin access limited to networks', () => {
  it('refuses a valid admin session from a network the tenant did not allow, in the browser too', async () => {
    await setPolicy({ adminAllowedCidrs: ['198.51.100.0/24', '2001:db8::/32'] });
    try {
      const c = new Client();
      await c.signIn(tenant, admin.loginId, adminPassword);
      const from = async (ip: string) => (await c.fetch(`/api/v1/tenants/${tenant.id}/users`, { headers: { 'x-forwarded-for': ip } })).status;
      // The gateway keeps a tenant's ranges for up to ten seconds.
      await waitFor('the new ranges to apply', async () => ((await from('203.0.113.5')) === 403 ? true : null), 15_000, 500);
      expect(await from('198.51.100.7')).toBe(200);
      expect(await from('2001:db8::42')).toBe(200);
      expect(await from('2001:db9::1')).toBe(403);
      // The operator is not a tenant's admin and is not limited by it.
      expect((await operatorFetch(f, `/api/v1/tenants/${tenant.id}/users`, { headers: { 'x-forwarded-for': '203.0.113.5' } })).status).toBe(200);

      const context = await browser.newContext({ locale: 'en-US', extraHTTPHeaders: { 'x-forwarded-for': '203.0.113.5' } });
      try {
        const page = await context.newPage();
        await signInBrowser(page, tenant, admin.loginId, adminPassword);
        // Signing in to the hosted pages still works; the admin API does not.
        expect(pathOf(page)).toBe(`/t/${tenant.slug}/account`);
        const res = await page.goto(`${f.gatewayUrl}/api/v1/tenants/${tenant.id}/users`);
        expect(res?.status()).toBe(403);
        expect(await res?.json()).toMatchObject({ code: 'forbidden' });
      } finally {
        await context.close();
      }
    } finally {
      await setPolicy({ adminAllowedCidrs: [] });
      const c = new Client();
      await c.signIn(tenant, admin.loginId, adminPassword);
      await waitFor('the ranges to be lifted', async () => ((await c.fetch(`/api/v1/tenants/${tenant.id}/users`)).status === 200 ? true : null), 15_000, 500);
    }
  });
});

describe('attacks', () => {
  it('cannot tell existing accounts from unknown ones: identifier step, password step and reset answer alike', async () => {
    const c = new Client({ 'accept-language': 'en' });
    const answers = [];
    for (const loginId of [admin.loginId, `nobody@${tenant.platformDomain}`]) {
      await c.fetch(`/t/${tenant.slug}/login`);
      const step1 = await c.form(`/t/${tenant.slug}/login`, { loginId });
      const step2 = await c.form(`/t/${tenant.slug}/login/password`, { password: 'wrong-password-for-anyone' });
      const body2 = (await step2.text()).replaceAll(loginId, 'X').replace(/value="[^"]{43}"/g, '');
      const reset = await c.form(`/t/${tenant.slug}/password-reset`, { loginId });
      const body3 = (await reset.text()).replace(/value="[^"]{43}"/g, '');
      answers.push({ step1: [step1.status, step1.headers.get('location')], step2: [step2.status, body2], reset: [reset.status, body3] });
    }
    expect(answers[0]).toEqual(answers[1]);
    expect(answers[0]!.step1).toEqual([303, `/t/${tenant.slug}/login/password`]);
  });

  it('sets __Host- cookies, Secure, HttpOnly, SameSite, and a fresh session id at sign-in', async () => {
    const c = new Client();
    await c.fetch(`/t/${tenant.slug}/login`);
    const step1 = await c.form(`/t/${tenant.slug}/login`, { loginId: admin.loginId });
    const loginCookie = step1.headers.getSetCookie().find((s) => s.startsWith(`${LOGIN_COOKIE}=`))!;
    expect(loginCookie).toMatch(/; Path=\//);
    expect(loginCookie).toMatch(/; HttpOnly/);
    expect(loginCookie).toMatch(/; Secure/);
    expect(loginCookie).toMatch(/; SameSite=Lax/);
    expect(loginCookie).not.toMatch(/Domain=/i);
    c.jar.set(SESSION_COOKIE, 'fixated-session-id-chosen-by-an-attacker-000');
    const step2 = await c.form(`/t/${tenant.slug}/login/password`, { password: adminPassword });
    expect(step2.status).toBe(303);
    const session = step2.headers.getSetCookie().find((s) => s.startsWith(`${SESSION_COOKIE}=`))!;
    expect(session).toMatch(/; Path=\/.*; HttpOnly.*; Secure.*; SameSite=Lax|; HttpOnly; Secure; SameSite=Lax/);
    expect(c.jar.get(SESSION_COOKIE)).not.toBe('fixated-session-id-chosen-by-an-attacker-000');
    expect(c.jar.get(SESSION_COOKIE)!.length).toBeGreaterThanOrEqual(43);
    // The transaction is spent: the login cookie is cleared.
    expect(c.jar.has(LOGIN_COOKIE)).toBe(false);
  });

  it('refuses cross-site form posts and API writes without the CSRF token', async () => {
    const c = new Client();
    await c.signIn(tenant, admin.loginId, adminPassword);
    const csrf = c.jar.get(CSRF_COOKIE)!;
    c.jar.delete(CSRF_COOKIE); // a cross-site request does not carry the SameSite=Strict cookie
    const logout = await c.fetch(`/t/${tenant.slug}/logout`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `csrf=${csrf}` });
    expect(logout.headers.get('location')).toBe(`/t/${tenant.slug}/account`);
    c.jar.set(CSRF_COOKIE, csrf);
    expect((await c.fetch(`/t/${tenant.slug}/account`)).status).toBe(200);
    const token = await c.fetch(`/api/v1/tenants/${tenant.id}/api-tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'x', scopes: ['users:read'], expiresInDays: 1 }) });
    expect(token.status).toBe(403);
    const policy = await c.fetch(`/api/v1/tenants/${tenant.id}/auth-policy`, { method: 'PATCH', headers: { 'content-type': 'application/json', 'x-csrf-token': 'guessed' }, body: JSON.stringify({ lockoutThreshold: 100 }) });
    expect(policy.status).toBe(403);
  });

  it('sends strict headers on every hosted page: no framing, no sniffing, HSTS, no referrer', async () => {
    const c = new Client();
    await c.signIn(tenant, admin.loginId, adminPassword);
    for (const path of ['/login', '/password-reset', '/logged-out', '/account', '/password']) {
      const res = await c.fetch(`/t/${tenant.slug}${path}`);
      expect({ path, status: res.status }).toEqual({ path, status: 200 });
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toMatch(/frame-ancestors 'none'/);
      expect(csp).toMatch(/default-src 'none'/);
      expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('strict-transport-security')).toMatch(/^max-age=\d{8,}/);
      expect(res.headers.get('cache-control')).toBe('no-store');
    }
  });

  it('keeps a narrow API token to its scopes, its tenant and its maker\'s roles', async () => {
    const c = new Client();
    await c.signIn(tenant, admin.loginId, adminPassword);
    const made = await c.fetch(`/api/v1/tenants/${tenant.id}/api-tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-csrf-token': c.jar.get(CSRF_COOKIE)! },
      body: JSON.stringify({ name: 'read-only sync', scopes: ['users:read'], expiresInDays: 7 }),
    });
    expect(made.status).toBe(201);
    expect(made.headers.get('cache-control')).toBe('no-store');
    const { token, apiToken } = (await made.json()) as { token: string; apiToken: ApiTokenView };
    const bearer = (path: string, init: RequestInit = {}) => fetch(`${f.gatewayUrl}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(init.headers as Record<string, string>) } });
    expect((await bearer(`/api/v1/tenants/${tenant.id}/users`)).status).toBe(200);
    const write = await bearer(`/api/v1/tenants/${tenant.id}/users`, { method: 'POST', body: JSON.stringify({ loginId: `sneaky@${tenant.platformDomain}` }) });
    expect(write.status).toBe(403);
    expect(((await write.json()) as { detail: string }).detail).toMatch(/insufficient scope/);
    expect((await bearer(`/api/v1/tenants/${tenant.id}/groups`)).status).toBe(403);
    expect((await bearer(`/api/v1/tenants/${tenant.id}/auth-policy`)).status).toBe(403);
    expect((await bearer(`/api/v1/tenants/${tenant.id}/api-tokens`, { method: 'POST', body: JSON.stringify({ name: 'more', scopes: ['users:write'], expiresInDays: 1 }) })).status).toBe(403);
    expect((await bearer(`/api/v1/tenants/${other.id}/users`)).status).toBe(404);
    expect((await bearer('/api/v1/tenants')).status).toBe(403);
    expect((await bearer(`/api/v1/tenants/${tenant.id}/users`, { headers: { authorization: `Bearer ${token.slice(0, -1)}x` } })).status).toBe(401);

    // A helpdesk user cannot mint a token beyond their roles.
    const { user: helper, password } = await userWithPassword(tenant, 'desk', ['helpdesk']);
    const h = new Client();
    await h.signIn(tenant, helper.loginId, password);
    const beyond = await h.fetch(`/api/v1/tenants/${tenant.id}/api-tokens`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': h.jar.get(CSRF_COOKIE)! }, body: JSON.stringify({ name: 'x', scopes: ['groups:write'], expiresInDays: 1 }) });
    expect(beyond.status).toBe(403);

    // Listed without the secret; revoked, it stops working (within the gateway's 10 s cache).
    const list = await c.fetch(`/api/v1/tenants/${tenant.id}/api-tokens`);
    const text = await list.text();
    expect(text).toContain(apiToken.id);
    expect(text).not.toContain(token);
    const revoked = await c.fetch(`/api/v1/tenants/${tenant.id}/api-tokens/${apiToken.id}`, { method: 'DELETE', headers: { 'x-csrf-token': c.jar.get(CSRF_COOKIE)! } });
    expect(revoked.status).toBe(204);
    await waitFor('the revoked token to be refused', async () => ((await bearer(`/api/v1/tenants/${tenant.id}/users`)).status === 401 ? true : null), 15_000, 500);
  });

  it('logged no password, token or session id', async () => {
    for (const service of ['gateway', 'authn', 'directory'] as const) {
      const text = f.logs(service).join('\n');
      for (const secret of [PASSWORD, adminPassword, 'a-new-moon-over-the-river-2026']) expect(text).not.toContain(secret);
    }
  });
});
