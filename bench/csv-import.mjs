#!/usr/bin/env node
// @ts-check
// Benchmark: a CSV import of 10,000 users end to end, as an administrator does it:
// the file (Shift_JIS, Japanese headers, names with kana, phones) is uploaded to the
// gateway, the directory checks every row, then applies them in one transaction
// with an outbox event per user; the clock stops when the job reads `succeeded`.
// Then the same file again (every row unchanged) and an export of all users.
//
//   npm run build && node bench/csv-import.mjs [--users 10000] [--encoding shift_jis|utf-8]
//
// Target on the 2-core machine: 10,000 users in under 30 s end to end.
import { parseArgs } from 'node:util';
import iconv from 'iconv-lite';
import { startBenchFleet } from './support/fleet.mjs';

const { values: args } = parseArgs({ options: { users: { type: 'string', default: '10000' }, encoding: { type: 'string', default: 'shift_jis' } } });
const count = Number(args.users);

const FAMILY = [['山田', 'ヤマダ'], ['佐藤', 'サトウ'], ['鈴木', 'スズキ'], ['髙橋', 'タカハシ'], ['田中', 'タナカ'], ['伊藤', 'イトウ'], ['渡辺', 'ワタナベ'], ['中村', 'ナカムラ']];
const GIVEN = [['太郎', 'タロウ'], ['花子', 'ハナコ'], ['一郎', 'イチロウ'], ['美咲', 'ミサキ'], ['健', 'ケン'], ['陽菜', 'ヒナ']];
const DEPTS = ['営業部', '開発部', '総務部', '人事部', '経理部'];

const fleet = await startBenchFleet();
const out = {};
try {
  const created = await fleet.api('/api/v1/tenants', { method: 'POST', body: JSON.stringify({ slug: 'bench', displayName: 'Bench Co.', limits: { users: count * 2 } }) });
  if (created.status !== 201) throw new Error(`tenant: ${created.status} ${await created.text()}`);
  const tenant = await created.json();
  const lines = ['ログインID,姓,名,姓カナ,名カナ,表示名,メールアドレス,部署,役職,電話番号,外部ID'];
  for (let i = 0; i < count; i++) {
    const [f, fk] = FAMILY[i % FAMILY.length];
    const [g, gk] = GIVEN[i % GIVEN.length];
    lines.push(`user${i}@${tenant.platformDomain},${f},${g},${fk},${gk},${f} ${g},user${i}@mail.example.com,${DEPTS[i % DEPTS.length]},主任,work:+8131234${String(i).padStart(4, '0').slice(-4)},EMP${i}`);
  }
  const text = lines.join('\r\n') + '\r\n';
  const file = args.encoding === 'shift_jis' ? iconv.encode(text, 'cp932') : Buffer.from(text);

  const runImport = async () => {
    const t0 = performance.now();
    const res = await fleet.api(`/api/v1/tenants/${tenant.id}/jobs/imports?kind=users&encoding=auto`, { method: 'POST', headers: { 'content-type': 'text/csv' }, body: file });
    if (res.status !== 202) throw new Error(`import: ${res.status} ${await res.text()}`);
    const uploaded = performance.now();
    const queued = await res.json();
    for (;;) {
      const job = await (await fleet.api(`/api/v1/tenants/${tenant.id}/jobs/${queued.id}`)).json();
      if (job.status === 'failed') throw new Error(`job failed: ${job.failure} ${JSON.stringify(job.errors.slice(0, 3))}`);
      if (job.status === 'succeeded') {
        const done = performance.now();
        return {
          endToEndSeconds: +((done - t0) / 1000).toFixed(2),
          uploadSeconds: +((uploaded - t0) / 1000).toFixed(2),
          jobSeconds: +((Date.parse(job.finishedAt) - Date.parse(job.startedAt)) / 1000).toFixed(2),
          counts: job.counts,
        };
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  out.file = { users: count, encoding: args.encoding, megabytes: +(file.length / 1_048_576).toFixed(2) };
  out.firstImport = await runImport();
  out.sameFileAgain = await runImport();

  const t0 = performance.now();
  const exp = await (await fleet.api(`/api/v1/tenants/${tenant.id}/jobs/exports`, { method: 'POST', body: JSON.stringify({ kind: 'users', encoding: 'shift_jis' }) })).json();
  for (;;) {
    const job = await (await fleet.api(`/api/v1/tenants/${tenant.id}/jobs/${exp.id}`)).json();
    if (job.status === 'succeeded') {
      const bytes = (await (await fleet.api(`/api/v1/tenants/${tenant.id}/jobs/${exp.id}/file`)).arrayBuffer()).byteLength;
      out.export = { endToEndSeconds: +((performance.now() - t0) / 1000).toFixed(2), exported: job.counts.exported, megabytes: +(bytes / 1_048_576).toFixed(2) };
      break;
    }
    if (job.status === 'failed') throw new Error(`export failed: ${job.failure}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  out.cores = (await import('node:os')).availableParallelism();
  console.log(JSON.stringify(out, null, 2));
  console.log(`\n${count} users imported in ${out.firstImport.endToEndSeconds} s end to end (target < 30 s); unchanged re-import ${out.sameFileAgain.endToEndSeconds} s; export ${out.export.endToEndSeconds} s`);
} finally {
  await fleet.stop();
}
