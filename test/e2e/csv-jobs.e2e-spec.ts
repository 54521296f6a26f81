import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import iconv from 'iconv-lite';
import type { JobError, JobView, TenantView, UserView } from '@musubi/contracts';
import { waitFor } from '@musubi/platform/testing';
import { operatorFetch, startTestFleet, type TestFleet } from '../support/test-fleet.js';
import { consoleSession, operatorJson, type ConsoleSession } from '../support/admin-api.js';

// Bulk CSV jobs through the gateway, as an administrator's console and an operator's script use them.

let f: TestFleet;
let acme: TenantView;
let globex: TenantView;

interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

const api = <T>(path: string, init: RequestInit = {}) => operatorJson<T>(f, path, init);

const jobsUrl = (t: TenantView) => `/api/v1/tenants/${t.id}/jobs`;
const upload = (t: TenantView, what: string, body: Buffer | string, query = '') =>
  operatorFetch(f, `${jobsUrl(t)}/${what}?kind=users${query}`, { method: 'POST', headers: { 'content-type': 'text/csv' }, body });

async function finished(t: TenantView, id: string, get: (path: string) => Promise<Response> = (p) => operatorFetch(f, p)): Promise<JobView> {
  return waitFor(
    'the job to finish',
    async () => {
      const job = (await (await get(`${jobsUrl(t)}/${id}`)).json()) as JobView;
      return job.status === 'succeeded' || job.status === 'failed' ? job : null;
    },
    30_000,
    100,
  );
}

beforeAll(async () => {
  const auditKey = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  f = await startTestFleet({ extra: { AUDIT_SIGNING_KEY: auditKey } });
  acme = await api<TenantView>('/api/v1/tenants', { method: 'POST', body: JSON.stringify({ slug: 'acme', displayName: 'Acme' }) });
  globex = await api<TenantView>('/api/v1/tenants', { method: 'POST', body: JSON.stringify({ slug: 'globex', displayName: 'Globex' }) });
}, 120_000);

afterAll(async () => {
  await f?.stop();
}, 60_000);

describe('importing users', () => {
  it('previews a Shift_JIS file, imports it as a job, and the users are there', async () => {
    const d = acme.platformDomain;
    const rows = Array.from({ length: 12 }, (_, i) => `user${i}@${d},山田,${i}郎,ﾔﾏﾀﾞ`);
    const file = iconv.encode(['ログインID,姓,名,姓カナ', ...rows].join('\r\n'), 'cp932');

    const preview = await upload(acme, 'previews', file);
    expect(preview.status).toBe(200);
    expect(await preview.json()).toMatchObject({ encoding: 'shift_jis', columns: ['ログインID', '姓', '名', '姓カナ'], unknownColumns: [], rows: expect.arrayContaining([{ ログインID: `user0@${d}`, 姓: '山田', 名: '0郎', 姓カナ: 'ﾔﾏﾀﾞ' }]) });

    const res = await upload(acme, 'imports', file, '&fileName=%E7%A4%BE%E5%93%A1.csv');
    expect(res.status).toBe(202);
    const queued = (await res.json()) as JobView;
    expect(res.headers.get('location')).toBe(`${jobsUrl(acme)}/${queued.id}`);
    expect(queued).toMatchObject({ kind: 'import_users', status: 'queued', fileName: '社員.csv', fileBytes: file.length });
    const job = await finished(acme, queued.id);
    expect(job).toMatchObject({ status: 'succeeded', encoding: 'shift_jis', counts: { rows: 12, created: 12 }, errorCount: 0 });
    expect(job.startedAt && job.finishedAt && job.startedAt <= job.finishedAt).toBe(true);
    const users = await api<Page<UserView>>(`/api/v1/tenants/${acme.id}/users?q=user1&limit=50`);
    expect(users.items.map((u) => u.loginId).sort()).toEqual([`user10@${d}`, `user11@${d}`, `user1@${d}`].sort());
    expect(users.items.find((u) => u.loginId === `user1@${d}`)).toMatchObject({ displayName: '山田 1郎', familyNameKana: 'ヤマダ' });
  });

  it('fails a file with bad rows as a whole, listing every problem by row and column', async () => {
    const d = acme.platformDomain;
    const lines = ['loginId,email', `ok@${d},`, ...Array.from({ length: 150 }, (_, i) => `bad${i}@${d},not-an-email`), `outsider@example.com,`];
    const job = await finished(acme, ((await (await upload(acme, 'imports', lines.join('\n'))).json()) as JobView).id);
    expect(job).toMatchObject({ status: 'failed', errorCount: 151, failure: '151 problem(s) in the file; nothing was imported.' });
    expect(job.errors).toHaveLength(100);
    const first = await api<Page<JobError>>(`${jobsUrl(acme)}/${job.id}/errors?limit=100`);
    const rest = await api<Page<JobError>>(`${jobsUrl(acme)}/${job.id}/errors?limit=100&cursor=${first.nextCursor}`);
    expect(rest.nextCursor).toBeNull();
    const all = [...first.items, ...rest.items];
    expect(all).toHaveLength(151);
    expect(all[0]).toEqual({ row: 3, column: 'email', message: expect.any(String) });
    expect(all[150]).toMatchObject({ row: 153, column: 'loginId' });
    expect((await api<Page<UserView>>(`/api/v1/tenants/${acme.id}/users?q=ok&limit=50`)).items).toEqual([]);
  });

  it('refuses what is not CSV, JSON on the upload routes, and CSV on the JSON routes, with 415', async () => {
    const asJson = await operatorFetch(f, `${jobsUrl(acme)}/imports?kind=users`, { method: 'POST', body: JSON.stringify({ loginId: 'x' }) });
    expect(asJson.status).toBe(415);
    const csvElsewhere = await operatorFetch(f, `/api/v1/tenants/${acme.id}/groups`, { method: 'POST', headers: { 'content-type': 'text/csv' }, body: 'name\nx\n' });
    expect(csvElsewhere.status).toBe(415);
    const noKind = await operatorFetch(f, `${jobsUrl(acme)}/imports`, { method: 'POST', headers: { 'content-type': 'text/csv' }, body: 'loginId\n' });
    expect(noKind.status).toBe(400);
  });

  it('refuses a file over 50 MB with 413 and keeps nothing of it', async () => {
    const big = Buffer.alloc(50 * 1024 * 1024 + 1, 0x61);
    const res = await upload(acme, 'imports', big);
    expect(res.status).toBe(413);
    expect(((await res.json()) as { code: string }).code).toBe('payload_too_large');
  });
});

describe('exporting', () => {
  it('exports users as Shift_JIS with ? for what it cannot hold, as a download', async () => {
    await api<UserView>(`/api/v1/tenants/${globex.id}/users`, { method: 'POST', body: JSON.stringify({ loginId: `yoshino@${globex.platformDomain}`, familyName: '𠮷野', givenName: '花' }) });
    const res = await operatorFetch(f, `${jobsUrl(globex)}/exports`, { method: 'POST', body: JSON.stringify({ kind: 'users', encoding: 'shift_jis' }) });
    expect(res.status).toBe(202);
    const job = await finished(globex, ((await res.json()) as JobView).id);
    expect(job).toMatchObject({ status: 'succeeded', counts: { exported: 1 }, resultAvailable: true });
    const file = await operatorFetch(f, `${jobsUrl(globex)}/${job.id}/file`);
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toBe('text/csv; charset=Shift_JIS');
    expect(file.headers.get('content-disposition')).toMatch(/^attachment; filename="users-\d{4}-\d{2}-\d{2}\.csv"/);
    const text = iconv.decode(Buffer.from(await file.arrayBuffer()), 'cp932');
    expect(text.split('\r\n')[1]).toMatch(new RegExp(`^yoshino@${globex.platformDomain.replace(/\./g, '\\.')},\\?野 花,\\?野,花,`));
  });
});

describe('who may run and read jobs', () => {
  let admin: ConsoleSession;
  let auditor: ConsoleSession;
  let theirAdmin: ConsoleSession;

  beforeAll(async () => {
    admin = await consoleSession(f, acme, 'jobs-admin', ['tenant_admin']);
    auditor = await consoleSession(f, acme, 'jobs-auditor', ['auditor']);
    theirAdmin = await consoleSession(f, globex, 'their-admin', ['tenant_admin']);
  }, 60_000);

  const csvPost = (who: ConsoleSession, t: TenantView, csrf = true) =>
    who.web.fetch(`${jobsUrl(t)}/imports?kind=groups`, { method: 'POST', headers: { 'content-type': 'text/csv', ...(csrf ? { 'x-csrf-token': who.csrf } : {}) }, body: 'name\nConsole group\n' });

  it("lets the tenant's administrator import from the console, with the CSRF header only", async () => {
    expect((await csvPost(admin, acme, false)).status).toBe(403);
    const res = await csvPost(admin, acme);
    expect(res.status).toBe(202);
    const job = await finished(acme, ((await res.json()) as JobView).id, (p) => admin.web.fetch(p));
    expect(job).toMatchObject({ status: 'succeeded', counts: { created: 1 }, createdBy: { kind: 'user' } });
  });

  it('lets an auditor read the job history but not run a job', async () => {
    const history = (await (await auditor.web.fetch(jobsUrl(acme))).json()) as Page<JobView>;
    expect(history.items.length).toBeGreaterThanOrEqual(3);
    expect(history.items[0]!.kind).toBe('import_groups');
    expect((await csvPost(auditor, acme)).status).toBe(403);
  });

  it("answers 404 to another tenant's administrator for the jobs, their errors and their files", async () => {
    const history = await api<Page<JobView>>(jobsUrl(acme));
    const id = history.items[0]!.id;
    for (const path of [jobsUrl(acme), `${jobsUrl(acme)}/${id}`, `${jobsUrl(acme)}/${id}/errors`, `${jobsUrl(acme)}/${id}/file`]) {
      expect({ path, status: (await theirAdmin.web.fetch(path)).status }).toEqual({ path, status: 404 });
    }
    expect((await csvPost(theirAdmin, acme)).status).toBe(404);
    // Through its own tenant's URL, our job does not exist either.
    expect((await theirAdmin.web.fetch(`${jobsUrl(globex)}/${id}`)).status).toBe(404);
  });
});
