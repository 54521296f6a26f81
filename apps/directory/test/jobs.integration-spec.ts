import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import iconv from 'iconv-lite';
import { JOB_EXPORTS_BUCKET, JOB_UPLOADS_BUCKET, MAX_IMPORT_BYTES, type JobView, type TenantView } from '@musubi/contracts';
import { FileStore } from '@musubi/platform/bus';
import { managerOf } from '@musubi/platform/db';
import type { RunningService } from '@musubi/platform/runtime';
import { asUser, createTenant, expectError, operator, schemaOf, startKit, streamMessages, waitFor, type Kit } from '@musubi/platform/testing';
import { JobKinds, type CsvImporter } from '../src/jobs/kinds.js';
import { directoryService } from '../src/service.js';

// The job framework with a test importer (rows of `name,age` into a scratch table) and
// exporter registered into the running directory, exactly as features register theirs.

let kit: Kit;
let svc: RunningService;
let uploads: FileStore;
let exportsStore: FileStore;
let tenant: TenantView;

const importer: CsvImporter<{ name: string; age: number }> = {
  kind: 'import_groups',
  columns: [{ name: 'name', aliases: ['名前'], required: true }, { name: 'age', aliases: ['年齢'] }],
  async begin() {
    const seen = new Set<string>();
    return {
      async check(values, row) {
        const issues = [];
        const name = values['name'] ?? '';
        if (!name) issues.push({ column: 'name', message: 'is required' });
        const age = values['age'] === undefined || values['age'] === '' ? 0 : Number(values['age']);
        if (!Number.isInteger(age) || age < 0) issues.push({ column: 'age', message: 'must be a whole number' });
        if (seen.has(name)) issues.push({ column: 'name', message: `is also on an earlier row` });
        seen.add(name);
        void row;
        return issues.length ? { issues } : { op: { name, age } };
      },
      async finish() {
        return [];
      },
      async apply(tx, ops, progress) {
        for (const op of ops) await managerOf(tx).query('INSERT INTO directory.test_rows (name, age) VALUES ($1, $2)', [op.name, op.age]);
        await progress(ops.length);
        return { created: ops.length, updated: 0, deleted: 0, unchanged: 0 };
      },
    };
  },
};

beforeAll(async () => {
  kit = await startKit({ schemas: [schemaOf(directoryService)] });
  uploads = await FileStore.open(kit.nc, { bucket: JOB_UPLOADS_BUCKET, replicas: 1, ttlHours: 1 }, true);
  svc = await kit.start(directoryService);
  await kit.sql('CREATE TABLE directory.test_rows (name text NOT NULL, age int NOT NULL)');
  await kit.sql('GRANT ALL ON directory.test_rows TO musubi_t_directory');
  const kinds = svc.app.get(JobKinds, { strict: false });
  kinds.registerImporter(importer);
  kinds.registerExporter({
    kind: 'export_groups',
    columns: ['name', 'note'],
    async *rows() {
      yield ['山田', 'ＡＢＣ①'];
      yield ['𠮷野家', 'emoji 😀 and a, comma'];
    },
  });
  tenant = await createTenant(kit);
}, 60_000);

afterAll(async () => {
  await kit?.stop();
});

async function upload(bytes: Buffer, t = tenant): Promise<{ object: string; name: string; bytes: number }> {
  const object = `${t.id}/${randomUUID()}/input`;
  await uploads.put(object, Readable.from([bytes]), MAX_IMPORT_BYTES);
  return { object, name: 'people.csv', bytes: bytes.length };
}

async function runImport(bytes: Buffer, encoding: 'auto' | 'utf-8' | 'shift_jis' = 'auto'): Promise<JobView> {
  const queued = await kit.bus.request('musubi.directory.job.import.v1', { tenantId: tenant.id, jobId: randomUUID(), kind: 'import_groups', file: await upload(bytes), encoding }, operator());
  expect(queued.status).toBe('queued');
  return waitFor('the job to finish', async () => {
    const j = await kit.bus.request('musubi.directory.job.get.v1', { tenantId: tenant.id, jobId: queued.id }, operator());
    return j.status === 'succeeded' || j.status === 'failed' ? j : null;
  }, 20_000);
}

const rowsInTable = async () => (await kit.sql<{ name: string; age: number }>('SELECT name, age FROM directory.test_rows ORDER BY name')).map((r) => `${r.name}:${r.age}`);

describe('imports', () => {
  it('reads UTF-8 with a BOM, Japanese headers and values, and applies every row', async () => {
    await kit.sql('TRUNCATE directory.test_rows');
    const job = await runImport(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('名前,年齢\r\n山田太郎,41\r\n"佐藤, 花子",35\r\n')]));
    expect(job).toMatchObject({ status: 'succeeded', encoding: 'utf-8', counts: { rows: 2, created: 2 }, errorCount: 0, failure: null, fileName: 'people.csv' });
    expect(await rowsInTable()).toEqual(['佐藤, 花子:35', '山田太郎:41']);
  });

  it('detects Shift_JIS (Windows-31J, as Excel writes it) when the file is not UTF-8', async () => {
    await kit.sql('TRUNCATE directory.test_rows');
    const job = await runImport(iconv.encode('名前,年齢\r\n髙橋①,29\r\n', 'cp932'));
    expect(job).toMatchObject({ status: 'succeeded', encoding: 'shift_jis', counts: { rows: 1, created: 1 } });
    expect(await rowsInTable()).toEqual(['髙橋①:29']);
  });

  it('refuses a Shift_JIS file declared as UTF-8, and a UTF-8 file declared as Shift_JIS, naming the encoding', async () => {
    await kit.sql('TRUNCATE directory.test_rows');
    const asUtf8 = await runImport(iconv.encode('名前\r\n鈴木\r\n', 'cp932'), 'utf-8');
    expect(asUtf8.status).toBe('failed');
    expect(asUtf8.failure).toMatch(/not valid UTF-8.*Shift_JIS/);
    const asSjis = await runImport(Buffer.from('名前\r\n🙂鈴木\r\n'), 'shift_jis');
    expect(asSjis.status).toBe('failed');
    expect(asSjis.failure).toMatch(/not valid Shift_JIS/);
    expect(await rowsInTable()).toEqual([]);
  });

  it('checks every row first and applies nothing when any row has a problem, listing each by row and column', async () => {
    await kit.sql('TRUNCATE directory.test_rows');
    const job = await runImport(Buffer.from('name,age\nok,1\n,2\nbad,-3\nok,4\nfine,5\n'));
    expect(job.status).toBe('failed');
    expect(job.failure).toBe('3 problem(s) in the file; nothing was imported.');
    expect(job.errors).toEqual([
      { row: 3, column: 'name', message: 'is required' },
      { row: 4, column: 'age', message: 'must be a whole number' },
      { row: 5, column: 'name', message: 'is also on an earlier row' },
    ]);
    expect(job.errorCount).toBe(3);
    expect(await rowsInTable()).toEqual([]);
  });

  it('refuses an unknown or duplicate column and a missing required one, as problems of row 1', async () => {
    const unknown = await runImport(Buffer.from('name,shoe size\nx,42\n'));
    expect(unknown.status).toBe('failed');
    expect(unknown.errors[0]).toMatchObject({ row: 1, column: 'shoe size' });
    const missing = await runImport(Buffer.from('age\n1\n'));
    expect(missing.errors).toEqual([{ row: 1, column: 'name', message: 'is a required column' }]);
    const twice = await runImport(Buffer.from('name,名前\nx,y\n'));
    expect(twice.errors[0]).toMatchObject({ row: 1, column: '名前', message: 'appears twice' });
  });

  it('names the row of malformed CSV: an unclosed quote, a row with extra cells', async () => {
    const quote = await runImport(Buffer.from('name,age\na,1\n"b,2\n'));
    expect(quote.status).toBe('failed');
    expect(quote.failure).toMatch(/quote/);
    const extra = await runImport(Buffer.from('name,age\na,1\nb,2,3\n'));
    expect(extra.failure).toMatch(/Row 3 has a different number of cells/);
    expect(await rowsInTable()).toEqual([]);
  });

  it('refuses a file of another tenant, and a caller without the permission', async () => {
    const other = await createTenant(kit);
    const theirs = await upload(Buffer.from('name\nx\n'), other);
    await expectError(kit.bus.request('musubi.directory.job.import.v1', { tenantId: tenant.id, jobId: randomUUID(), kind: 'import_groups', file: theirs, encoding: 'auto' }, operator()), 'forbidden');
    const mine = await upload(Buffer.from('name\nx\n'));
    await expectError(kit.bus.request('musubi.directory.job.import.v1', { tenantId: tenant.id, jobId: randomUUID(), kind: 'import_groups', file: mine, encoding: 'auto' }, asUser(tenant.id, undefined, ['auditor'])), 'forbidden');
    await expectError(kit.bus.request('musubi.directory.job.import.v1', { tenantId: tenant.id, jobId: randomUUID(), kind: 'export_users', file: mine, encoding: 'auto' }, operator()), 'validation_failed', '/kind');
  });

  it('previews the header and the first ten rows, listing unknown columns instead of refusing them', async () => {
    const lines = ['名前,年齢,favourite colour', ...Array.from({ length: 25 }, (_, i) => `人${i},${i},blue`)];
    const preview = await kit.bus.request('musubi.directory.job.preview.v1', { tenantId: tenant.id, kind: 'import_groups', file: await upload(iconv.encode(lines.join('\r\n'), 'cp932')), encoding: 'auto' }, operator());
    expect(preview.encoding).toBe('shift_jis');
    expect(preview.columns).toEqual(['名前', '年齢', 'favourite colour']);
    expect(preview.unknownColumns).toEqual(['favourite colour']);
    expect(preview.rows).toHaveLength(10);
    expect(preview.rows[0]).toEqual({ 名前: '人0', 年齢: '0', 'favourite colour': 'blue' });
  });
});

describe('exports and history', () => {
  async function runExport(encoding: 'utf-8' | 'utf-8-bom' | 'shift_jis'): Promise<Buffer> {
    const queued = await kit.bus.request('musubi.directory.job.export.v1', { tenantId: tenant.id, jobId: randomUUID(), kind: 'export_groups', encoding }, operator());
    const done = await waitFor('the export', async () => {
      const j = await kit.bus.request('musubi.directory.job.get.v1', { tenantId: tenant.id, jobId: queued.id }, operator());
      return j.status === 'succeeded' || j.status === 'failed' ? j : null;
    }, 20_000);
    expect(done).toMatchObject({ status: 'succeeded', resultAvailable: true, counts: { exported: 2 } });
    const where = await kit.bus.request('musubi.directory.job.result.v1', { tenantId: tenant.id, jobId: queued.id }, operator());
    // The directory creates its exports bucket with the first export.
    exportsStore ??= await FileStore.open(kit.nc, { bucket: JOB_EXPORTS_BUCKET, replicas: 1, ttlHours: 1 }, false);
    const file = await exportsStore.get(where.object);
    const chunks: Buffer[] = [];
    for await (const c of file!) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  it('writes UTF-8 with a BOM by default, quoting as CSV needs', async () => {
    const bytes = await runExport('utf-8-bom');
    expect(bytes.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    expect(bytes.subarray(3).toString('utf8')).toBe('name,note\r\n山田,ＡＢＣ①\r\n𠮷野家,"emoji 😀 and a, comma"\r\n');
  });

  it('writes Shift_JIS with ? for what it cannot hold', async () => {
    const text = iconv.decode(await runExport('shift_jis'), 'cp932');
    expect(text).toBe('name,note\r\n山田,ＡＢＣ①\r\n?野家,"emoji ? and a, comma"\r\n');
  });

  it("keeps the tenant's job history newest first, with events for the audit trail", async () => {
    const page = await kit.bus.request('musubi.directory.job.list.v1', { tenantId: tenant.id, limit: 3 }, asUser(tenant.id, undefined, ['auditor']));
    expect(page.items).toHaveLength(3);
    expect(page.nextCursor).not.toBeNull();
    const times = page.items.map((j) => j.createdAt);
    expect([...times].sort().reverse()).toEqual(times);
    await waitFor('the job events', async () => (await streamMessages(kit, 'directory')).some((m) => m.subject === 'musubi.directory.job.finished.v1'));
    const finished = (await streamMessages(kit, 'directory')).filter((m) => m.subject === 'musubi.directory.job.finished.v1' && m.envelope.tenantId === tenant.id);
    const started = (await streamMessages(kit, 'directory')).filter((m) => m.subject === 'musubi.directory.job.started.v1' && m.envelope.tenantId === tenant.id);
    expect(finished.length).toBeGreaterThanOrEqual(10);
    expect(started.length).toBe(finished.length);
    await expectError(kit.bus.request('musubi.directory.job.list.v1', { tenantId: tenant.id }, asUser(tenant.id)), 'forbidden');
  });
});
