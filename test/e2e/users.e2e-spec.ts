import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { TenantView, UserView } from '@musubi/contracts';
import { operatorFetch, startTestFleet, type TestFleet } from '../support/test-fleet.js';
import { consoleSession, operatorJson, type ConsoleSession } from '../support/admin-api.js';

// Users through the gateway, as an operator's script and an admin console use them:
// ETags and If-Match, the list with its filters and cursors, the lifecycle, and
// what administrators of one tenant can do to another (nothing).

let f: TestFleet;
let acme: TenantView;
let globex: TenantView;

interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

interface ProblemBody {
  code: string;
  errors?: Array<{ pointer: string }>;
}

const api = <T>(path: string, init: RequestInit = {}) => operatorJson<T>(f, path, init);

const problemOf = async (res: Response): Promise<ProblemBody> => {
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  return (await res.json()) as ProblemBody;
};

const usersUrl = (tenant: TenantView) => `/api/v1/tenants/${tenant.id}/users`;

const create = (tenant: TenantView, local: string, fields: Record<string, unknown> = {}) =>
  api<UserView>(usersUrl(tenant), { method: 'POST', body: JSON.stringify({ loginId: `${local}@${tenant.platformDomain}`, ...fields }) });

const signedIn = (tenant: TenantView, local: string, roles: string[]) => consoleSession(f, tenant, local, roles);

/** A request from a signed-in console: JSON with the CSRF token. */
const consoleFetch = (who: ConsoleSession, path: string, init: RequestInit = {}) =>
  who.web.fetch(path, { ...init, headers: { 'content-type': 'application/json', 'x-csrf-token': who.csrf, ...(init.headers as Record<string, string> | undefined) } });

beforeAll(async () => {
  // Settings other services require that the test fleet does not provide yet (as groups.e2e-spec does for audit).
  const auditKey = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  f = await startTestFleet({ extra: { AUDIT_SIGNING_KEY: auditKey, OIDC_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64') } });
  acme = await api<TenantView>('/api/v1/tenants', { method: 'POST', body: JSON.stringify({ slug: 'acme', displayName: 'Acme 株式会社' }) });
  globex = await api<TenantView>('/api/v1/tenants', { method: 'POST', body: JSON.stringify({ slug: 'globex', displayName: 'Globex' }) });
}, 120_000);

afterAll(async () => {
  await f?.stop();
}, 60_000);

describe('a user through the admin API', () => {
  it('creates with a Location and an ETag, reads it back, and changes it only with a current If-Match', async () => {
    const res = await operatorFetch(f, usersUrl(acme), {
      method: 'POST',
      body: JSON.stringify({
        loginId: `taro.yamada@${acme.platformDomain}`,
        familyName: '山田',
        givenName: '太郎',
        familyNameKana: 'ﾔﾏﾀﾞ',
        givenNameKana: 'タロウ',
        phones: [{ name: '直通', value: 'tel:+81-3-1234-5678', type: 'work' }],
        personalMobile: 'tel:+81-90-1234-5678',
      }),
    });
    expect(res.status).toBe(201);
    const taro = (await res.json()) as UserView;
    expect(taro).toMatchObject({ displayName: '山田 太郎', familyNameKana: 'ヤマダ', status: 'active', version: 1 });
    expect(res.headers.get('location')).toBe(`${usersUrl(acme)}/${taro.id}`);
    expect(res.headers.get('etag')).toBe('"v1"');

    const read = await operatorFetch(f, `${usersUrl(acme)}/${taro.id}`);
    expect(read.headers.get('etag')).toBe('"v1"');
    expect(await read.json()).toEqual(taro);

    const patch = (headers: Record<string, string>, body: object) =>
      operatorFetch(f, `${usersUrl(acme)}/${taro.id}`, { method: 'PATCH', headers, body: JSON.stringify(body) });
    const changed = await patch({ 'if-match': '"v1"' }, { department: '営業部', phones: [] });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).toBe('"v2"');
    expect(await changed.json()).toMatchObject({ department: '営業部', phones: [], version: 2 });

    const stale = await patch({ 'if-match': '"v1"' }, { title: 'stale' });
    expect(stale.status).toBe(412);
    expect((await problemOf(stale)).code).toBe('precondition_failed');
    expect((await problemOf(await patch({ 'if-match': 'W/"v2"' }, { title: 'weak' }))).code).toBe('precondition_failed');
    // Without If-Match the change applies to whatever is current (as for groups).
    expect((await patch({}, { title: '課長' })).status).toBe(200);
    expect(await api<UserView>(`${usersUrl(acme)}/${taro.id}`)).toMatchObject({ department: '営業部', title: '課長', version: 3 });
  });

  it('refuses bad fields with 400, each named, and writes nothing', async () => {
    const res = await operatorFetch(f, usersUrl(acme), {
      method: 'POST',
      body: JSON.stringify({
        loginId: `bad@${acme.platformDomain}`,
        email: 'nope',
        locale: 'fr-FR',
        phones: [{ value: '03-1234-5678', type: 'work' }],
        extraEmails: ['a@x.example', 'b@x.example', 'c@x.example', 'd@x.example', 'e@x.example'],
      }),
    });
    expect(res.status).toBe(400);
    const problem = await problemOf(res);
    expect(problem.code).toBe('validation_failed');
    expect(new Set(problem.errors?.map((e) => e.pointer))).toEqual(new Set(['/email', '/locale', '/phones/0/value', '/extraEmails']));

    const foreign = await operatorFetch(f, usersUrl(acme), { method: 'POST', body: JSON.stringify({ loginId: `bad@${globex.platformDomain}` }) });
    expect(foreign.status).toBe(400);
    expect((await problemOf(foreign)).errors?.map((e) => e.pointer)).toEqual(['/loginId']);
    const found = await api<Page<UserView>>(`${usersUrl(acme)}?q=bad`);
    expect(found.items).toEqual([]);
  });

  it('disables, enables, deletes (pending deletion, login ID kept) and restores, each with If-Match', async () => {
    const u = await create(acme, 'lifecycle');
    const post = (verb: string, ifMatch?: string, body?: object) =>
      operatorFetch(f, `${usersUrl(acme)}/${u.id}${verb === 'delete' ? '' : `/${verb}`}`, {
        method: verb === 'delete' ? 'DELETE' : 'POST',
        headers: ifMatch ? { 'if-match': ifMatch } : {},
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
    const disabled = await post('disable', '"v1"', { reason: '休職' });
    expect(disabled.status).toBe(200);
    expect(disabled.headers.get('etag')).toBe('"v2"');
    expect(await disabled.json()).toMatchObject({ status: 'disabled' });
    expect((await post('disable')).status).toBe(409);
    expect((await post('enable', '"v1"')).status).toBe(412);
    expect(await (await post('enable', '"v2"')).json()).toMatchObject({ status: 'active', version: 3 });

    const deleted = await post('delete', '"v3"', { reason: '退職' });
    expect(deleted.status).toBe(200);
    expect(await deleted.json()).toMatchObject({ status: 'pending_deletion', version: 4 });
    const again = await operatorFetch(f, usersUrl(acme), { method: 'POST', body: JSON.stringify({ loginId: `LIFECYCLE@${acme.platformDomain}` }) });
    expect(again.status).toBe(409);
    expect((await problemOf(again)).code).toBe('login_id_taken');
    const pending = await api<Page<UserView>>(`${usersUrl(acme)}?status=pending_deletion`);
    expect(pending.items.map((x) => x.id)).toEqual([u.id]);

    expect(await (await post('restore')).json()).toMatchObject({ status: 'active', deletedAt: null, version: 5 });
  });
});

describe('the users list', () => {
  let listed: Awaited<ReturnType<typeof create>>[];
  beforeAll(async () => {
    listed = [];
    const names: Array<[string, string, string, string]> = [
      ['list.suzuki', '鈴木', 'スズキ', 'EXT-1'],
      ['list.sato', '佐藤', 'サトウ', 'EXT-2'],
      ['list.tanaka', '田中', 'タナカ', 'EXT-3'],
      ['list.ito', '伊藤', 'イトウ', 'EXT-4'],
      ['list.kato', '加藤', 'カトウ', 'EXT-5'],
    ];
    for (const [local, family, kana, ext] of names) listed.push(await create(globex, local, { familyName: family, familyNameKana: kana, externalId: ext }));
  });

  it('pages with cursors in every sort, both ways', async () => {
    for (const sort of ['loginId', 'displayName', 'familyNameKana', 'createdAt', 'updatedAt']) {
      for (const order of ['asc', 'desc']) {
        const ids: string[] = [];
        let url = `${usersUrl(globex)}?sort=${sort}&order=${order}&limit=2&q=list`;
        for (let i = 0; i < 10; i++) {
          const page = await api<Page<UserView>>(url);
          ids.push(...page.items.map((u) => u.id));
          if (!page.nextCursor) break;
          url = `${usersUrl(globex)}?sort=${sort}&order=${order}&limit=2&q=list&cursor=${encodeURIComponent(page.nextCursor)}`;
        }
        expect(new Set(ids)).toEqual(new Set(listed.map((u) => u.id)));
        expect(ids).toHaveLength(listed.length);
      }
    }
    const byKana = await api<Page<UserView>>(`${usersUrl(globex)}?sort=familyNameKana&q=list`);
    expect(byKana.items.map((u) => u.familyNameKana)).toEqual(['イトウ', 'カトウ', 'サトウ', 'スズキ', 'タナカ']);
  });

  it('searches names, kana (hiragana too) and external IDs, and filters by domain', async () => {
    const q = async (query: string) => (await api<Page<UserView>>(`${usersUrl(globex)}?q=${encodeURIComponent(query)}`)).items.map((u) => u.loginId);
    expect(await q('さとう')).toEqual([`list.sato@${globex.platformDomain}`]);
    expect(await q('鈴木')).toEqual([`list.suzuki@${globex.platformDomain}`]);
    expect(await q('ext-3')).toEqual([`list.tanaka@${globex.platformDomain}`]);
    expect((await api<Page<UserView>>(`${usersUrl(globex)}?domain=${globex.platformDomain}&limit=200`)).items).toHaveLength(listed.length);
  });

  it('refuses unknown parameters and bad values with 400 naming them', async () => {
    for (const [query, pointer] of [
      ['sort=password', '/query/sort'],
      ['limit=0', '/query/limit'],
      ['status=purged', '/query/status'],
      ['groupId=x', '/query/groupId'],
      ['cursor=AAAA', '/cursor'],
      ['debug=1', '/query/debug'],
    ]) {
      const res = await operatorFetch(f, `${usersUrl(globex)}?${query}`);
      expect(res.status).toBe(400);
      expect((await problemOf(res)).errors?.map((e) => e.pointer)).toContain(pointer);
    }
  });
});

describe('roles and tenants', () => {
  let acmeAdmin: Awaited<ReturnType<typeof signedIn>>;
  let acmeHelpdesk: Awaited<ReturnType<typeof signedIn>>;
  let globexAdmin: Awaited<ReturnType<typeof signedIn>>;
  let target: UserView;

  beforeAll(async () => {
    acmeAdmin = await signedIn(acme, 'admin', ['tenant_admin']);
    acmeHelpdesk = await signedIn(acme, 'helpdesk', ['helpdesk']);
    globexAdmin = await signedIn(globex, 'admin', ['tenant_admin']);
    target = await create(acme, 'target', { familyName: '標的' });
  }, 60_000);

  it("lets the tenant's administrator manage its users from the console", async () => {
    const res = await consoleFetch(acmeAdmin, `${usersUrl(acme)}/${target.id}`, { method: 'PATCH', headers: { 'if-match': '"v1"' }, body: JSON.stringify({ title: '主任' }) });
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe('"v2"');
    const list = await consoleFetch(acmeAdmin, `${usersUrl(acme)}?q=${encodeURIComponent('標的')}`);
    expect(((await list.json()) as Page<UserView>).items.map((u) => u.id)).toEqual([target.id]);
  });

  it('lets helpdesk read users but not change them', async () => {
    expect((await consoleFetch(acmeHelpdesk, `${usersUrl(acme)}/${target.id}`)).status).toBe(200);
    expect((await consoleFetch(acmeHelpdesk, usersUrl(acme))).status).toBe(200);
    for (const [method, path, body] of [
      ['PATCH', `/${target.id}`, { title: 'x' }],
      ['POST', `/${target.id}/disable`, {}],
      ['DELETE', `/${target.id}`, {}],
      ['POST', '', { loginId: `hd@${acme.platformDomain}` }],
    ] as const) {
      const res = await consoleFetch(acmeHelpdesk, `${usersUrl(acme)}${path}`, { method, body: JSON.stringify(body) });
      expect(res.status).toBe(403);
    }
  });

  it("answers 404 to another tenant's administrator for everything about these users", async () => {
    const before = await api<UserView>(`${usersUrl(acme)}/${target.id}`);
    const attempts: Array<[string, string, object | undefined]> = [
      ['GET', `${usersUrl(acme)}/${target.id}`, undefined],
      ['GET', usersUrl(acme), undefined],
      ['PATCH', `${usersUrl(acme)}/${target.id}`, { title: 'pwned' }],
      ['POST', `${usersUrl(acme)}/${target.id}/disable`, {}],
      ['DELETE', `${usersUrl(acme)}/${target.id}`, {}],
      ['POST', usersUrl(acme), { loginId: `intruder@${acme.platformDomain}` }],
      // Their own tenant in the path with our user's id.
      ['GET', `${usersUrl(globex)}/${target.id}`, undefined],
      ['PATCH', `${usersUrl(globex)}/${target.id}`, { title: 'pwned' }],
      ['POST', `${usersUrl(globex)}/${target.id}/disable`, {}],
    ];
    for (const [method, path, body] of attempts) {
      const res = await consoleFetch(globexAdmin, path, { method, ...(body ? { body: JSON.stringify(body) } : {}) });
      expect([method, path, res.status]).toEqual([method, path, 404]);
    }
    expect(await api<UserView>(`${usersUrl(acme)}/${target.id}`)).toEqual(before);
  });
});
