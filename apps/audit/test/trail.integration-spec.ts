import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AuditEventView, CallContext, EventEnvelope, RequestOf } from '@musubi/contracts';
import { ensureStream, uuidv7 } from '@musubi/platform/bus';
import type { RunningService } from '@musubi/platform/runtime';
import { asService, asUser, expectError, operator, schemaOf, startKit, waitFor, type Kit } from '@musubi/platform/testing';
import { readPublicKey, keyIdOf, recordHash, verifyExport } from '../src/chain/offline-verifier.js';
import { CheckpointService } from '../src/checkpoints/checkpoint.service.js';
import { runVerify } from '../src/cli/verify.js';
import { auditService } from '../src/service.js';
import { AuditTrail } from '../src/trail/audit-trail.js';
import { addDays, utcDay } from '../src/trail/time.js';
import { chainRecordOf, CHAIN_COLUMNS, type ChainRow } from '../src/verification/chain.reader.js';
import { asRole, auditRuntimeUrl, loginEvent, publishAndWait, signingKeyPair } from './audit-kit.js';

// audit on its own, running as its restricted runtime role, fed through JetStream
// exactly as the producers' outbox relays feed it. Records here expire after one
// day (AUDIT_RETENTION_DAYS=1), so the last part can purge them.

let kit: Kit;
let audit: RunningService;
let runtimeUrl: string;
const keys = signingKeyPair();
const A = randomUUID();
const B = randomUUID();
const userA = randomUUID();

const list = (req: Omit<RequestOf<'musubi.audit.event.list.v1'>, 'tenantId'> & { tenantId?: string }, ctx: CallContext = operator()) =>
  kit.bus.request('musubi.audit.event.list.v1', { tenantId: A, ...req }, ctx);

async function listAll(req: Omit<RequestOf<'musubi.audit.event.list.v1'>, 'tenantId'> & { tenantId?: string }, ctx?: CallContext): Promise<AuditEventView[]> {
  const out: AuditEventView[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < 200; i++) {
    const page = await list({ ...req, ...(cursor ? { cursor } : {}) }, ctx ?? asUser(req.tenantId ?? A, undefined, ['auditor']));
    out.push(...page.items);
    if (!page.nextCursor) return out;
    cursor = page.nextCursor;
  }
  throw new Error('too many pages');
}

const rowsOf = (tenantId: string) => kit.sql<ChainRow>(`SELECT ${CHAIN_COLUMNS} FROM audit.events WHERE tenant_id = $1 ORDER BY seq`, [tenantId]);
const verify = (tenantId: string, range: Partial<RequestOf<'musubi.audit.chain.verify.v1'>> = {}) =>
  kit.bus.request('musubi.audit.chain.verify.v1', { tenantId, ...range }, asUser(tenantId, undefined, ['auditor']));
const checkpointNow = () => audit.app.get(CheckpointService).issueDue();
/** The Sunday ending the ISO week of a day (YYYY-MM-DD), whose name the week's partition bears. */
const sundayOf = (day: string) => addDays(day, (7 - new Date(`${day}T00:00:00Z`).getUTCDay()) % 7);

/** The whole JSON Lines export of a tenant, page by page. */
async function exportAll(tenantId: string, req: Partial<RequestOf<'musubi.audit.event.export.v1'>> = {}): Promise<{ text: string; pages: number }> {
  let text = '';
  let cursor: string | undefined;
  for (let pages = 1; pages < 1000; pages++) {
    const page = await kit.bus.request('musubi.audit.event.export.v1', { tenantId, format: 'jsonl', ...req, ...(cursor ? { cursor } : {}) }, operator());
    text += page.text;
    if (!page.nextCursor) return { text, pages };
    cursor = page.nextCursor;
  }
  throw new Error('too many pages');
}

async function* linesOf(text: string): AsyncIterable<string> {
  for (const l of text.split('\n')) yield l;
}
const pinned = () => new Map([[keyIdOf(readPublicKey(keys.publicPem)), readPublicKey(keys.publicPem)]]);

/** Some sign-ins of tenant A, a minute apart, oldest first. */
const t0 = Date.parse('2026-05-01T00:00:00.000Z');
const logins: EventEnvelope[] = [
  loginEvent(A, { ok: true, userId: userA, ip: '203.0.113.10', at: new Date(t0) }),
  loginEvent(A, { ok: false, userId: userA, ip: '198.51.100.7', at: new Date(t0 + 60_000) }),
  loginEvent(A, { ok: false, userId: null, ip: '198.51.100.8', at: new Date(t0 + 120_000) }),
  loginEvent(A, { ok: true, userId: userA, ip: '2001:db8::1', method: 'temp_pwd', at: new Date(t0 + 180_000) }),
  loginEvent(A, { ok: true, userId: randomUUID(), ip: '203.0.113.11', at: new Date(t0 + 240_000) }),
];

beforeAll(async () => {
  kit = await startKit({ schemas: [schemaOf(auditService)] });
  await ensureStream(kit.jsm, 'authn', { replicas: 1 });
  runtimeUrl = await auditRuntimeUrl(kit);
  audit = await kit.start(auditService, {
    DATABASE_URL: runtimeUrl,
    AUDIT_SIGNING_KEY: keys.privatePem,
    AUDIT_RETENTION_DAYS: '1',
    AUDIT_CHECKPOINT_INTERVAL_SECONDS: '1',
  });
  await publishAndWait(kit, 'authn', [...logins, loginEvent(B, { ok: true, userId: randomUUID() })]);
}, 60_000);

afterAll(async () => {
  await kit?.stop();
}, 30_000);

describe('ingest', () => {
  it('records sign-ins from the stream with method, result, address and browser, times in the tenant zone', async () => {
    const items = await listAll({});
    expect(items.map((e) => e.id)).toEqual([...logins].reverse().map((e) => e.id));
    const first = items[items.length - 1]!;
    expect(first).toMatchObject({
      tenantId: A,
      type: 'musubi.authn.login.succeeded.v1',
      category: 'login',
      result: 'success',
      method: 'pwd',
      ip: '203.0.113.10',
      userAgent: 'Mozilla/5.0 (Windows NT 10.0) Chrome/130.0.0.0',
      targetUserId: userA,
      occurredAt: '2026-05-01T00:00:00.000Z',
      occurredAtLocal: '2026-05-01T09:00:00.000+09:00',
      seq: 1,
    });
    expect(items[1]).toMatchObject({ method: 'temp_pwd', ip: '2001:db8::1' });
    expect(items.find((e) => e.id === logins[2]!.id)).toMatchObject({ result: 'failure', targetUserId: null, actor: { kind: 'anonymous' } });
  });

  it('stores a redelivered event once, even republished under another message id', async () => {
    const again = logins.slice(0, 3);
    await publishAndWait(kit, 'authn', again, () => randomUUID());
    const [row] = await kit.sql<{ n: number }>('SELECT count(*)::int AS n FROM audit.events WHERE tenant_id = $1', [A]);
    expect(row?.n).toBe(logins.length);
    // And within one batch handed to the trail directly.
    const trail = audit.app.get(AuditTrail);
    const fresh = loginEvent(B, { ok: false, userId: null });
    expect(await trail.record([logins[0]!, fresh, fresh])).toBe(1);
    expect(await trail.record([fresh])).toBe(0);
  });

  it('records what other producers will send: applications, devices, changes with secrets removed', async () => {
    const trail = audit.app.get(AuditTrail);
    const token: EventEnvelope = {
      id: uuidv7(),
      subject: 'musubi.federation.token.issued.v1',
      occurredAt: new Date(t0 + 300_000).toISOString(),
      tenantId: A,
      requestId: null,
      actor: { kind: 'user', userId: userA, tenantId: A, roles: [] },
      payload: { userId: userA, clientId: 'crm-app', accessToken: 'eyJ.secret.sig', client: { ip: '203.0.113.10', deviceFingerprint: 'fp-9' } },
    };
    const change: EventEnvelope = {
      id: uuidv7(),
      subject: 'musubi.federation.client.updated.v1',
      occurredAt: new Date(t0 + 360_000).toISOString(),
      tenantId: A,
      requestId: null,
      actor: { kind: 'operator', id: 'bootstrap' },
      payload: { before: { id: 'crm-app', name: 'CRM', clientSecret: 'old-secret-value' }, after: { id: 'crm-app', name: 'CRM 2', clientSecret: 'new-secret-value' } },
    };
    expect(await trail.record([token, change])).toBe(2);
    const [t] = await listAll({ application: 'crm-app', category: 'token' });
    expect(t).toMatchObject({ id: token.id, device: 'fp-9', ip: '203.0.113.10', payload: { accessToken: '[REDACTED]' } });
    const [c] = await listAll({ type: 'musubi.federation.client.updated.v1' });
    expect(c).toMatchObject({ target: { type: 'client', id: 'crm-app' }, actor: { kind: 'operator', id: 'bootstrap' } });
    expect(c!.changes).toEqual([
      { path: 'clientSecret', op: 'changed', redacted: true },
      { path: 'name', op: 'changed', before: 'CRM', after: 'CRM 2' },
    ]);
    const stored = await kit.sql<{ t: string }>('SELECT row_to_json(e)::text AS t FROM audit.events e WHERE tenant_id = $1', [A]);
    for (const r of stored) expect(r.t).not.toMatch(/secret-value|eyJ\.secret/);
  });
});

describe('search', () => {
  const ids = (items: AuditEventView[]) => items.map((e) => e.id);
  const L = logins.map((e) => e.id);

  it('filters by type, result, user, actor, address (exact or block), application and time, newest first', async () => {
    expect(ids(await listAll({ type: 'musubi.authn.login.failed.v1' }))).toEqual([L[2], L[1]]);
    expect(ids(await listAll({ result: 'failure' }))).toEqual([L[2], L[1]]);
    expect(ids(await listAll({ user: userA, category: 'login' }))).toEqual([L[3], L[1], L[0]]);
    expect(ids(await listAll({ actor: userA, category: 'login' }))).toEqual([L[3], L[0]]);
    expect(ids(await listAll({ ip: '198.51.100.8' }))).toEqual([L[2]]);
    expect(ids(await listAll({ ip: '198.51.100.0/24' }))).toEqual([L[2], L[1]]);
    expect(ids(await listAll({ ip: '2001:0db8:0000::0001' }))).toEqual([L[3]]);
    expect(ids(await listAll({ from: new Date(t0 + 60_000).toISOString(), to: new Date(t0 + 180_000).toISOString() }))).toEqual([L[2], L[1]]);
    expect(ids(await listAll({ result: 'success', user: userA, from: new Date(t0 + 1).toISOString(), category: 'login' }))).toEqual([L[3]]);
    expect(await listAll({ application: 'no-such-app' })).toEqual([]);
  });

  it('pages newest first without gaps or duplicates, whatever the page size', async () => {
    const whole = ids(await listAll({}));
    expect(whole.length).toBeGreaterThanOrEqual(7);
    for (const limit of [1, 2, 3]) expect(ids(await listAll({ limit }))).toEqual(whole);
  });

  it("shows a tenant's administrators and auditors their own tenant only", async () => {
    const theirs = await expectError(list({}, asUser(B, undefined, ['auditor'])), 'not_found');
    const nothing = await expectError(list({ tenantId: randomUUID() }, asUser(B, undefined, ['tenant_admin'])), 'not_found');
    expect(theirs.message).toBe(nothing.message);
    await expectError(list({}, asUser(A, undefined, ['helpdesk'])), 'forbidden');
    await expectError(list({}, asUser(A)), 'forbidden');
    await expectError(list({}, { ...operator(), caller: { kind: 'anonymous' } }), 'unauthenticated');
    const b = await listAll({ tenantId: B }, asUser(B, undefined, ['tenant_admin']));
    expect(b.length).toBeGreaterThan(0);
    for (const e of b) expect(e.tenantId).toBe(B);
    expect(ids(b).some((id) => L.includes(id))).toBe(false);
  });

  it("records the platform operator's reading of a tenant's trail in that trail, not a tenant user's", async () => {
    const reads = async () => (await listAll({ type: 'musubi.audit.trail.read.v1' })).length;
    const before = await reads();
    await listAll({ result: 'failure' });
    expect(await reads()).toBe(before);
    await list({ result: 'failure' }, operator());
    const after = await listAll({ type: 'musubi.audit.trail.read.v1' });
    expect(after).toHaveLength(before + 1);
    expect(after[0]).toMatchObject({ actor: { kind: 'operator', id: 'bootstrap' }, category: 'audit', payload: { operation: 'search', filters: { result: 'failure' } } });
  });
});

describe('login history', () => {
  it("gives a user's last 100 sign-ins, marking devices not seen in an earlier successful sign-in", async () => {
    const C = randomUUID();
    const u = randomUUID();
    const chrome = (v: number) => `Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/${v}.0.0.0 Safari/537.36`;
    const firefox = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14.1; rv:128.0) Gecko/20100101 Firefox/128.0';
    const events: EventEnvelope[] = [];
    const at = (i: number) => new Date(t0 + i * 1000);
    for (let i = 0; i < 100; i++) events.push(loginEvent(C, { ok: true, userId: u, userAgent: chrome(100 + (i % 3)), at: at(i) }));
    events.push(loginEvent(C, { ok: false, userId: u, userAgent: firefox, at: at(100) })); // new, and a failure does not make it known
    events.push(loginEvent(C, { ok: true, userId: u, userAgent: firefox, at: at(101) })); // still new
    events.push(loginEvent(C, { ok: true, userId: u, userAgent: firefox, at: at(102) })); // known now
    events.push(loginEvent(C, { ok: true, userId: u, userAgent: chrome(131), at: at(103) })); // a newer Chrome: same device
    events.push(loginEvent(C, { ok: true, userId: randomUUID(), userAgent: 'curl/8', at: at(104) })); // someone else
    await publishAndWait(kit, 'authn', events);

    const self = { requestId: randomUUID(), tenantId: C, caller: { kind: 'user' as const, userId: u, tenantId: C, roles: [] } };
    const h = await kit.bus.request('musubi.audit.login-history.list.v1', { tenantId: C, userId: u }, self);
    expect(h.timeZone).toBe('Asia/Tokyo');
    expect(h.items).toHaveLength(100);
    expect(h.items.slice(0, 4).map((i) => [i.result, i.newDevice])).toEqual([
      ['success', false],
      ['success', false],
      ['success', true],
      ['failure', true],
    ]);
    expect(h.items.slice(4).every((i) => !i.newDevice)).toBe(true);
    expect(h.items[0]).toMatchObject({ method: 'pwd', ip: '203.0.113.10', occurredAtLocal: '2026-05-01T09:01:43.000+09:00' });

    await expectError(kit.bus.request('musubi.audit.login-history.list.v1', { tenantId: C, userId: u }, asUser(C)), 'forbidden');
    await expectError(kit.bus.request('musubi.audit.login-history.list.v1', { tenantId: C, userId: u }, asUser(A, u, ['auditor'])), 'not_found');
    const byAuditor = await kit.bus.request('musubi.audit.login-history.list.v1', { tenantId: C, userId: u }, asUser(C, undefined, ['auditor']));
    expect(byAuditor.items.map((i) => i.id)).toEqual(h.items.map((i) => i.id));
  });
});

describe('append only', () => {
  it('lets the runtime role read and append, never update, delete or insert around the chain', async () => {
    const tables = ['events', 'heads', 'received', 'checkpoints', 'signing_keys', 'tenant_settings', 'purges'];
    const privs = await asRole(
      runtimeUrl,
      `SELECT t, p, has_table_privilege(current_user, 'audit.' || t, p) AS ok
       FROM unnest($1::text[]) t, unnest(ARRAY['SELECT','INSERT','UPDATE','DELETE','TRUNCATE']) p`,
      [tables],
    );
    const granted = privs.rows.filter((r) => r['ok']).map((r) => `${String(r['p'])} ${String(r['t'])}`);
    expect(granted.sort()).toEqual(
      [...tables.map((t) => `SELECT ${t}`), 'INSERT checkpoints', 'INSERT signing_keys', 'INSERT tenant_settings'].sort(),
    );
    for (const sql of [
      `UPDATE audit.events SET ip = '192.0.2.1' WHERE tenant_id = '${A}'`,
      `DELETE FROM audit.events WHERE tenant_id = '${A}'`,
      'TRUNCATE audit.events',
      `UPDATE audit.heads SET seq = 1 WHERE tenant_id = '${A}'`,
      `DELETE FROM audit.checkpoints WHERE tenant_id = '${A}'`,
      `UPDATE audit.checkpoints SET seq = 1`,
      `INSERT INTO audit.events SELECT * FROM audit.events LIMIT 1`,
      `DROP TABLE audit.events_${sundayOf(addDays(utcDay(new Date()), 1)).replace(/-/g, '')}`,
      'SELECT audit.purge_expired_as_of(current_date + 1000)',
    ]) {
      const r = await asRole(runtimeUrl, sql);
      expect({ sql, code: r.error?.code }).toEqual({ sql, code: '42501' });
    }
    // Even the schema's owner cannot change a record or a checkpoint.
    for (const sql of [`UPDATE audit.events SET ip = '192.0.2.1' WHERE tenant_id = '${A}'`, `DELETE FROM audit.events WHERE tenant_id = '${A}'`, 'TRUNCATE audit.events']) {
      const r = await asRole(kit.db.urlFor('audit'), sql);
      expect(r.error).toMatchObject({ code: '42501', message: expect.stringContaining('append-only') });
    }
    const [row] = await kit.sql<{ n: number }>('SELECT count(*)::int AS n FROM audit.events WHERE tenant_id = $1', [A]);
    expect(row?.n).toBe(logins.length + 2 + (await listAll({ type: 'musubi.audit.trail.read.v1' })).length);
  });

  it('refuses through append() a record that does not continue its chain', async () => {
    const [last] = (await rowsOf(A)).slice(-1);
    const forged = { ...chainRecordOf(last!).record, seq: Number(last!.seq) + 1, id: randomUUID() };
    const row = (prev: string) => ({
      tenant_id: A, seq: forged.seq, id: forged.id, format: 1, type: forged.type, category: forged.category, occurred_at: forged.occurredAt,
      recorded_at: new Date().toISOString(), expires_on: forged.expiresOn, request_id: null, actor: forged.actor, actor_id: null, target_type: null,
      target_id: null, target_user_id: null, result: null, method: null, ip: null, user_agent: null, device: null, application: null, changes: null,
      payload: {}, prev_hash_hex: prev, hash_hex: '00'.repeat(32),
    });
    const attempt = await asRole(runtimeUrl, `BEGIN; SELECT * FROM audit.lock_heads(ARRAY['${A}']::uuid[]); SELECT audit.append($1::jsonb); COMMIT;`.replace('$1', `'${JSON.stringify([row('11'.repeat(32))])}'`));
    expect(attempt.error?.message).toMatch(/do not continue their chain/);
  });
});

describe('hash chain, checkpoints and verification', () => {
  it('signs checkpoints periodically and verifies a range against them, by API and by command', async () => {
    await waitFor('a periodic checkpoint at the head of A', async () => {
      const page = await kit.bus.request('musubi.audit.checkpoint.list.v1', { tenantId: A }, operator());
      const [head] = await kit.sql<{ seq: string }>('SELECT seq FROM audit.heads WHERE tenant_id = $1', [A]);
      return page.items[0]?.seq === Number(head?.seq);
    });
    const cps = await kit.bus.request('musubi.audit.checkpoint.list.v1', { tenantId: A }, asUser(A, undefined, ['auditor']));
    const key = readPublicKey(keys.publicPem);
    expect(cps.items[0]).toMatchObject({ tenantId: A, keyId: keyIdOf(key) });
    const signing = await kit.bus.request('musubi.audit.signing-key.list.v1', { tenantId: A }, asUser(A, undefined, ['auditor']));
    expect(signing.keys.find((k) => k.current)).toMatchObject({ keyId: keyIdOf(key), algorithm: 'Ed25519' });

    const report = await verify(A);
    expect(report).toMatchObject({ ok: true, fromSeq: 1, failure: null, complete: true });
    expect(report.anchoredThroughSeq).toBeGreaterThanOrEqual(report.toSeq! - report.unanchored);
    expect(await verify(A, { fromSeq: 2, toSeq: 4 })).toMatchObject({ ok: true, fromSeq: 2, toSeq: 4, records: 3 });
    await expectError(verify(A, { fromSeq: 4, toSeq: 2 }), 'validation_failed', '/toSeq');
    await expectError(kit.bus.request('musubi.audit.chain.verify.v1', { tenantId: A }, asUser(B, undefined, ['auditor'])), 'not_found');

    const out: string[] = [];
    expect(await runVerify(['--tenant', A], { DATABASE_URL: runtimeUrl }, (l) => out.push(l))).toBe(0);
    expect(out.join('\n')).toMatch(/^OK: tenant .* records 1 to \d+/);
    expect(await runVerify(['--tenant', 'nope'], { DATABASE_URL: runtimeUrl }, () => undefined)).toBe(2);
  });

  it('fails at the record a direct edit in Postgres changed', async () => {
    const T = randomUUID();
    const events = Array.from({ length: 12 }, (_, i) => loginEvent(T, { ok: i % 4 !== 0, userId: randomUUID(), at: new Date(t0 + i) }));
    await publishAndWait(kit, 'authn', events);
    await checkpointNow();
    expect(await verify(T)).toMatchObject({ ok: true, toSeq: 12, anchoredThroughSeq: 12 });

    // A superuser gets round the append-only triggers; the chain still shows it.
    await kit.sql(`BEGIN; SET LOCAL session_replication_role = replica; UPDATE audit.events SET ip = '192.0.2.99' WHERE tenant_id = '${T}' AND seq = 7; COMMIT;`);
    const report = await verify(T);
    expect(report).toMatchObject({ ok: false, failure: { reason: 'hash_mismatch', seq: 7, eventId: events[6]!.id }, records: 6 });
    const out: string[] = [];
    expect(await runVerify(['--tenant', T], { DATABASE_URL: runtimeUrl }, (l) => out.push(l))).toBe(1);
    expect(out[0]).toContain(`FAILED at record 7 (event ${events[6]!.id}): hash_mismatch`);
    // Ranges that do not reach the edited record still verify; one that does, fails there.
    expect(await verify(T, { fromSeq: 8 })).toMatchObject({ ok: true, fromSeq: 8, toSeq: 12, records: 5 });
    expect(await verify(T, { fromSeq: 5, toSeq: 9 })).toMatchObject({ ok: false, failure: { reason: 'hash_mismatch', seq: 7 } });
  });

  it('catches a record rewritten with every later hash recomputed, by the signed checkpoint', async () => {
    const T = randomUUID();
    await publishAndWait(kit, 'authn', Array.from({ length: 6 }, (_, i) => loginEvent(T, { ok: true, userId: randomUUID(), at: new Date(t0 + i) })));
    await checkpointNow();
    const rows = await rowsOf(T);
    let prev = rows[2]!.prev_hash;
    const statements: string[] = [];
    for (const row of rows.slice(2)) {
      const r = chainRecordOf(row);
      const record = row.seq === '3' ? { ...r.record, ip: '192.0.2.1' } : r.record;
      const hash = recordHash(prev, record);
      statements.push(
        `UPDATE audit.events SET ip = '${record.ip}', prev_hash = '\\x${prev.toString('hex')}', hash = '\\x${hash.toString('hex')}' WHERE tenant_id = '${T}' AND seq = ${row.seq};`,
      );
      prev = hash;
    }
    statements.push(`UPDATE audit.heads SET hash = '\\x${prev.toString('hex')}' WHERE tenant_id = '${T}';`);
    await kit.sql(`BEGIN; SET LOCAL session_replication_role = replica; ${statements.join(' ')} COMMIT;`);
    expect(await verify(T)).toMatchObject({ ok: false, failure: { reason: 'checkpoint_mismatch', seq: 6 } });
  });

  it('notices a record removed from the middle', async () => {
    const T = randomUUID();
    await publishAndWait(kit, 'authn', Array.from({ length: 5 }, () => loginEvent(T, { ok: true, userId: randomUUID() })));
    await kit.sql(`BEGIN; SET LOCAL session_replication_role = replica; DELETE FROM audit.events WHERE tenant_id = '${T}' AND seq = 3; COMMIT;`);
    expect(await verify(T)).toMatchObject({ ok: false, failure: { reason: 'sequence_gap', seq: 3 } });
  });
});

describe('export', () => {
  it('exports JSON Lines that verify offline against the pinned key, and fail where edited', async () => {
    const { text } = await exportAll(A);
    const lines = text.trimEnd().split('\n');
    expect(JSON.parse(lines[0]!)).toMatchObject({ kind: 'musubi-audit-export', tenantId: A, verifiable: true });
    expect(JSON.parse(lines[lines.length - 1]!)).toMatchObject({ kind: 'end' });
    const ok = await verifyExport(linesOf(text), pinned());
    expect(ok).toMatchObject({ ok: true, firstSeq: 1, problem: null });
    expect(ok.anchoredThroughSeq).toBe(ok.lastSeq);

    const i = lines.findIndex((l) => l.includes(logins[1]!.id));
    const edited = [...lines];
    edited[i] = edited[i]!.replace('198.51.100.7', '198.51.100.9');
    expect(await verifyExport(linesOf(edited.join('\n')), pinned())).toMatchObject({ ok: false, failure: { reason: 'hash_mismatch', seq: 2, eventId: logins[1]!.id } });
    expect(await verifyExport(linesOf(lines.slice(0, -3).join('\n')), pinned())).toMatchObject({ ok: false });
    expect(await verifyExport(linesOf(text), new Map([[keyIdOf(readPublicKey(signingKeyPair().publicPem)), readPublicKey(signingKeyPair().publicPem)]]))).toMatchObject({
      ok: false,
      failure: { reason: 'unknown_key' },
    });
    const filtered = await exportAll(A, { result: 'failure' });
    expect(JSON.parse(filtered.text.split('\n')[0]!)).toMatchObject({ verifiable: false });
  });

  it('exports CSV with a BOM and a header, formulas defused, in chain order', async () => {
    const page = await kit.bus.request('musubi.audit.event.export.v1', { tenantId: A, format: 'csv', category: 'login' }, asUser(A, undefined, ['auditor']));
    expect(page.text.startsWith('\uFEFFoccurred_at,occurred_at_utc,type,')).toBe(true);
    const rows = page.text.slice(1).trimEnd().split('\r\n');
    expect(rows).toHaveLength(1 + logins.length);
    expect(rows[1]).toContain('2026-05-01T09:00:00.000+09:00,2026-05-01T00:00:00.000Z,musubi.authn.login.succeeded.v1,login,success,pwd');
    expect(page.contentType).toBe('text/csv; charset=utf-8');
    const sjis = await kit.bus.request('musubi.audit.event.export.v1', { tenantId: A, format: 'csv', encoding: 'shift_jis' }, operator());
    expect(sjis.text.startsWith('occurred_at,')).toBe(true);
    expect(sjis.contentType).toBe('text/csv; charset=Shift_JIS');
    await expectError(kit.bus.request('musubi.audit.event.export.v1', { tenantId: A, format: 'jsonl', encoding: 'shift_jis' }, operator()), 'validation_failed', '/encoding');
    await expectError(kit.bus.request('musubi.audit.event.export.v1', { tenantId: A, format: 'csv', cursor: 'forged.cursor' }, operator()), 'validation_failed', '/cursor');
    await expectError(kit.bus.request('musubi.audit.event.export.v1', { tenantId: A, format: 'csv' }, asUser(B, undefined, ['auditor'])), 'not_found');
  });
});

describe('retention', () => {
  it('makes one partition per ISO week of expiry, around the daily partitions made before weekly ones', async () => {
    const owner = kit.db.urlFor('audit');
    // A daily partition as the first version made them, on a Wednesday 200 days or so ahead.
    const far = addDays(utcDay(new Date()), 200);
    const wednesday = addDays(far, (3 - new Date(`${far}T00:00:00Z`).getUTCDay() + 7) % 7);
    const daily = `events_${wednesday.replace(/-/g, '')}`;
    expect(await asRole(owner, `CREATE TABLE audit.${daily} (LIKE audit.events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`)).toMatchObject({ error: null });
    expect(await asRole(owner, `ALTER TABLE audit.events ATTACH PARTITION audit.${daily} FOR VALUES FROM ('${wednesday}') TO ('${addDays(wednesday, 1)}')`)).toMatchObject({ error: null });

    const ensure = async (day: string) => (await asRole(owner, 'SELECT audit.ensure_partition($1::date) AS created', [day])).rows[0]?.['created'];
    expect(await ensure(addDays(wednesday, 1))).toBe(true); // Thursday to Sunday
    expect(await ensure(addDays(wednesday, 4))).toBe(false); // that Sunday: already held
    expect(await ensure(wednesday)).toBe(false); // the daily partition holds it
    expect(await ensure(addDays(wednesday, -2))).toBe(true); // Monday and Tuesday
    expect(await ensure(addDays(wednesday, 6))).toBe(true); // the next week, whole
    const bounds = await kit.sql<{ name: string; from_day: string; to_day: string }>(
      'SELECT name, from_day::text, to_day::text FROM audit.partition_bounds() WHERE from_day BETWEEN $1::date - 2 AND $1::date + 13 ORDER BY from_day',
      [wednesday],
    );
    const compact = (d: string) => d.replace(/-/g, '');
    expect(bounds).toEqual([
      { name: `events_${compact(addDays(wednesday, -1))}`, from_day: addDays(wednesday, -2), to_day: wednesday },
      { name: daily, from_day: wednesday, to_day: addDays(wednesday, 1) },
      { name: `events_${compact(addDays(wednesday, 4))}`, from_day: addDays(wednesday, 1), to_day: addDays(wednesday, 5) },
      { name: `events_${compact(addDays(wednesday, 11))}`, from_day: addDays(wednesday, 5), to_day: addDays(wednesday, 12) },
    ]);
    // The runtime role may still not make one by hand.
    expect((await asRole(runtimeUrl, `CREATE TABLE audit.events_x (LIKE audit.events)`)).error).toMatchObject({ code: '42501' });
  });

  it('purges whole expired partitions, and the chain verifies from the oldest checkpoint kept', async () => {
    const P = randomUUID();
    const today = utcDay(new Date());
    await publishAndWait(kit, 'authn', Array.from({ length: 4 }, () => loginEvent(P, { ok: true, userId: randomUUID() })));
    // From now on P keeps its records 30 days; the change itself is in P's chain.
    const settings = await kit.bus.request('musubi.audit.settings.update.v1', { tenantId: P, retentionDays: 30 }, operator());
    expect(settings).toMatchObject({ retentionDays: 30, retentionIsDefault: false, timeZone: 'Asia/Tokyo' });
    await expectError(kit.bus.request('musubi.audit.settings.update.v1', { tenantId: P, retentionDays: 30 }, asUser(P, undefined, ['tenant_admin'])), 'forbidden');
    await checkpointNow();
    const boundary = 5;
    await publishAndWait(kit, 'authn', Array.from({ length: 3 }, () => loginEvent(P, { ok: true, userId: randomUUID() })));
    await checkpointNow();
    const expiries = await kit.sql<{ seq: string; expires_on: string }>('SELECT seq, expires_on::text FROM audit.events WHERE tenant_id = $1 ORDER BY seq', [P]);
    expect(expiries.map((r) => r.expires_on)).toEqual([...Array(boundary).fill(addDays(today, 1)), ...Array(3).fill(addDays(today, 30))]);

    // Records are kept in weekly partitions (by the ISO week of their expiry, named after its Sunday): the
    // purge on that Sunday keeps them (kept at least the retention), the next day's drops the week's partition.
    const tomorrow = addDays(today, 1);
    const sunday = sundayOf(tomorrow);
    const week = `events_${sunday.replace(/-/g, '')}`;
    const bounds = await kit.sql<{ from_day: string; to_day: string }>('SELECT from_day::text, to_day::text FROM audit.partition_bounds() WHERE name = $1', [week]);
    expect(bounds).toEqual([{ from_day: addDays(sunday, -6), to_day: addDays(sunday, 1) }]);
    const onSunday = await asRole(kit.db.urlFor('audit'), `SELECT partition, records FROM audit.purge_expired_as_of($1::date)`, [sunday]);
    expect(onSunday).toEqual({ rows: [], error: null });
    expect((await rowsOf(P)).map((r) => Number(r.seq))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const dropped = await asRole(kit.db.urlFor('audit'), `SELECT partition, records FROM audit.purge_expired_as_of($1::date)`, [addDays(sunday, 1)]);
    expect(dropped.rows.map((r) => r['partition'])).toEqual([week]);
    const left = await kit.sql<{ relname: string }>(`SELECT relname FROM pg_class WHERE relname = $1`, [week]);
    expect(left).toEqual([]);
    expect((await rowsOf(P)).map((r) => Number(r.seq))).toEqual([6, 7, 8]);

    const report = await verify(P);
    expect(report).toMatchObject({ ok: true, fromSeq: 6, toSeq: 8, purgedThroughSeq: boundary, anchoredThroughSeq: 8 });
    expect(report.checkpoints).toBe(2); // the one kept at the boundary, and the head's
    // Tenant A's records all expired: nothing left to check, nothing missing.
    expect(await verify(A)).toMatchObject({ ok: true, records: 0 });
    const { text } = await exportAll(P);
    expect(await verifyExport(linesOf(text), pinned())).toMatchObject({ ok: true, firstSeq: 6, lastSeq: 8 });
  });

  it('shows no record past its retention, though its week is not purged yet', async () => {
    // Runs after the purge test, whose purges as of later days would drop the partitions made here.
    // Weekly partitions keep a record up to six days after its expiry day; search and the login history must not show it.
    const Z = randomUUID();
    const user = randomUUID();
    const today = utcDay(new Date());
    const owner = kit.db.urlFor('audit');
    const yesterday = addDays(today, -1);
    expect((await asRole(owner, 'SELECT audit.ensure_partition($1::date)', [today])).error).toBeNull();
    // ensure_partition makes none for a past day; this week's (today not a Monday) holds yesterday, else one is made here.
    const held = await kit.sql('SELECT 1 FROM audit.partition_bounds() WHERE from_day <= $1::date AND to_day > $1::date', [yesterday]);
    if (held.length === 0) {
      await kit.sql(`CREATE TABLE audit.events_past (LIKE audit.events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`);
      await kit.sql(`ALTER TABLE audit.events ATTACH PARTITION audit.events_past FOR VALUES FROM ('${yesterday}') TO ('${today}')`);
    }
    const ids = { expired: randomUUID(), lastDay: randomUUID() };
    for (const [seq, id, expiresOn] of [[1, ids.expired, yesterday], [2, ids.lastDay, today]] as const) {
      await kit.sql(
        `INSERT INTO audit.events (tenant_id, seq, id, format, type, category, occurred_at, recorded_at, expires_on, actor, target_user_id, result, method, payload, prev_hash, hash)
         VALUES ($1, $2::bigint, $3, 1, 'musubi.authn.login.succeeded.v1', 'login', now() - interval '91 days' + $2::int * interval '1 second', now(), $4::date,
                 '{"kind":"anonymous"}', $5, 'success', 'pwd', '{}', decode($6, 'hex'), decode($7, 'hex'))`,
        [Z, seq, id, expiresOn, user, '00'.repeat(32), String(seq).repeat(64).slice(0, 64)],
      );
    }
    expect((await listAll({ tenantId: Z })).map((e) => e.id)).toEqual([ids.lastDay]);
    const history = await kit.bus.request('musubi.audit.login-history.list.v1', { tenantId: Z, userId: user }, asService('authn', Z));
    expect(history.items.map((e) => e.id)).toEqual([ids.lastDay]);
  });
});
