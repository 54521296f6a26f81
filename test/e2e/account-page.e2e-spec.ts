import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { ApiTokenView, MeView, TenantView, UserView } from '@musubi/contracts';
import { launchChromium } from '../support/browser.js';
import { operatorFetch, startTestFleet, type TestFleet } from '../support/test-fleet.js';
import { WebClient } from '../support/web-client.js';

/**
 * The self-service account page in headless Chromium: a user sees their own
 * recent sign-ins (failures too, a new device marked) and their own API
 * tokens (never a colleague's), and revokes one of them there.
 */

jest.setTimeout(30_000);

const NEW_PASSWORD = 'kaede-no-ha-ga-chiru-yoru-ni-2026';
let f: TestFleet;
let browser: Browser;
let tenant: TenantView;
let user: UserView;
let temporaryPassword: string;
let context: BrowserContext;
let page: Page;

const url = (path: string) => `${f.gatewayUrl}/t/${tenant.slug}${path}`;
const pathOf = (p: Page) => new URL(p.url()).pathname;

async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const res = await operatorFetch(f, path, init);
  if (res.status >= 300) throw new Error(`${init.method ?? 'GET'} ${path} → ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

async function person(local: string, roles: string[]): Promise<{ user: UserView; otp: string }> {
  const u = await api<UserView>(`/api/v1/tenants/${tenant.id}/users`, { method: 'POST', body: JSON.stringify({ loginId: `${local}@${tenant.platformDomain}`, roles }) });
  const otp = await api<{ temporaryPassword: string }>(`/api/v1/tenants/${tenant.id}/users/${u.id}/temporary-password`, { method: 'POST' });
  return { user: u, otp: otp.temporaryPassword };
}

/** Makes an API token in the admin API with the browser's own session (cookies and CSRF header). */
async function makeTokenAsBrowser(name: string): Promise<ApiTokenView> {
  const cookie = (await context.cookies(f.gatewayUrl)).map((c) => `${c.name}=${c.value}`).join('; ');
  const me = (await (await fetch(`${f.gatewayUrl}/api/v1/me`, { headers: { cookie } })).json()) as MeView;
  const res = await fetch(`${f.gatewayUrl}/api/v1/tenants/${tenant.id}/api-tokens`, {
    method: 'POST',
    headers: { cookie, 'content-type': 'application/json', 'x-csrf-token': me.csrfToken },
    body: JSON.stringify({ name, scopes: ['users:read'], expiresInDays: 30 }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { apiToken: ApiTokenView }).apiToken;
}

beforeAll(async () => {
  [f, browser] = await Promise.all([startTestFleet(), launchChromium()]);
  tenant = await api<TenantView>('/api/v1/tenants', { method: 'POST', body: JSON.stringify({ slug: 'kaede', displayName: 'Kaede Trading' }) });
  const me = await person('sato.hanako', ['auditor']);
  user = me.user;
  temporaryPassword = me.otp;
  // A colleague with a token of their own, which the user must never see.
  const colleague = await person('colleague', ['tenant_admin']);
  const web = new WebClient(f.gatewayUrl);
  await web.signIn(tenant.slug, colleague.user.loginId, colleague.otp, NEW_PASSWORD);
  const csrf = ((await (await web.fetch('/api/v1/me')).json()) as MeView).csrfToken;
  const made = await web.fetch(`/api/v1/tenants/${tenant.id}/api-tokens`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': csrf }, body: JSON.stringify({ name: 'colleague sync', scopes: ['users:read'], expiresInDays: 30 }) });
  expect(made.status).toBe(201);
  context = await browser.newContext({ locale: 'en-US' });
  page = await context.newPage();
}, 120_000);

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await f?.stop();
}, 60_000);

describe('the account page', () => {
  it('lists the user’s own sign-ins, a failed one too, marking the first from this browser as a new device', async () => {
    // One wrong password first, then the one-time password and the forced change.
    for (const password of ['not-the-password-at-all', temporaryPassword]) {
      await page.goto(url('/login'));
      await page.fill('#loginId', user.loginId);
      await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
      await page.fill('#password', password);
      await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    }
    expect(pathOf(page)).toBe(`/t/${tenant.slug}/password`);
    await page.fill('#currentPassword', temporaryPassword);
    await page.fill('#newPassword', NEW_PASSWORD);
    await page.fill('#confirmPassword', NEW_PASSWORD);
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    expect(pathOf(page)).toBe(`/t/${tenant.slug}/account`);
    expect(await page.textContent('h2 >> nth=1')).toBe('Recent sign-ins');

    // Audit records sign-ins from the event stream: reload until both have arrived.
    const deadline = Date.now() + 20_000;
    let entries: string[] = [];
    while (Date.now() < deadline) {
      entries = await page.locator('#logins li').allTextContents();
      if (entries.some((e) => e.includes('Succeeded')) && entries.some((e) => e.includes('Failed'))) break;
      await new Promise((r) => setTimeout(r, 300));
      await page.reload();
    }
    const success = entries.find((e) => e.includes('Succeeded'));
    expect(success).toContain('New device');
    expect(success).toMatch(/temp_pwd|pwd/);
    expect(entries.find((e) => e.includes('Failed'))).not.toContain('New device');
    expect(await page.locator('#logins li.failure').count()).toBe(1);
  });

  it('lists only the user’s own API tokens, and revokes one there', async () => {
    const mine = await makeTokenAsBrowser('laptop script');
    await page.goto(url('/account'));
    const tokens = page.locator('#api-tokens li.api-token');
    expect(await tokens.count()).toBe(1);
    const item = page.locator(`li[data-token-id="${mine.id}"]`);
    expect(await item.locator('.token-name').textContent()).toBe('laptop script');
    expect(await page.textContent('body')).not.toContain('colleague sync');

    await Promise.all([page.waitForNavigation(), item.locator('button[type=submit]').click()]);
    expect(pathOf(page)).toBe(`/t/${tenant.slug}/account`);
    expect(await page.locator(`li[data-token-id="${mine.id}"]`).textContent()).toContain('Revoked');
    const all = await api<{ items: ApiTokenView[] }>(`/api/v1/tenants/${tenant.id}/api-tokens`);
    expect(all.items.find((t) => t.id === mine.id)?.revokedAt).not.toBeNull();
    expect(all.items.find((t) => t.name === 'colleague sync')?.revokedAt).toBeNull();
  });

  it('refuses a revocation without the CSRF field or of a colleague’s token, changing nothing', async () => {
    const colleagues = (await api<{ items: ApiTokenView[] }>(`/api/v1/tenants/${tenant.id}/api-tokens`)).items.find((t) => t.name === 'colleague sync')!;
    const cookie = (await context.cookies(f.gatewayUrl)).map((c) => `${c.name}=${c.value}`).join('; ');
    const csrf = (await context.cookies(f.gatewayUrl)).find((c) => c.name === '__Host-musubi-csrf')!.value;
    const forms: Array<Record<string, string>> = [{ tokenId: colleagues.id }, { tokenId: colleagues.id, csrf }];
    for (const form of forms) {
      const res = await fetch(url('/account/api-tokens/revoke'), { method: 'POST', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString(), redirect: 'manual' });
      expect(res.status).toBe(303);
    }
    const after = (await api<{ items: ApiTokenView[] }>(`/api/v1/tenants/${tenant.id}/api-tokens`)).items.find((t) => t.id === colleagues.id);
    expect(after?.revokedAt).toBeNull();
  });

  it('speaks Japanese to a Japanese browser', async () => {
    const ja = await browser.newContext({ locale: 'ja-JP' });
    try {
      await ja.addCookies((await context.cookies(f.gatewayUrl)).map((c) => ({ ...c })));
      const p = await ja.newPage();
      await p.goto(url('/account'));
      expect(await p.locator('h2').allTextContents()).toEqual(expect.arrayContaining(['最近のサインイン', 'あなたの API トークン']));
    } finally {
      await ja.close();
    }
  });
});
