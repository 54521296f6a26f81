import { describe, expect, it } from '@jest/globals';
import type { ApiTokenView, CallContext, LoginHistoryEntry } from '@musubi/contracts';
import type { BusClient } from '@musubi/platform/bus';
import { accountSections, type AccountSectionsInput } from './account-sections.js';

const TENANT = '0190a1b2-0000-7000-8000-000000000001';
const USER = '0190a1b2-0000-7000-8000-000000000002';
const OTHER = '0190a1b2-0000-7000-8000-000000000003';

const login = (over: Partial<LoginHistoryEntry>): LoginHistoryEntry => ({
  id: '0190a1b2-0000-7000-8000-0000000000a1',
  occurredAt: '2026-11-22T01:00:00.000Z',
  occurredAtLocal: '2026-11-22T10:00:00+09:00',
  result: 'success',
  method: 'pwd',
  ip: '198.51.100.7',
  userAgent: 'Firefox',
  device: null,
  application: null,
  newDevice: false,
  ...over,
});

const token = (over: Partial<ApiTokenView>): ApiTokenView => ({
  id: '0190a1b2-0000-7000-8000-0000000000b1',
  tenantId: TENANT,
  name: 'sync',
  scopes: ['users:read'],
  createdBy: USER,
  createdAt: '2026-11-01T00:00:00.000Z',
  expiresAt: '2099-01-01T00:00:00.000Z',
  lastUsedAt: null,
  revokedAt: null,
  prefix: 'msb_abcdef',
  ...over,
});

/** A bus that answers the two subjects from fixtures (or fails them), and records who asked. */
function bus(history: LoginHistoryEntry[] | Error, tokens: ApiTokenView[] | Error, seen: CallContext[] = []): BusClient {
  return {
    request: async (subject: string, _payload: unknown, ctx: CallContext) => {
      seen.push(ctx);
      const answer = subject === 'musubi.audit.login-history.list.v1' ? history : tokens;
      if (answer instanceof Error) throw answer;
      return subject === 'musubi.audit.login-history.list.v1' ? { timeZone: 'Asia/Tokyo', items: answer } : { items: answer };
    },
  } as unknown as BusClient;
}

const input = (lang: 'ja' | 'en' = 'en'): AccountSectionsInput => ({
  tenantId: TENANT,
  userId: USER,
  slug: 'acme',
  lang,
  timeZone: 'Asia/Tokyo',
  csrf: 'csrf-token-value',
  ctx: { requestId: 'r1', tenantId: TENANT, caller: { kind: 'anonymous' } },
});

describe('the account page sections', () => {
  it('ask as the user themselves, with no roles (so only their own data comes back)', async () => {
    const seen: CallContext[] = [];
    await accountSections(bus([], [], seen), input());
    expect(seen).toHaveLength(2);
    for (const ctx of seen) expect(ctx.caller).toEqual({ kind: 'user', userId: USER, tenantId: TENANT, roles: [] });
  });

  it('mark a successful sign-in from a new device, never a failed one', async () => {
    const html = await accountSections(bus([login({ newDevice: true }), login({ result: 'failure', newDevice: true })], []), input());
    expect(html.match(/class="new-device"/g)).toHaveLength(1);
    expect(html).toContain('<li class="login failure">');
  });

  it('escape what users and clients chose (token names, user agents)', async () => {
    const html = await accountSections(bus([login({ userAgent: '<script>alert(1)</script>' })], [token({ name: '<img src=x onerror=alert(1)>' })]), input());
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });

  it("list only the user's own tokens, with a CSRF-protected revoke form for live ones", async () => {
    const html = await accountSections(bus([], [token({ name: 'mine' }), token({ id: '0190a1b2-0000-7000-8000-0000000000b2', name: 'theirs', createdBy: OTHER }), token({ id: '0190a1b2-0000-7000-8000-0000000000b3', name: 'old', revokedAt: '2026-11-02T00:00:00.000Z' })]), input());
    expect(html).toContain('mine');
    expect(html).not.toContain('theirs');
    expect(html.match(/action="\/t\/acme\/account\/api-tokens\/revoke"/g)).toHaveLength(1);
    expect(html).toContain('name="csrf" value="csrf-token-value"');
    expect(html).toContain('Revoked');
  });

  it('say so when a service does not answer, and still show the other section', async () => {
    const html = await accountSections(bus(new Error('audit down'), [token({ name: 'mine' })]), input('ja'));
    expect(html).toContain('id="logins-unavailable"');
    expect(html).toContain('サインインの記録を今は表示できません。');
    expect(html).toContain('mine');
  });
});
