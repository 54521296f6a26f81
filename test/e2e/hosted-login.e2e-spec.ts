import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Browser, BrowserContext, Cookie, Page } from 'playwright-core';
import { SERVICE_NAMES, type AuditEventView, type TenantView, type UserView } from '@musubi/contracts';
import { waitFor } from '@musubi/platform/testing';
import { launchChromium } from '../support/browser.js';
import { operatorFetch, startTestFleet, type TestFleet } from '../support/test-fleet.js';

/**
 * A tenant administrator's first sign-in on the hosted pages, in headless
 * Chromium: one-time password, forced password change, account page, sign out,
 * and sign in again; with the cookies, CSRF protection, headers, audit trail
 * and logs that go with it.
 *
 * The tests of the second `describe` follow one browser session in order.
 */

const SESSION_COOKIE = '__Host-musubi-session';
const CSRF_COOKIE = '__Host-musubi-csrf';
const FAILED_JA = 'ログインIDまたはパスワードが正しくありません。';
// Long, and free of the login ID's local part and of the user's names.
const NEW_PASSWORD = 'kumo-no-ue-de-hiru-ne-suru-neko-2026';
const SHORT_PASSWORD = 'sakura-2026';

// A browser round trip on a loaded machine takes a while; the default 5 s is too tight.
jest.setTimeout(30_000);

let f: TestFleet;
let browser: Browser;
let tenant: TenantView;
let user: UserView;
let temporaryPassword: string;
/** Every password this file typed anywhere and every session id it was given, for the log check at the end. */
const typedPasswords: string[] = [];
const sessionIds: string[] = [];

beforeAll(async () => {
  // Debug level: the most a service can say, so the log check sees it all.
  [f, browser] = await Promise.all([startTestFleet({ extra: { LOG_LEVEL: 'debug' } }), launchChromium()]);
  const t = await operatorFetch(f, '/api/v1/tenants', { method: 'POST', body: JSON.stringify({ slug: 'hanami', displayName: '花見商事' }) });
  expect(t.status).toBe(201);
  tenant = (await t.json()) as TenantView;
  const u = await operatorFetch(f, `/api/v1/tenants/${tenant.id}/users`, {
    method: 'POST',
    body: JSON.stringify({ loginId: `yamada.taro@${tenant.platformDomain}`, displayName: '山田 太郎', familyName: '山田', givenName: '太郎', roles: ['tenant_admin'] }),
  });
  expect(u.status).toBe(201);
  user = (await u.json()) as UserView;
  const p = await operatorFetch(f, `/api/v1/tenants/${tenant.id}/users/${user.id}/temporary-password`, { method: 'POST' });
  expect(p.status).toBe(201);
  expect(p.headers.get('cache-control')).toBe('no-store');
  temporaryPassword = ((await p.json()) as { temporaryPassword: string }).temporaryPassword;
  expect(temporaryPassword.length).toBeGreaterThanOrEqual(12);
  typedPasswords.push(temporaryPassword, NEW_PASSWORD, SHORT_PASSWORD);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await f?.stop();
}, 60_000);

const url = (path: string) => `${f.gatewayUrl}/t/${tenant.slug}${path}`;
const pathOf = (page: Page) => new URL(page.url()).pathname;

async function sessionCookie(context: BrowserContext): Promise<Cookie | undefined> {
  return (await context.cookies(f.gatewayUrl)).find((c) => c.name === SESSION_COOKIE);
}

/** Identifier first, then the password, as a person does it. */
async function signIn(page: Page, loginId: string, password: string) {
  if (!pathOf(page).endsWith('/login')) await page.goto(url('/login'));
  await page.fill('#loginId', loginId);
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  expect(pathOf(page)).toBe(`/t/${tenant.slug}/login/password`);
  expect(await page.textContent('#signing-in-as')).toBe(loginId);
  await page.fill('#password', password);
  const [response] = await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  return response;
}

async function auditEvents(): Promise<AuditEventView[]> {
  const res = await operatorFetch(f, `/api/v1/tenants/${tenant.id}/audit-events?limit=200`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { items: AuditEventView[] }).items;
}

/** `name=value` pairs of the Set-Cookie headers of a fetch response. */
function setCookies(res: Response): Map<string, string> {
  return new Map(res.headers.getSetCookie().map((c) => c.split(';')[0]!.split('=') as [string, string]).map(([k, ...v]) => [k, v.join('=')]));
}

describe('the login page', () => {
  it.each([
    ['ja-JP', 'ja', 'ログインID', 'パスワード', 'サインイン'],
    ['en-US', 'en', 'Login ID', 'Password', 'Sign in'],
  ])('speaks the browser’s language (%s) with labelled, autocompletable fields', async (locale, lang, loginLabel, passwordLabel, title) => {
    const context = await browser.newContext({ locale });
    try {
      const page = await context.newPage();
      const res = await page.goto(url('/login'));
      expect(res?.status()).toBe(200);
      expect(await page.getAttribute('html', 'lang')).toBe(lang);
      expect(await page.textContent('h1')).toBe(title);
      expect(await page.textContent('label[for=loginId]')).toBe(loginLabel);
      // The labels are tied to their fields: the accessible names resolve.
      expect(await page.getByLabel(loginLabel, { exact: true }).getAttribute('id')).toBe('loginId');
      expect(await page.getAttribute('#loginId', 'autocomplete')).toBe('username');
      expect(await page.textContent('.tenant')).toBe('花見商事');
      // The hidden CSRF field matches the CSRF cookie (double submit).
      const field = await page.getAttribute('input[type=hidden][name=csrf]', 'value');
      const cookie = (await context.cookies(f.gatewayUrl)).find((c) => c.name === CSRF_COOKIE);
      expect(field).toBeTruthy();
      expect(cookie?.value).toBe(field);
      expect(cookie).toMatchObject({ httpOnly: true, secure: true, path: '/', sameSite: 'Strict' });
      // Identifier first: the password is asked on the next page, for any identifier.
      await page.fill('#loginId', `anyone@${tenant.platformDomain}`);
      await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
      expect(pathOf(page)).toBe(`/t/${tenant.slug}/login/password`);
      expect(await page.textContent('label[for=password]')).toBe(passwordLabel);
      expect(await page.getByLabel(passwordLabel, { exact: true }).getAttribute('id')).toBe('password');
      expect(await page.getAttribute('#password', 'autocomplete')).toBe('current-password');
      expect(await page.getAttribute('#password', 'type')).toBe('password');
      // A password manager still sees the username.
      expect(await page.getAttribute('input[name=loginId][autocomplete=username]', 'value')).toBe(`anyone@${tenant.platformDomain}`);
    } finally {
      await context.close();
    }
  });

  it('cannot be framed, sniffed or cached', async () => {
    const context = await browser.newContext({ locale: 'ja-JP' });
    try {
      const page = await context.newPage();
      const res = await page.goto(url('/login'));
      const h = res!.headers();
      expect(h['content-type']).toMatch(/^text\/html/);
      expect(h['content-security-policy']).toMatch(/(?:^|;)\s*frame-ancestors 'none'\s*(?:;|$)/);
      expect(h['x-frame-options']).toBe('DENY');
      expect(h['x-content-type-options']).toBe('nosniff');
      expect(h['cache-control']).toBe('no-store');
      // The stylesheet loads under that CSP (nothing was blocked).
      expect(await page.evaluate("getComputedStyle(document.querySelector('button')).cursor")).toBe('pointer');
    } finally {
      await context.close();
    }
  });
});

describe('a first sign-in in the browser', () => {
  let context: BrowserContext;
  let page: Page;
  let firstSessionId: string;
  let changedSessionId: string;

  beforeAll(async () => {
    context = await browser.newContext({ locale: 'ja-JP' });
    page = await context.newPage();
  });

  afterAll(async () => {
    await context?.close();
  });

  it('shows the same generic error for a wrong password and an unknown login ID, and stays on the login page', async () => {
    await page.goto(url('/login'));
    for (const [loginId, password] of [
      [user.loginId, 'not-the-right-password'],
      [`nobody@${tenant.platformDomain}`, temporaryPassword],
    ] as const) {
      await page.goto(url('/login'));
      const res = await signIn(page, loginId, password);
      expect(res?.status()).toBe(401);
      expect(pathOf(page)).toBe(`/t/${tenant.slug}/login/password`);
      expect((await page.textContent('[role=alert]'))?.trim()).toBe(FAILED_JA);
      // The login ID is kept, the password is not.
      expect(await page.textContent('#signing-in-as')).toBe(loginId);
      expect(await page.inputValue('#password')).toBe('');
      expect(await sessionCookie(context)).toBeUndefined();
    }
  });

  it('leads from the one-time password to the password-change page, with a session id it chose itself', async () => {
    // A session id planted before sign-in (session fixation) must not survive it.
    await page.goto(url('/login'));
    await page.evaluate(`document.cookie = '${SESSION_COOKIE}=planted-by-someone-else-0000000000000; Path=/; Secure; SameSite=Lax'`);
    expect((await sessionCookie(context))?.value).toBe('planted-by-someone-else-0000000000000');

    await signIn(page, user.loginId, temporaryPassword);
    expect(pathOf(page)).toBe(`/t/${tenant.slug}/password`);
    expect(await page.textContent('.notice')).toBe('初回サインインのため、新しいパスワードを設定してください。');
    expect(await page.getAttribute('#newPassword', 'autocomplete')).toBe('new-password');
    expect(await page.getAttribute('#currentPassword', 'autocomplete')).toBe('current-password');

    const cookie = await sessionCookie(context);
    expect(cookie).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Lax', path: '/', domain: 'localhost' });
    expect(cookie?.value).not.toBe('planted-by-someone-else-0000000000000');
    expect(cookie?.value.length).toBeGreaterThanOrEqual(43);
    firstSessionId = cookie!.value;
    sessionIds.push(firstSessionId);

    // Until the password is changed, the account page sends the user back here.
    await page.goto(url('/account'));
    expect(pathOf(page)).toBe(`/t/${tenant.slug}/password`);
  });

  it('refuses a too-short new password and a mismatched confirmation, saying why, and keeps the user on the page', async () => {
    await page.fill('#currentPassword', temporaryPassword);
    await page.fill('#newPassword', SHORT_PASSWORD);
    await page.fill('#confirmPassword', SHORT_PASSWORD);
    const [tooShort] = await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    expect(tooShort?.status()).toBe(400);
    expect(pathOf(page)).toBe(`/t/${tenant.slug}/password`);
    const reasons = (await page.locator('[role=alert]').allTextContents()).join('\n');
    expect(reasons).toMatch(/15/);
    expect(reasons).toContain('新しいパスワード');

    await page.fill('#currentPassword', temporaryPassword);
    await page.fill('#newPassword', NEW_PASSWORD);
    await page.fill('#confirmPassword', `${NEW_PASSWORD}!`);
    const [mismatch] = await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    expect(mismatch?.status()).toBe(400);
    expect(await page.textContent('[role=alert]')).toBe('確認用のパスワードが一致しません。');

    // Nothing changed: the session is the same, and still one that must change its password.
    expect((await sessionCookie(context))?.value).toBe(firstSessionId);
    await page.goto(url('/account'));
    expect(pathOf(page)).toBe(`/t/${tenant.slug}/password`);
  });

  it('accepts a good new password, renews the session id and shows the account with display name and login ID', async () => {
    await page.fill('#currentPassword', temporaryPassword);
    await page.fill('#newPassword', NEW_PASSWORD);
    await page.fill('#confirmPassword', NEW_PASSWORD);
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    expect(pathOf(page)).toBe(`/t/${tenant.slug}/account`);
    expect(await page.textContent('#display-name')).toBe('山田 太郎');
    expect(await page.textContent('#login-id')).toBe(user.loginId);

    const cookie = await sessionCookie(context);
    expect(cookie).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Lax', path: '/' });
    expect(cookie?.value).not.toBe(firstSessionId);
    changedSessionId = cookie!.value;
    sessionIds.push(changedSessionId);

    // The id from before the change is dead.
    const stale = await fetch(url('/account'), { headers: { cookie: `${SESSION_COOKIE}=${firstSessionId}` }, redirect: 'manual' });
    expect(stale.status).toBe(303);
    expect(stale.headers.get('location')).toBe(`/t/${tenant.slug}/login`);
    const live = await fetch(url('/account'), { headers: { cookie: `${SESSION_COOKIE}=${changedSessionId}` }, redirect: 'manual' });
    expect(live.status).toBe(200);
  });

  it('signs out to the signed-out page, after which the account page redirects to sign-in', async () => {
    await Promise.all([page.waitForNavigation(), page.click('form[action$="/logout"] button[type=submit]')]);
    expect(pathOf(page)).toBe(`/t/${tenant.slug}/logged-out`);
    expect(await page.textContent('h1')).toBe('サインアウトしました');
    expect(await sessionCookie(context)).toBeUndefined();

    await page.goto(url('/account'));
    expect(pathOf(page)).toBe(`/t/${tenant.slug}/login`);
    // Ended on the server too, not only forgotten by the browser.
    const replay = await fetch(url('/account'), { headers: { cookie: `${SESSION_COOKIE}=${changedSessionId}` }, redirect: 'manual' });
    expect(replay.status).toBe(303);
    expect(replay.headers.get('location')).toBe(`/t/${tenant.slug}/login`);
  });

  it('signs in again with the new password straight to the account page; the one-time password is spent', async () => {
    await page.goto(url('/login'));
    const spent = await signIn(page, user.loginId, temporaryPassword);
    expect(spent?.status()).toBe(401);
    expect((await page.textContent('[role=alert]'))?.trim()).toBe(FAILED_JA);

    await signIn(page, user.loginId, NEW_PASSWORD);
    expect(pathOf(page)).toBe(`/t/${tenant.slug}/account`);
    expect(await page.textContent('#display-name')).toBe('山田 太郎');
    const cookie = await sessionCookie(context);
    expect([firstSessionId, changedSessionId]).not.toContain(cookie?.value);
    sessionIds.push(cookie!.value);
  });
});

describe('a sign-in POST without a valid CSRF token', () => {
  async function loginPageCookies(): Promise<{ csrf: string; cookieHeader: string }> {
    const res = await fetch(url('/login'), { headers: { 'accept-language': 'en' } });
    expect(res.status).toBe(200);
    const csrf = setCookies(res).get(CSRF_COOKIE);
    expect(csrf).toBeTruthy();
    return { csrf: csrf!, cookieHeader: `${CSRF_COOKIE}=${csrf}` };
  }

  const post = (form: Record<string, string>, cookie?: string, origin?: string) =>
    fetch(url('/login'), {
      method: 'POST',
      redirect: 'manual',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'accept-language': 'en',
        ...(cookie ? { cookie } : {}),
        ...(origin ? { origin } : {}),
      },
      body: new URLSearchParams(form).toString(),
    });

  it('is refused with 403 and opens no session, whichever part is missing or wrong', async () => {
    const before = (await auditEvents()).filter((e) => e.type === 'musubi.authn.login.succeeded.v1').length;
    const { csrf, cookieHeader } = await loginPageCookies();
    const credentials = { loginId: user.loginId, password: NEW_PASSWORD };
    const attempts = [
      // the cookie, but no field
      await post(credentials, cookieHeader),
      // the cookie, and another value in the field
      await post({ ...credentials, csrf: `${csrf.slice(0, -2)}AA` }, cookieHeader),
      // a cross-site form: the field guessed or copied, but the SameSite=Strict cookie not sent
      await post({ ...credentials, csrf }, undefined, 'https://evil.example'),
      // an empty field against an empty cookie
      await post({ ...credentials, csrf: '' }, `${CSRF_COOKIE}=`),
    ];
    for (const res of attempts) {
      expect(res.status).toBe(403);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await res.text()).toContain('This page has expired. Please try again.');
      expect(setCookies(res).has(SESSION_COOKIE)).toBe(false);
      expect(res.headers.get('location')).toBeNull();
    }
    // With the token it would have worked: the same request, field included.
    const ok = await post({ ...credentials, csrf }, cookieHeader);
    expect(ok.status).toBe(303);
    expect(setCookies(ok).has(SESSION_COOKIE)).toBe(true);
    sessionIds.push(setCookies(ok).get(SESSION_COOKIE)!);
    const succeeded = await waitFor('the one sign-in that had its token', async () => {
      const n = (await auditEvents()).filter((e) => e.type === 'musubi.authn.login.succeeded.v1').length;
      return n > before ? n : null;
    });
    await new Promise((r) => setTimeout(r, 500));
    expect((await auditEvents()).filter((e) => e.type === 'musubi.authn.login.succeeded.v1').length).toBe(succeeded);
    expect(succeeded).toBe(before + 1);
  });
});

describe('what the fleet kept of it', () => {
  it('records the sign-ins in the audit trail: failures, the one-time password, the password change and the new password', async () => {
    const events = await waitFor('the sign-in events', async () => {
      const items = await auditEvents();
      const ok = items.filter((e) => e.type === 'musubi.authn.login.succeeded.v1');
      return ok.length >= 3 && items.some((e) => e.type === 'musubi.authn.password.changed.v1') ? items : null;
    });
    const payloads = (type: string) => events.filter((e) => e.type === type).map((e) => e.payload as Record<string, unknown>);

    const succeeded = payloads('musubi.authn.login.succeeded.v1');
    expect(succeeded.map((p) => p['method']).sort()).toEqual(['pwd', 'pwd', 'temp_pwd']);
    for (const p of succeeded) expect(p).toMatchObject({ userId: user.id, loginId: user.loginId });

    const failed = payloads('musubi.authn.login.failed.v1');
    // wrong password, unknown login ID, the spent one-time password
    expect(failed).toHaveLength(3);
    expect(failed.filter((p) => p['userId'] === user.id)).toHaveLength(2);
    expect(failed).toContainEqual(expect.objectContaining({ loginId: `nobody@${tenant.platformDomain}`, userId: null }));
    for (const p of failed) expect(p['userAgent']).toEqual(expect.any(String));

    expect(payloads('musubi.authn.password.changed.v1')).toEqual([{ userId: user.id, via: 'self' }]);
    // No password made it into the trail.
    const trail = JSON.stringify(events);
    for (const pw of typedPasswords) expect(trail).not.toContain(pw);
  });

  it('logged none of the passwords or session ids, in any service', async () => {
    expect(sessionIds).toHaveLength(4);
    for (const service of SERVICE_NAMES) {
      const lines = f.logs(service);
      expect(lines.length).toBeGreaterThan(0);
      for (const secret of [...typedPasswords, ...sessionIds]) {
        const hit = lines.find((l) => l.includes(secret));
        expect({ service, hit: hit?.slice(0, 300) ?? null }).toEqual({ service, hit: null });
      }
    }
  });
});
