import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import iconv from 'iconv-lite';
import { JOB_EXPORTS_BUCKET, JOB_UPLOADS_BUCKET, MAX_IMPORT_BYTES, type CallContext, type ExportEncoding, type JobKind, type JobView, type TenantView } from '@musubi/contracts';
import { FileStore } from '@musubi/platform/bus';
import { asUser, createTenant, createUser, operator, schemaOf, startKit, streamMessages, waitFor, type Kit } from '@musubi/platform/testing';
import { directoryService } from '../src/service.js';

// The directory's own importers and exporters (users, groups, group members), through the job API.

let kit: Kit;
let uploads: FileStore;
let exportsStore: FileStore | undefined;

beforeAll(async () => {
  kit = await startKit({ schemas: [schemaOf(directoryService)] });
  uploads = await FileStore.open(kit.nc, { bucket: JOB_UPLOADS_BUCKET, replicas: 1, ttlHours: 1 }, true);
  await kit.start(directoryService);
}, 60_000);

afterAll(async () => {
  await kit?.stop();
}, 30_000);

async function runImport(tenant: TenantView, kind: JobKind, content: string | Buffer, ctx: CallContext = operator()): Promise<JobView> {
  const bytes = typeof content === 'string' ? Buffer.from(content) : content;
  const object = `${tenant.id}/${randomUUID()}/input`;
  await uploads.put(object, Readable.from([bytes]), MAX_IMPORT_BYTES);
  const queued = await kit.bus.request('musubi.directory.job.import.v1', { tenantId: tenant.id, jobId: randomUUID(), kind, file: { object, name: 'in.csv', bytes: bytes.length }, encoding: 'auto' }, ctx);
  return waitFor('the import', async () => {
    const j = await kit.bus.request('musubi.directory.job.get.v1', { tenantId: tenant.id, jobId: queued.id }, operator());
    return j.status === 'succeeded' || j.status === 'failed' ? j : null;
  }, 20_000);
}

async function runExport(tenant: TenantView, kind: JobKind, encoding: ExportEncoding = 'utf-8'): Promise<string> {
  const queued = await kit.bus.request('musubi.directory.job.export.v1', { tenantId: tenant.id, jobId: randomUUID(), kind, encoding }, operator());
  const done = await waitFor('the export', async () => {
    const j = await kit.bus.request('musubi.directory.job.get.v1', { tenantId: tenant.id, jobId: queued.id }, operator());
    return j.status === 'succeeded' || j.status === 'failed' ? j : null;
  }, 20_000);
  expect(done.status).toBe('succeeded');
  const where = await kit.bus.request('musubi.directory.job.result.v1', { tenantId: tenant.id, jobId: queued.id }, operator());
  exportsStore ??= await FileStore.open(kit.nc, { bucket: JOB_EXPORTS_BUCKET, replicas: 1, ttlHours: 1 }, false);
  const chunks: Buffer[] = [];
  for await (const c of (await exportsStore.get(where.object))!) chunks.push(c as Buffer);
  const bytes = Buffer.concat(chunks);
  return encoding === 'shift_jis' ? iconv.decode(bytes, 'cp932') : bytes.toString('utf8');
}

const usersOf = async (tenantId: string) =>
  kit.sql<{ login_id: string; display_name: string; status: string; family_name_kana: string | null; phones: unknown; department: string | null }>(
    "SELECT login_id, display_name, status, family_name_kana, phones, department FROM directory.users WHERE tenant_id = $1 AND status <> 'purged' ORDER BY login_id",
    [tenantId],
  );

describe('users by CSV', () => {
  it('adds users from a Shift_JIS file with Japanese headers, half-width kana and phones, as the API would', async () => {
    const t = await createTenant(kit);
    const d = t.platformDomain;
    const csv = iconv.encode(
      `ログインID,姓,名,姓カナ,名カナ,部署,電話番号,状態\r\nyamada@${d},山田,太郎,ﾔﾏﾀﾞ,ﾀﾛｳ,営業部,work:+81312345678|mobile:tel:+81-90-1234-5678,\r\nsato@${d},佐藤,花子,サトウ,ハナコ,,,無効\r\n`,
      'cp932',
    );
    const job = await runImport(t, 'import_users', csv);
    expect(job).toMatchObject({ status: 'succeeded', encoding: 'shift_jis', counts: { rows: 2, created: 2, updated: 0, deleted: 0 } });
    expect(await usersOf(t.id)).toEqual([
      { login_id: `sato@${d}`, display_name: '佐藤 花子', status: 'disabled', family_name_kana: 'サトウ', phones: [], department: null },
      {
        login_id: `yamada@${d}`,
        display_name: '山田 太郎',
        status: 'active',
        family_name_kana: 'ヤマダ',
        phones: [
          { name: null, type: 'work', value: '+81312345678' },
          { name: null, type: 'mobile', value: 'tel:+81-90-1234-5678' },
        ],
        department: '営業部',
      },
    ]);
    const created = (await streamMessages(kit, 'directory')).filter((m) => m.subject === 'musubi.directory.user.created.v1' && m.envelope.tenantId === t.id);
    expect(created).toHaveLength(2);
  });

  it('changes only the columns in the file, clears with an empty cell, disables, deletes, and counts what it did', async () => {
    const t = await createTenant(kit);
    const d = t.platformDomain;
    await createUser(kit, t, 'a', { familyName: '青木', department: '総務部', title: '課長' });
    await createUser(kit, t, 'b', { familyName: '馬場' });
    await createUser(kit, t, 'c', { familyName: '千葉' });
    const job = await runImport(t, 'import_users', `loginId,department,status,action\na@${d},,,\nb@${d},,disabled,\nc@${d},,,delete\nnew@${d},開発部,,\n`);
    expect(job).toMatchObject({ status: 'succeeded', counts: { rows: 4, created: 1, updated: 2, deleted: 1, unchanged: 0 } });
    const rows = await kit.sql<{ login_id: string; status: string; department: string | null; title: string | null }>(
      'SELECT login_id, status, department, title FROM directory.users WHERE tenant_id = $1 ORDER BY login_id',
      [t.id],
    );
    expect(rows).toEqual([
      { login_id: `a@${d}`, status: 'active', department: null, title: '課長' },
      { login_id: `b@${d}`, status: 'disabled', department: null, title: null },
      { login_id: `c@${d}`, status: 'pending_deletion', department: null, title: null },
      { login_id: `new@${d}`, status: 'active', department: '開発部', title: null },
    ]);
    const again = await runImport(t, 'import_users', `loginId,department,status,action\na@${d},,,\nb@${d},,disabled,\nc@${d},,,delete\nnew@${d},開発部,,\n`);
    expect(again.counts).toMatchObject({ created: 0, updated: 0, deleted: 0, unchanged: 4 });
  });

  it('keeps the users search in step: imported users are found by their new words and status, not their old ones', async () => {
    const t = await createTenant(kit);
    const d = t.platformDomain;
    const found = async (q: string, status?: 'active' | 'disabled' | 'pending_deletion') =>
      (await kit.bus.request('musubi.directory.user.list.v1', { tenantId: t.id, q, ...(status ? { status } : {}) }, operator())).items.map((u) => u.loginId);
    const applied = async (csv: string) => expect((await runImport(t, 'import_users', csv)).status).toBe('succeeded');
    await applied(`loginId,familyName,familyNameKana\nkoizumi@${d},小泉,コイズミ\nmori@${d},森,モリ\n`);
    expect(await found('こいずみ')).toEqual([`koizumi@${d}`]);
    expect(await found('もり')).toEqual([`mori@${d}`]);
    // An empty cell clears: mori's reading goes, its login ID and name stay.
    await applied(`loginId,familyNameKana,status\nkoizumi@${d},オオイズミ,\nmori@${d},,disabled\n`);
    expect(await found('こいずみ')).toEqual([]);
    expect(await found('おおいずみ')).toEqual([`koizumi@${d}`]);
    expect(await found('もり')).toEqual([]);
    expect(await found('森', 'disabled')).toEqual([`mori@${d}`]);
    expect(await found('mori', 'active')).toEqual([]);
    await applied(`loginId,action\nmori@${d},delete\n`);
    expect(await found('mori', 'pending_deletion')).toEqual([`mori@${d}`]);
  });

  it('checks every row against the directory first and writes nothing when one fails, naming row and column', async () => {
    const t = await createTenant(kit, { limits: { users: 3 } });
    const d = t.platformDomain;
    await createUser(kit, t, 'held');
    await kit.bus.request('musubi.directory.user.delete.v1', { tenantId: t.id, userId: (await createUser(kit, t, 'gone')).id }, operator());
    const csv = [
      'loginId,familyNameKana,email,phones,action',
      `ok@${d},ヤマダ,ok@example.com,,`, // row 2: fine
      `someone@example.com,,,,`, // row 3: not the tenant's domain
      `kana@${d},やまだ,,,`, // row 4: hiragana
      `mail@${d},,not-an-email,,`, // row 5
      `phone@${d},,,work:03-1234-5678,`, // row 6: not E.164 / RFC 3966
      `OK@${d},,,,`, // row 7: the same login ID as row 2
      `gone@${d},,,,`, // row 8: held by a user pending deletion
      `nobody@${d},,,,delete`, // row 9: nothing to delete
      `x@${d},,,,remove`, // row 10: unknown action
    ].join('\n');
    const job = await runImport(t, 'import_users', csv);
    expect(job.status).toBe('failed');
    expect(job.errors.map((e) => [e.row, e.column])).toEqual([
      [3, 'loginId'],
      [4, 'familyNameKana'],
      [5, 'email'],
      [6, 'phones'],
      [7, 'loginId'],
      [8, 'loginId'],
      [9, 'loginId'],
      [10, 'action'],
    ]);
    expect(job.errors[4]!.message).toBe('is also on row 2');
    expect(job.failure).toBe('8 problem(s) in the file; nothing was imported.');
    expect((await usersOf(t.id)).map((u) => u.login_id)).toEqual([`gone@${d}`, `held@${d}`]);
  });

  it("refuses users beyond the tenant's limit, counting disabled and deleted ones", async () => {
    const t = await createTenant(kit, { limits: { users: 3 } });
    const d = t.platformDomain;
    await kit.bus.request('musubi.directory.user.delete.v1', { tenantId: t.id, userId: (await createUser(kit, t, 'one')).id }, operator());
    const job = await runImport(t, 'import_users', `loginId\ntwo@${d}\nthree@${d}\nfour@${d}\n`);
    expect(job.status).toBe('failed');
    expect(job.errors).toEqual([{ row: 4, column: 'loginId', message: "would be user 4 of the tenant's limit of 3" }]);
    expect(await usersOf(t.id)).toHaveLength(1);
  });

  it("keeps administrators' hands off users from the directory sync where the tenant says so", async () => {
    const created = await createTenant(kit);
    const t = await kit.bus.request('musubi.directory.tenant.update.v1', { id: created.id, changes: { settings: { syncedUsersReadOnly: true } } }, operator());
    const d = t.platformDomain;
    await createUser(kit, t, 'synced', { externalId: 'AD-1' });
    const admin = asUser(t.id, undefined, ['tenant_admin']);
    const job = await runImport(t, 'import_users', `loginId,department,externalId\nsynced@${d},営業部,\nfresh@${d},,AD-2\n`, admin);
    expect(job.status).toBe('failed');
    expect(job.errors.map((e) => [e.row, e.column])).toEqual([
      [2, 'loginId'],
      [3, 'externalId'],
    ]);
    // The platform operator (standing in for the sync) may.
    expect((await runImport(t, 'import_users', `loginId,department\nsynced@${d},営業部\n`)).status).toBe('succeeded');
  });

  it('exports what it imports, Shift_JIS with ? for what it cannot hold, and the export reads back unchanged', async () => {
    const t = await createTenant(kit);
    const d = t.platformDomain;
    await createUser(kit, t, 'yoshino', { familyName: '𠮷野', givenName: '一郎', phones: [{ type: 'work', value: '+81312345678' }], extraEmails: ['a@example.com', 'b@example.com'] });
    const utf8 = await runExport(t, 'export_users');
    const [header, row] = utf8.split('\r\n');
    expect(header).toBe('loginId,displayName,familyName,givenName,familyNameKana,givenNameKana,email,department,title,locale,extraEmails,phones,ims,entitlements,personalEmail,personalMobile,externalId,appLinkingId,status');
    expect(row).toBe(`yoshino@${d},𠮷野 一郎,𠮷野,一郎,,,,,,ja-JP,a@example.com|b@example.com,work:+81312345678,,,,,,,active`);
    expect((await runExport(t, 'export_users', 'shift_jis')).split('\r\n')[1]).toMatch(/^yoshino@[^,]+,\?野 一郎,\?野,一郎,/);
    const back = await runImport(t, 'import_users', utf8);
    expect(back).toMatchObject({ status: 'succeeded', counts: { unchanged: 1, updated: 0, created: 0 } });
  });
});

describe('groups and members by CSV', () => {
  it('adds, changes and deletes groups by name, whatever its case', async () => {
    const t = await createTenant(kit);
    await kit.bus.request('musubi.directory.group.create.v1', { tenantId: t.id, name: 'Sales', description: 'old' }, operator());
    await kit.bus.request('musubi.directory.group.create.v1', { tenantId: t.id, name: 'Old' }, operator());
    const job = await runImport(t, 'import_groups', 'グループ名,説明,種別,処理\nsales,営業,,\n開発部,,organization,\nold,,,削除\n');
    expect(job).toMatchObject({ status: 'succeeded', counts: { created: 1, updated: 1, deleted: 1 } });
    expect(await runExport(t, 'export_groups')).toBe('name,email,description,type\r\nsales,,営業,security\r\n開発部,,,organization\r\n');
  });

  it('adds and removes members, users by login ID and groups by name, and refuses a cycle the file itself would close', async () => {
    const t = await createTenant(kit);
    const d = t.platformDomain;
    await createUser(kit, t, 'u1');
    for (const name of ['A', 'B', 'C']) await kit.bus.request('musubi.directory.group.create.v1', { tenantId: t.id, name }, operator());
    const ok = await runImport(t, 'import_group_members', `group,memberType,member\nA,group,B\nB,group,C\nC,user,u1@${d}\n`);
    expect(ok).toMatchObject({ status: 'succeeded', counts: { created: 3 } });
    expect(await runExport(t, 'export_group_members')).toBe(`group,memberType,member\r\nA,group,B\r\nB,group,C\r\nC,user,u1@${d}\r\n`);

    // C into A would close A → B → C → A; removing B from A first (row 2) makes it fine.
    const cycle = await runImport(t, 'import_group_members', `group,memberType,member\nC,group,A\nA,group,A\nC,user,nobody@${d}\n`);
    expect(cycle.status).toBe('failed');
    expect(cycle.errors.map((e) => [e.row, e.column, e.message.split(' ')[0]])).toEqual([
      [2, 'member', 'contains'],
      [3, 'member', 'is'],
      [4, 'member', 'is'],
    ]);
    const reordered = await runImport(t, 'import_group_members', `group,memberType,member,action\nA,group,B,delete\nC,group,A,\n`);
    expect(reordered).toMatchObject({ status: 'succeeded', counts: { created: 1, deleted: 1 } });
    const closure = await kit.sql<{ n: number }>(
      "SELECT count(*)::int AS n FROM directory.group_closure c JOIN directory.groups a ON a.id = c.ancestor_id JOIN directory.groups x ON x.id = c.descendant_id WHERE a.name = 'C' AND x.name = 'A' AND c.tenant_id = $1",
      [t.id],
    );
    expect(closure[0]!.n).toBe(1);
  });
});
