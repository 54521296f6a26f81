import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { CallContext, RequestOf, TenantView, UserView } from '@musubi/contracts';
import { RemoteError } from '@musubi/platform/errors';
import type { RunningService } from '@musubi/platform/runtime';
import {
  asService,
  asUser,
  createTenant,
  createUser,
  schemaOf,
  expectError,
  operator,
  outboxDrained,
  startKit,
  streamMessages,
  type Kit,
} from '@musubi/platform/testing';
import { directoryService } from '../src/service.js';
import { UserPurgeJob } from '../src/users/user-purge.job.js';
import { UsersService } from '../src/users/users.service.js';
import { FILTER_WINDOW } from '../src/users/user.repository.js';
import { parseUserCreate } from '../src/users/user.js';

// Users through the directory service itself: the domain rule, uniqueness, the limit and who may manage them.

let kit: Kit;
let directory: RunningService;

beforeAll(async () => {
  kit = await startKit({ schemas: [schemaOf(directoryService)] });
  directory = await kit.start(directoryService);
  // The tests run purge rounds themselves (the timer's path is runOnce).
  await directory.app.get(UserPurgeJob).stop();
}, 60_000);

afterAll(async () => {
  await kit?.stop();
}, 30_000);

const usersOf = async (tenantId: string) =>
  (await kit.sql<{ login_id: string }>('SELECT login_id FROM directory.users WHERE tenant_id = $1 ORDER BY login_id', [tenantId])).map((r) => r.login_id);

describe("login IDs live in the tenant's domain", () => {
  it("accepts a login ID in the tenant's platform domain and stores the user", async () => {
    const tenant = await createTenant(kit);
    const user = await createUser(kit, tenant, 'taro', { familyName: '山田', givenName: '太郎', roles: ['auditor'] });
    expect(user).toMatchObject({
      tenantId: tenant.id,
      loginId: `taro@${tenant.platformDomain}`,
      displayName: '山田 太郎',
      roles: ['auditor'],
      status: 'active',
      version: 1,
    });
    expect(await kit.bus.request('musubi.directory.user.get.v1', { tenantId: tenant.id, userId: user.id }, operator())).toEqual(user);
  });

  it('refuses a login ID in any other domain, naming /loginId, and writes nothing', async () => {
    const tenant = await createTenant(kit);
    const other = await createTenant(kit);
    for (const loginId of ['taro@example.com', `taro@${other.platformDomain}`, `taro@sub.${tenant.platformDomain}`, `taro@musubi.localhost`]) {
      await expectError(kit.bus.request('musubi.directory.user.create.v1', { tenantId: tenant.id, loginId }, operator()), 'validation_failed', '/loginId');
    }
    expect(await usersOf(tenant.id)).toEqual([]);
  });

  it('refuses blank names, naming each, and trims the ones it keeps', async () => {
    const t = await createTenant(kit);
    const err = await expectError(createUser(kit, t, 'blank', { displayName: ' ', familyName: '\t' }), 'validation_failed');
    expect(err.details.map((d) => d.pointer).sort()).toEqual(['/displayName', '/familyName']);
    const u = await createUser(kit, t, 'trimmed', { familyName: ' 山田 ', givenName: '太郎 ' });
    expect(u).toMatchObject({ familyName: '山田', givenName: '太郎', displayName: '山田 太郎' });
  });

  it('refuses a login ID that is not in email form, naming /loginId', async () => {
    const tenant = await createTenant(kit);
    await expectError(kit.bus.request('musubi.directory.user.create.v1', { tenantId: tenant.id, loginId: 'just-a-name' }, operator()), 'validation_failed', '/loginId');
  });
});

describe('login IDs are unique per tenant, whatever their case', () => {
  it('refuses Admin@ after admin@ as login_id_taken and keeps the first', async () => {
    const tenant = await createTenant(kit);
    const first = await createUser(kit, tenant, 'admin');
    await expectError(createUser(kit, tenant, 'Admin'), 'login_id_taken', '/loginId');
    await expectError(kit.bus.request('musubi.directory.user.create.v1', { tenantId: tenant.id, loginId: `ADMIN@${tenant.platformDomain.toUpperCase()}` }, operator()), 'login_id_taken');
    expect(await usersOf(tenant.id)).toEqual([first.loginId]);
  });

  it("lets another tenant have the same name in its own domain", async () => {
    const a = await createTenant(kit);
    const b = await createTenant(kit);
    const inA = await createUser(kit, a, 'admin');
    const inB = await createUser(kit, b, 'admin');
    expect(inB.id).not.toBe(inA.id);
    expect(await usersOf(b.id)).toEqual([`admin@${b.platformDomain}`]);
  });

  it('finds a user by login ID case-insensitively, for services and operators only', async () => {
    const tenant = await createTenant(kit);
    const admin = await createUser(kit, tenant, 'hanako', { roles: ['tenant_admin'] });
    const loginId = `  HaNaKo@${tenant.platformDomain.toUpperCase()} `;
    expect(await kit.bus.request('musubi.directory.user.find-by-login-id.v1', { tenantId: tenant.id, loginId }, asService('authn', tenant.id))).toEqual({ user: admin });
    expect(await kit.bus.request('musubi.directory.user.find-by-login-id.v1', { tenantId: tenant.id, loginId }, operator())).toEqual({ user: admin });
    expect(
      await kit.bus.request('musubi.directory.user.find-by-login-id.v1', { tenantId: tenant.id, loginId: `nobody@${tenant.platformDomain}` }, asService('authn')),
    ).toEqual({ user: null });
    // Not even the tenant's own administrator may use the internal lookup.
    await expectError(kit.bus.request('musubi.directory.user.find-by-login-id.v1', { tenantId: tenant.id, loginId }, asUser(tenant.id, admin.id, ['tenant_admin'])), 'forbidden');
    await expectError(kit.bus.request('musubi.directory.user.find-by-login-id.v1', { tenantId: tenant.id, loginId }, { ...operator(), caller: { kind: 'anonymous' } }), 'forbidden');
  });

  it("does not find a user through another tenant's id", async () => {
    const a = await createTenant(kit);
    const b = await createTenant(kit);
    const user = await createUser(kit, a, 'jiro');
    expect(await kit.bus.request('musubi.directory.user.find-by-login-id.v1', { tenantId: b.id, loginId: user.loginId }, asService('authn'))).toEqual({ user: null });
    await expectError(kit.bus.request('musubi.directory.user.get.v1', { tenantId: b.id, userId: user.id }, operator()), 'not_found');
  });
});

describe("the tenant's user limit", () => {
  it('counts every user, disabled ones too, and refuses one more with limit_exceeded, writing nothing', async () => {
    const tenant = await createTenant(kit, { limits: { users: 3 } });
    // A disabled user still takes a seat.
    await kit.sql(
      `INSERT INTO directory.users (id, tenant_id, login_id, display_name, status, created_at, updated_at)
       VALUES ($1, $2, $3, 'Disabled', 'disabled', now(), now())`,
      [randomUUID(), tenant.id, `gone@${tenant.platformDomain}`],
    );
    await createUser(kit, tenant, 'u1');
    await createUser(kit, tenant, 'u2');
    await expectError(createUser(kit, tenant, 'u3'), 'limit_exceeded');
    expect(await usersOf(tenant.id)).toEqual([`gone@${tenant.platformDomain}`, `u1@${tenant.platformDomain}`, `u2@${tenant.platformDomain}`]);

    await outboxDrained(kit, 'directory');
    const events = (await streamMessages(kit, 'directory')).filter((m) => m.subject === 'musubi.directory.user.created.v1' && m.envelope.tenantId === tenant.id);
    expect(events.map((m) => (m.envelope.payload as { user: UserView }).user.loginId).sort()).toEqual([`u1@${tenant.platformDomain}`, `u2@${tenant.platformDomain}`]);
  });

  it('lets exactly one of several concurrent creations take the last seat', async () => {
    const tenant = await createTenant(kit, { limits: { users: 2 } });
    await createUser(kit, tenant, 'first');
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => createUser(kit, tenant, `racer${i}`)));
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(7);
    for (const err of lost) expect(err instanceof RemoteError ? err.code : err).toBe('limit_exceeded');
    expect(await usersOf(tenant.id)).toHaveLength(2);
  });
});

describe('who may manage users', () => {
  let tenant: TenantView;
  let admin: UserView;
  let plain: UserView;

  beforeAll(async () => {
    tenant = await createTenant(kit);
    admin = await createUser(kit, tenant, 'boss', { roles: ['tenant_admin'] });
    plain = await createUser(kit, tenant, 'staff', { roles: ['helpdesk', 'auditor'] });
  });

  it("lets a tenant administrator create users in its own tenant", async () => {
    const made = await createUser(kit, tenant, 'newcomer', {}, asUser(tenant.id, admin.id, ['tenant_admin']));
    expect(made.tenantId).toBe(tenant.id);
    expect(await usersOf(tenant.id)).toContain(`newcomer@${tenant.platformDomain}`);
  });

  it('forbids a user without the tenant_admin role', async () => {
    await expectError(createUser(kit, tenant, 'sneaky', {}, asUser(tenant.id, plain.id)), 'forbidden');
    await expectError(createUser(kit, tenant, 'sneaky', {}, asUser(tenant.id, randomUUID(), ['auditor'])), 'forbidden');
    await expectError(createUser(kit, tenant, 'sneaky', {}, asUser(tenant.id, randomUUID(), ['helpdesk'])), 'forbidden');
    expect(await usersOf(tenant.id)).not.toContain(`sneaky@${tenant.platformDomain}`);
  });

  it('lets only an administrator give roles', async () => {
    // An operator may; a caller with users:write but not roles:write could not (tenant_admin has both).
    const withRole = await createUser(kit, tenant, 'deputy', { roles: ['helpdesk'] }, asUser(tenant.id, admin.id, ['tenant_admin']));
    expect(withRole.roles).toEqual(['helpdesk']);
  });

  it("answers not_found to an administrator of another tenant, and to its users' reads", async () => {
    const other = await createTenant(kit);
    const otherAdmin = await createUser(kit, other, 'boss', { roles: ['tenant_admin'] });
    await expectError(createUser(kit, tenant, 'intruder', {}, asUser(other.id, otherAdmin.id, ['tenant_admin'])), 'not_found');
    await expectError(kit.bus.request('musubi.directory.user.get.v1', { tenantId: tenant.id, userId: plain.id }, asUser(other.id, otherAdmin.id, ['tenant_admin'])), 'not_found');
    expect(await usersOf(tenant.id)).not.toContain(`intruder@${tenant.platformDomain}`);
  });

  it('lets auditors and helpdesk read its users, and not plain users', async () => {
    for (const role of ['auditor', 'helpdesk', 'tenant_admin'] as const) {
      expect(await kit.bus.request('musubi.directory.user.get.v1', { tenantId: tenant.id, userId: admin.id }, asUser(tenant.id, plain.id, [role]))).toEqual(admin);
    }
    await expectError(kit.bus.request('musubi.directory.user.get.v1', { tenantId: tenant.id, userId: admin.id }, asUser(tenant.id, plain.id)), 'forbidden');
  });
});

describe('user creation and its event commit together', () => {
  it('writes no user when its event cannot be written', async () => {
    const tenant = await createTenant(kit);
    await kit.sql("ALTER TABLE directory.outbox ADD CONSTRAINT test_refuse_events CHECK (subject = '') NOT VALID");
    try {
      await expectError(createUser(kit, tenant, 'ghost'), 'internal');
    } finally {
      await kit.sql('ALTER TABLE directory.outbox DROP CONSTRAINT test_refuse_events');
    }
    expect(await usersOf(tenant.id)).toEqual([]);
    await createUser(kit, tenant, 'ghost');
    expect(await usersOf(tenant.id)).toEqual([`ghost@${tenant.platformDomain}`]);
  });
});

// ---------------------------------------------------------------------------------------------
// Helpers for the full record, lifecycle, purge and list.

type Ctx = CallContext;
const req = {
  get: (t: TenantView, userId: string, ctx: Ctx = operator()) => kit.bus.request('musubi.directory.user.get.v1', { tenantId: t.id, userId }, ctx),
  update: (t: TenantView, userId: string, changes: RequestOf<'musubi.directory.user.update.v1'>['changes'], expectedVersion?: number, ctx: Ctx = operator()) =>
    kit.bus.request('musubi.directory.user.update.v1', { tenantId: t.id, userId, changes, ...(expectedVersion ? { expectedVersion } : {}) }, ctx),
  life: (
    verb: 'disable' | 'enable' | 'delete' | 'restore',
    t: TenantView,
    userId: string,
    extra: { reason?: string; expectedVersion?: number } = {},
    ctx: Ctx = operator(),
  ) => kit.bus.request(`musubi.directory.user.${verb}.v1`, { tenantId: t.id, userId, ...extra }, ctx),
  list: (t: TenantView, q: Omit<RequestOf<'musubi.directory.user.list.v1'>, 'tenantId'> = {}, ctx: Ctx = operator()) =>
    kit.bus.request('musubi.directory.user.list.v1', { tenantId: t.id, ...q }, ctx),
};

/** The row as stored, for "nothing was written" checks. */
const rowOf = async (id: string) => (await kit.sql<Record<string, unknown>>('SELECT * FROM directory.users WHERE id = $1', [id]))[0];

/** A domain the tenant proved it owns, without DNS (the domains tests cover the proof). */
async function verifiedDomain(tenant: TenantView, name: string, status: 'verified' | 'pending' = 'verified'): Promise<void> {
  await kit.sql(
    `INSERT INTO directory.domains (id, tenant_id, name, status, token, verified_at, next_check_at, created_at, updated_at)
     VALUES ($1, $2, $3, $4, repeat('x', 32), CASE WHEN $4 = 'verified' THEN now() END, CASE WHEN $4 = 'verified' THEN now() + interval '1 day' END, now(), now())`,
    [randomUUID(), tenant.id, name, status],
  );
}

/** The events of one tenant on these subjects, in order, once the outbox has drained. */
async function eventsOf(tenant: TenantView, ...subjects: string[]) {
  await outboxDrained(kit, 'directory');
  return (await streamMessages(kit, 'directory')).filter((m) => m.envelope.tenantId === tenant.id && subjects.includes(m.subject));
}

const uniq = () => randomUUID().slice(0, 8);

describe('the full record', () => {
  it('stores every attribute, normalised (trimmed, kana in full width), and reads it back', async () => {
    const t = await createTenant(kit, { defaultLocale: 'en-US' });
    const u = await createUser(kit, t, 'hanako', {
      familyName: '佐藤',
      givenName: '花子',
      familyNameKana: 'ｻﾄｳ',
      givenNameKana: ' ハナコ ',
      email: 'hanako@acme.example',
      department: '経理部',
      title: '主任',
      locale: 'ja-JP',
      extraEmails: ['h.sato@acme.example', 'hanako.sato@acme.example'],
      phones: [
        { name: ' 直通 ', value: 'tel:+81-3-1234-5678', type: 'work' },
        { value: '+819012345678', type: 'mobile' },
      ],
      ims: [{ name: 'Slack', value: 'hanako', type: 'slack' }],
      entitlements: ['経費承認', 'vpn'],
      personalEmail: 'hanako@example.net',
      personalMobile: 'tel:+81-90-9876-5432',
      externalId: 'AD-0001',
      appLinkingId: 'E10042',
    });
    expect(u).toMatchObject({
      displayName: '佐藤 花子',
      familyNameKana: 'サトウ',
      givenNameKana: 'ハナコ',
      locale: 'ja-JP',
      phones: [
        { name: '直通', value: 'tel:+81-3-1234-5678', type: 'work' },
        { name: null, value: '+819012345678', type: 'mobile' },
      ],
      ims: [{ name: 'Slack', value: 'hanako', type: 'slack' }],
      entitlements: ['経費承認', 'vpn'],
      personalMobile: 'tel:+81-90-9876-5432',
      externalId: 'AD-0001',
      appLinkingId: 'E10042',
      status: 'active',
      lastSignInAt: null,
      passwordChangedAt: null,
      deletedAt: null,
    });
    expect(await req.get(t, u.id)).toEqual(u);
    // The tenant's default locale when none is given.
    expect((await createUser(kit, t, 'bob')).locale).toBe('en-US');
  });

  it('refuses each bad field with its own pointer, in one answer, and writes nothing', async () => {
    const t = await createTenant(kit);
    const err = await expectError(
      createUser(kit, t, 'bad', {
        email: 'not-an-email',
        familyNameKana: '山田',
        locale: 'fr-FR' as 'ja-JP',
        extraEmails: ['a@x.example', 'b@x.example', 'c@x.example', 'd@x.example', 'e@x.example'],
        phones: [{ value: '03-1234-5678', type: 'work' }],
        personalMobile: '090 1234 5678',
        personalEmail: 'x@',
      }),
      'validation_failed',
    );
    expect(new Set(err.details.map((d) => d.pointer))).toEqual(
      new Set(['/email', '/familyNameKana', '/locale', '/extraEmails', '/phones/0/value', '/personalMobile', '/personalEmail']),
    );
    expect(await usersOf(t.id)).toEqual([]);
  });

  it.each<[string, Partial<RequestOf<'musubi.directory.user.create.v1'>>, string]>([
    ['more than 10 phones', { phones: Array.from({ length: 11 }, (_, i) => ({ value: `+8131234${String(i).padStart(4, '0')}`, type: 'work' as const })) }, '/phones'],
    ['more than 10 IMs', { ims: Array.from({ length: 11 }, (_, i) => ({ value: `im${i}`, type: 'slack' })) }, '/ims'],
    ['an unknown phone type', { phones: [{ value: '+81312345678', type: 'satellite' }] }, '/phones/0/type'],
    ['an IM type in capitals', { ims: [{ value: 'x', type: 'Slack' }] }, '/ims/0/type'],
    ['the same extra email twice, in another case', { extraEmails: ['a@x.example', 'A@X.example'] }, '/extraEmails/1'],
    ['the same phone twice', { phones: [{ value: '+81312345678', type: 'work' }, { value: '+81312345678', type: 'work' }] }, '/phones/1/value'],
    ['kana with latin letters', { givenNameKana: 'Taro' }, '/givenNameKana'],
    ['a blank external ID', { externalId: '   ' }, '/externalId'],
    ['a blank application-linking ID', { appLinkingId: ' ' }, '/appLinkingId'],
    ['a control character in a name', { familyName: '山田\u0007' }, '/familyName'],
    ['a mobile that is no RFC 3966 number', { personalMobile: 'tel:abc' }, '/personalMobile'],
    ['an unknown field', { nickname: 'x' } as Partial<RequestOf<'musubi.directory.user.create.v1'>>, '/nickname'],
  ])('refuses %s', async (_what, fields, pointer) => {
    const t = await createTenant(kit);
    await expectError(createUser(kit, t, 'x', fields), 'validation_failed', pointer);
    expect(await usersOf(t.id)).toEqual([]);
  });

  it('accepts RFC 3966 local numbers with a phone context and E.164', async () => {
    const t = await createTenant(kit);
    const u = await createUser(kit, t, 'tel', {
      personalMobile: '+819012345678',
      phones: [{ value: 'tel:1234;phone-context=example.com', type: 'work' }, { value: 'tel:+81-3-1234-5678;ext=22', type: 'fax' }],
    });
    expect(u.phones?.map((p) => p.value)).toEqual(['tel:1234;phone-context=example.com', 'tel:+81-3-1234-5678;ext=22']);
  });

  it("takes login IDs in the tenant's verified domains, not in pending ones nor another tenant's", async () => {
    const t = await createTenant(kit);
    const other = await createTenant(kit);
    const mine = `acme-${uniq()}.example`;
    const pending = `pending-${uniq()}.example`;
    const theirs = `globex-${uniq()}.example`;
    await verifiedDomain(t, mine);
    await verifiedDomain(t, pending, 'pending');
    await verifiedDomain(other, theirs);
    const u = await kit.bus.request('musubi.directory.user.create.v1', { tenantId: t.id, loginId: `Taro@${mine.toUpperCase()}` }, operator());
    expect(u.loginId).toBe(`Taro@${mine.toUpperCase()}`);
    for (const loginId of [`jiro@${pending}`, `jiro@${theirs}`, `jiro@sub.${mine}`]) {
      await expectError(kit.bus.request('musubi.directory.user.create.v1', { tenantId: t.id, loginId }, operator()), 'validation_failed', '/loginId');
    }
    expect(await usersOf(t.id)).toEqual([u.loginId]);
  });

  it('keeps external and application-linking IDs unique in the tenant', async () => {
    const t = await createTenant(kit);
    await createUser(kit, t, 'a', { externalId: 'X1', appLinkingId: 'L1' });
    await expectError(createUser(kit, t, 'b', { externalId: 'X1' }), 'conflict', '/externalId');
    await expectError(createUser(kit, t, 'c', { appLinkingId: 'L1' }), 'conflict', '/appLinkingId');
    // Another tenant may use the same.
    await createUser(kit, await createTenant(kit), 'a', { externalId: 'X1', appLinkingId: 'L1' });
  });

  it('offers the same checks to the CSV import as functions', () => {
    const bad = parseUserCreate({ loginId: 'x@y.example', givenNameKana: '太郎', phones: [{ value: 'nope', type: 'work' }] }, 'ja-JP');
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.details.map((d) => d.pointer).sort()).toEqual(['/givenNameKana', '/phones/0/value']);
    // Kana is checked after the schema: a row with only that wrong says so.
    const kana = parseUserCreate({ loginId: 'x@y.example', givenNameKana: 'ﾀﾛｳ太' }, 'ja-JP');
    expect(kana.ok ? [] : kana.details.map((d) => d.pointer)).toEqual(['/givenNameKana']);
    const good = parseUserCreate({ loginId: 'x@y.example', familyName: '山田', givenNameKana: 'ﾀﾛｳ' }, 'en-US');
    expect(good.ok && good.profile).toMatchObject({ displayName: '山田', givenNameKana: 'タロウ', locale: 'en-US' });
  });
});

describe('updates', () => {
  let t: TenantView;
  let admin: UserView;
  const asAdmin = () => asUser(t.id, admin.id, ['tenant_admin']);

  beforeAll(async () => {
    t = await createTenant(kit);
    admin = await createUser(kit, t, 'admin', { roles: ['tenant_admin'] });
  });

  it('changes only the fields given, clears nulls, bumps the version and records before and after', async () => {
    const u = await createUser(kit, t, `u${uniq()}`, { familyName: '山田', givenName: '太郎', title: '部長', phones: [{ value: '+81312345678', type: 'work' }] });
    const next = await req.update(t, u.id, { title: null, department: '営業部', familyNameKana: 'やまだ' }, 1, asAdmin()).catch((e: unknown) => e);
    // Hiragana is not a reading as stored: katakana only.
    expect(next instanceof RemoteError && next.code).toBe('validation_failed');
    const changed = await req.update(t, u.id, { title: null, department: '営業部', familyNameKana: 'ヤマダ' }, 1, asAdmin());
    expect(changed).toMatchObject({ title: null, department: '営業部', familyNameKana: 'ヤマダ', familyName: '山田', version: 2, phones: u.phones });
    const [event] = await eventsOf(t, 'musubi.directory.user.updated.v1').then((es) => es.filter((e) => (e.envelope.payload as { after: UserView }).after.id === u.id));
    expect(event?.envelope.payload).toEqual({ before: u, after: changed, reason: null });
  });

  it('refuses a stale expectedVersion with precondition_failed and writes nothing', async () => {
    const u = await createUser(kit, t, `u${uniq()}`);
    await req.update(t, u.id, { title: '一' }, 1);
    const before = await rowOf(u.id);
    await expectError(req.update(t, u.id, { title: '二' }, 1), 'precondition_failed');
    await expectError(req.life('disable', t, u.id, { expectedVersion: 1 }), 'precondition_failed');
    expect(await rowOf(u.id)).toEqual(before);
  });

  it('makes no new version and no event for a change that changes nothing (jsonb lists included)', async () => {
    const u = await createUser(kit, t, `u${uniq()}`, { phones: [{ name: '代表', value: '+81312345678', type: 'work' }], ims: [{ value: 'x', type: 'teams' }] });
    const same = await req.update(t, u.id, { phones: [{ name: '代表', value: '+81312345678', type: 'work' }], ims: [{ value: 'x', type: 'teams' }], title: null });
    expect(same.version).toBe(1);
    expect(await eventsOf(t, 'musubi.directory.user.updated.v1').then((es) => es.filter((e) => (e.envelope.payload as { after: UserView }).after.id === u.id))).toEqual([]);
  });

  it('refuses a bad change naming the field, and writes nothing', async () => {
    const u = await createUser(kit, t, `u${uniq()}`);
    const before = await rowOf(u.id);
    const err = await expectError(req.update(t, u.id, { email: 'nope', extraEmails: ['a@x.example', 'b@x.example', 'c@x.example', 'd@x.example', 'e@x.example'] }), 'validation_failed');
    expect(new Set(err.details.map((d) => d.pointer))).toEqual(new Set(['/changes/email', '/changes/extraEmails']));
    await expectError(req.update(t, u.id, { loginId: 'moved@elsewhere.example' }), 'validation_failed', '/loginId');
    // Schema errors point into the bus request (/changes/…); rules past the schema point at the field as the HTTP body has it.
    await expectError(req.update(t, u.id, { displayName: ' ' }), 'validation_failed', '/changes/displayName');
    await expectError(req.update(t, u.id, { givenNameKana: 'ｱ太' }), 'validation_failed', '/changes/givenNameKana');
    await expectError(req.update(t, u.id, { extraEmails: ['a@x.example', 'A@x.example'] }), 'validation_failed', '/extraEmails/1');
    expect(await rowOf(u.id)).toEqual(before);
  });

  it("moves a login ID within the tenant's domains, not onto another user's (whatever the case)", async () => {
    const a = await createUser(kit, t, `a${uniq()}`);
    const b = await createUser(kit, t, `b${uniq()}`);
    await expectError(req.update(t, b.id, { loginId: a.loginId.toUpperCase() }), 'login_id_taken', '/loginId');
    const renamed = await req.update(t, b.id, { loginId: b.loginId.toUpperCase() });
    expect(renamed.loginId).toBe(b.loginId.toUpperCase());
  });

  it('lets only users:write change users: helpdesk and auditors read but cannot', async () => {
    const u = await createUser(kit, t, `u${uniq()}`);
    for (const role of ['helpdesk', 'auditor'] as const) {
      const ctx = asUser(t.id, randomUUID(), [role]);
      expect(await req.get(t, u.id, ctx)).toEqual(u);
      expect((await req.list(t, { limit: 1 }, ctx)).items).toHaveLength(1);
      await expectError(req.update(t, u.id, { title: 'x' }, undefined, ctx), 'forbidden');
      for (const verb of ['disable', 'delete'] as const) await expectError(req.life(verb, t, u.id, {}, ctx), 'forbidden');
    }
    await expectError(req.list(t, {}, asUser(t.id)), 'forbidden');
    expect((await rowOf(u.id))?.['version']).toBe(1);
  });

  it("answers not_found for another tenant's user, whoever asks and however the ids are mixed", async () => {
    const other = await createTenant(kit);
    const otherAdmin = await createUser(kit, other, 'admin', { roles: ['tenant_admin'] });
    const victim = await createUser(kit, t, `v${uniq()}`);
    const before = await rowOf(victim.id);
    // Their admin naming our tenant, and naming their own tenant with our user's id; the operator mixing ids too.
    for (const [tenant, ctx] of [
      [t, asUser(other.id, otherAdmin.id, ['tenant_admin'])],
      [other, asUser(other.id, otherAdmin.id, ['tenant_admin'])],
      [other, operator()],
    ] as const) {
      await expectError(req.get(tenant, victim.id, ctx), 'not_found');
      await expectError(req.update(tenant, victim.id, { title: 'pwned' }, undefined, ctx), 'not_found');
      for (const verb of ['disable', 'enable', 'delete', 'restore'] as const) await expectError(req.life(verb, tenant, victim.id, {}, ctx), 'not_found');
    }
    await expectError(req.list(t, {}, asUser(other.id, otherAdmin.id, ['tenant_admin'])), 'not_found');
    expect(await rowOf(victim.id)).toEqual(before);
  });

  it('needs roles:write to change roles; the operator and administrators have it', async () => {
    const u = await createUser(kit, t, `u${uniq()}`);
    expect((await req.update(t, u.id, { roles: ['helpdesk'] }, undefined, asAdmin())).roles).toEqual(['helpdesk']);
    await expectError(req.update(t, u.id, { roles: ['tenant_admin'] }, undefined, asUser(t.id, randomUUID(), ['helpdesk'])), 'forbidden');
  });
});

describe('users from a directory sync', () => {
  it('are read-only for administrators where the tenant says so (roles excepted), writable for the operator', async () => {
    const t = await createTenant(kit);
    const admin = asUser(t.id, randomUUID(), ['tenant_admin']);
    const synced = await createUser(kit, t, 'synced', { externalId: 'AD-1' });
    const local = await createUser(kit, t, 'local');
    await expectError(req.update(t, synced.id, { title: 'x' }, undefined, admin), 'read_only');
    for (const verb of ['disable', 'delete'] as const) await expectError(req.life(verb, t, synced.id, {}, admin), 'read_only');
    await expectError(req.update(t, local.id, { externalId: 'AD-2' }, undefined, admin), 'read_only', '/externalId');
    await expectError(createUser(kit, t, 'fake', { externalId: 'AD-3' }, admin), 'read_only', '/externalId');
    expect((await rowOf(synced.id))?.['version']).toBe(1);
    expect((await req.update(t, synced.id, { roles: ['auditor'] }, undefined, admin)).roles).toEqual(['auditor']);
    expect((await req.update(t, synced.id, { title: '課長' })).title).toBe('課長');
    expect((await req.life('disable', t, synced.id)).status).toBe('disabled');
  });

  it('are editable by administrators where the tenant allows it', async () => {
    const t = await createTenant(kit);
    await kit.bus.request('musubi.directory.tenant.update.v1', { id: t.id, changes: { settings: { syncedUsersReadOnly: false } } }, operator());
    const admin = asUser(t.id, randomUUID(), ['tenant_admin']);
    const synced = await createUser(kit, t, 'synced', { externalId: 'AD-1' });
    expect((await req.update(t, synced.id, { title: 'x', externalId: 'AD-9' }, undefined, admin)).externalId).toBe('AD-9');
    expect((await req.life('disable', t, synced.id, {}, admin)).status).toBe('disabled');
  });
});

describe('lifecycle', () => {
  it('disables and enables, each with its event and reason; a disabled user is found by authn as disabled', async () => {
    const t = await createTenant(kit);
    const u = await createUser(kit, t, 'kenji');
    const off = await req.life('disable', t, u.id, { reason: '休職', expectedVersion: 1 });
    expect(off).toMatchObject({ status: 'disabled', version: 2 });
    expect((await kit.bus.request('musubi.directory.user.find-by-login-id.v1', { tenantId: t.id, loginId: u.loginId }, asService('authn'))).user?.status).toBe('disabled');
    await expectError(req.life('disable', t, u.id), 'conflict');
    const on = await req.life('enable', t, u.id);
    expect(on).toMatchObject({ status: 'active', version: 3 });
    await expectError(req.life('enable', t, u.id), 'conflict');
    const events = await eventsOf(t, 'musubi.directory.user.disabled.v1', 'musubi.directory.user.enabled.v1');
    expect(events.map((e) => [e.subject, e.envelope.payload])).toEqual([
      ['musubi.directory.user.disabled.v1', { before: u, after: off, reason: '休職' }],
      ['musubi.directory.user.enabled.v1', { before: off, after: on, reason: null }],
    ]);
  });

  it('deletes softly: pending deletion keeps the login ID, hides it from sign-in, refuses edits, and restores to the status it had', async () => {
    const t = await createTenant(kit);
    const u = await createUser(kit, t, 'yuki');
    await req.life('disable', t, u.id);
    const deleted = await req.life('delete', t, u.id, { reason: '退職' });
    expect(deleted).toMatchObject({ status: 'pending_deletion', version: 3 });
    expect(deleted.deletedAt).not.toBeNull();
    expect((await kit.bus.request('musubi.directory.user.find-by-login-id.v1', { tenantId: t.id, loginId: u.loginId }, asService('authn'))).user).toBeNull();
    const taken = await expectError(createUser(kit, t, 'YUKI'), 'login_id_taken', '/loginId');
    expect(taken.message).toMatch(/pending deletion/);
    await expectError(req.update(t, u.id, { title: 'x' }), 'conflict');
    await expectError(req.life('delete', t, u.id), 'conflict');
    await expectError(req.life('enable', t, u.id), 'conflict');
    const restored = await req.life('restore', t, u.id);
    expect(restored).toMatchObject({ status: 'disabled', deletedAt: null, version: 4 });
    await expectError(req.life('restore', t, u.id), 'conflict');
    expect((await eventsOf(t, 'musubi.directory.user.deleted.v1', 'musubi.directory.user.restored.v1')).map((e) => e.subject)).toEqual([
      'musubi.directory.user.deleted.v1',
      'musubi.directory.user.restored.v1',
    ]);
  });

  it('will not let administrators disable or delete themselves', async () => {
    const t = await createTenant(kit);
    const admin = await createUser(kit, t, 'admin', { roles: ['tenant_admin'] });
    for (const verb of ['disable', 'delete'] as const) await expectError(req.life(verb, t, admin.id, {}, asUser(t.id, admin.id, ['tenant_admin'])), 'conflict');
  });

  it('writes neither the change nor its event when the event cannot be written', async () => {
    const t = await createTenant(kit);
    const u = await createUser(kit, t, 'atomic');
    const before = await rowOf(u.id);
    await kit.sql("ALTER TABLE directory.outbox ADD CONSTRAINT test_refuse_events CHECK (subject = '') NOT VALID");
    try {
      await expectError(req.life('disable', t, u.id), 'internal');
      await expectError(req.update(t, u.id, { title: 'x' }), 'internal');
    } finally {
      await kit.sql('ALTER TABLE directory.outbox DROP CONSTRAINT test_refuse_events');
    }
    expect(await rowOf(u.id)).toEqual(before);
  });
});

describe('purge after the retention', () => {
  const purge = () => directory.app.get(UsersService).purgeDue();
  /** Moves a deletion back in time, as if it had happened `days` ago. */
  const deletedDaysAgo = (id: string, days: number) => kit.sql(`UPDATE directory.users SET deleted_at = now() - make_interval(days => $2) WHERE id = $1`, [id, days]);

  it("purges users deleted longer ago than their tenant's retention, leaving a tombstone without personal data", async () => {
    const t = await createTenant(kit, { limits: { users: 2 } });
    await kit.bus.request('musubi.directory.tenant.update.v1', { id: t.id, changes: { settings: { deletionRetentionDays: 7 } } }, operator());
    const gone = await createUser(kit, t, 'gone', { familyName: '消去', email: 'gone@acme.example', phones: [{ value: '+81312345678', type: 'work' }], externalId: 'X-9', roles: ['auditor'] });
    const kept = await createUser(kit, t, 'kept');
    const group = await kit.bus.request('musubi.directory.group.create.v1', { tenantId: t.id, name: 'G' }, operator());
    await kit.bus.request('musubi.directory.group.members-add.v1', { tenantId: t.id, groupId: group.id, members: [{ kind: 'user', id: gone.id }] }, operator());
    await req.life('delete', t, gone.id);
    await req.life('delete', t, kept.id);
    await deletedDaysAgo(gone.id, 8);
    await deletedDaysAgo(kept.id, 6);
    const deletedAt = ((await rowOf(gone.id))?.['deleted_at'] as Date).toISOString();
    // The tenant is full until the purge frees a seat.
    await expectError(createUser(kit, t, 'newcomer'), 'limit_exceeded');

    await purge();
    const row = await rowOf(gone.id);
    expect(row).toMatchObject({ status: 'purged', login_id: null, display_name: null, family_name: null, email: null, external_id: null, phones: [], roles: [] });
    expect((await rowOf(kept.id))?.['status']).toBe('pending_deletion');
    await expectError(req.get(t, gone.id), 'not_found');
    expect((await req.list(t)).items.map((u) => u.id)).toEqual([kept.id]);
    expect(await kit.sql('SELECT 1 FROM directory.group_members WHERE member_id = $1', [gone.id])).toEqual([]);
    // Its login ID and external ID are free again, and so is its seat.
    await createUser(kit, t, 'gone', { externalId: 'X-9' });

    const events = await eventsOf(t, 'musubi.directory.user.purged.v1');
    expect(events).toHaveLength(1);
    expect(events[0]?.envelope.payload).toEqual({ user: { id: gone.id, status: 'purged', deletedAt, purgedAt: expect.any(String) } });
    expect(events[0]?.raw).not.toMatch(/gone@|消去|X-9|\+8131/);
  });

  it('does not purge a user restored in time, nor twice', async () => {
    const t = await createTenant(kit);
    const u = await createUser(kit, t, 'back');
    await req.life('delete', t, u.id);
    await req.life('restore', t, u.id);
    await kit.sql(`UPDATE directory.users SET deleted_at = NULL WHERE id = $1`, [u.id]);
    await purge();
    expect((await req.get(t, u.id)).status).toBe('active');
  });

  it('shares the work between replicas: each due user is purged exactly once', async () => {
    const t = await createTenant(kit, { limits: { users: 1000 } });
    await kit.sql(
      `INSERT INTO directory.users (id, tenant_id, login_id, display_name, status, restore_status, deleted_at, created_at, updated_at)
       SELECT gen_random_uuid(), $1, 'p' || i || '@' || $2, 'P' || i, 'pending_deletion', 'active', now() - interval '400 days', now(), now() FROM generate_series(1, 250) AS i`,
      [t.id, t.platformDomain],
    );
    const second = await kit.start(directoryService);
    try {
      await second.app.get(UserPurgeJob).stop();
      const other = second.app.get(UsersService);
      const rounds = await Promise.all([purge(), other.purgeDue(), purge(), other.purgeDue()]);
      expect(rounds.reduce((n, r) => n + r.purged, 0)).toBe(250);
    } finally {
      await second.stop();
    }
    expect(await kit.sql(`SELECT 1 FROM directory.users WHERE tenant_id = $1 AND status <> 'purged'`, [t.id])).toEqual([]);
    expect(await eventsOf(t, 'musubi.directory.user.purged.v1')).toHaveLength(250);
  });

  it('runs from the job, whose round never rejects', async () => {
    const t = await createTenant(kit);
    const u = await createUser(kit, t, 'timer');
    await req.life('delete', t, u.id);
    await deletedDaysAgo(u.id, 31);
    await directory.app.get(UserPurgeJob).runOnce();
    expect((await rowOf(u.id))?.['status']).toBe('purged');
  });
});

/** Each sort's key as the list compares it. */
const keyOf: Record<string, (u: UserView) => string> = {
  loginId: (u) => u.loginId.toLowerCase(),
  displayName: (u) => u.displayName.toLowerCase(),
  familyNameKana: (u) => (u.familyNameKana === null && u.givenNameKana === null ? '\u{10ffff}' : `${u.familyNameKana ?? ''}\u0001${u.givenNameKana ?? ''}`),
  createdAt: (u) => u.createdAt,
  updatedAt: (u) => u.updatedAt,
};
/** Code point order, then id, as the "C" collation and the keyset do. */
const expected = (users: UserView[], sort: string, desc: boolean) => {
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const sorted = [...users].sort((a, b) => cmp(keyOf[sort]!(a), keyOf[sort]!(b)) || cmp(a.id, b.id));
  return (desc ? sorted.reverse() : sorted).map((u) => u.id);
};

describe('the list', () => {
  let t: TenantView;
  let all: UserView[];
  const domainB = `branch-${randomUUID().slice(0, 6)}.example`;

  const people: Array<[string, string, string, string, string]> = [
    // local, family, given, familyKana, givenKana
    ['taro.yamada', '山田', '太郎', 'ヤマダ', 'タロウ'],
    ['hanako.sato', '佐藤', '花子', 'サトウ', 'ハナコ'],
    ['ichiro.suzuki', '鈴木', '一郎', 'スズキ', 'イチロウ'],
    ['jiro.tanaka', '田中', '次郎', 'タナカ', 'ジロウ'],
    ['yoko.takahashi', '高橋', '陽子', 'タカハシ', 'ヨウコ'],
    ['ken.ito', '伊藤', '健', 'イトウ', 'ケン'],
    ['mai.watanabe', '渡辺', '舞', 'ワタナベ', 'マイ'],
    ['sho.yamamoto', '山本', '翔', 'ヤマモト', 'ショウ'],
  ];

  beforeAll(async () => {
    t = await createTenant(kit);
    await verifiedDomain(t, domainB);
    all = [];
    for (const [i, [local, family, given, fk, gk]] of people.entries()) {
      all.push(
        await kit.bus.request(
          'musubi.directory.user.create.v1',
          {
            tenantId: t.id,
            loginId: `${local}@${i % 3 === 0 ? domainB : t.platformDomain}`,
            familyName: family,
            givenName: given,
            familyNameKana: fk,
            givenNameKana: gk,
            externalId: `EMP-${1000 + i}`,
          },
          operator(),
        ),
      );
    }
    // Some without kana and with a Latin display name, to see where they sort.
    all.push(await createUser(kit, t, 'zeta', { displayName: 'Zeta Support' }));
    all.push(await createUser(kit, t, 'alpha', { displayName: 'alpha desk' }));
  });

  /** Every page of a listing, following the cursors. */
  async function walk(q: Omit<RequestOf<'musubi.directory.user.list.v1'>, 'tenantId'>, ctx: Ctx = operator()): Promise<UserView[]> {
    const out: UserView[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 100; i++) {
      const page = await req.list(t, { ...q, ...(cursor ? { cursor } : {}) }, ctx);
      out.push(...page.items);
      if (!page.nextCursor) return out;
      cursor = page.nextCursor;
    }
    throw new Error('too many pages');
  }

  it.each(['loginId', 'displayName', 'familyNameKana', 'createdAt', 'updatedAt'] as const)('sorts by %s both ways, in pages of 3 that meet exactly', async (sort) => {
    for (const order of ['asc', 'desc'] as const) {
      const listed = await walk({ sort, order, limit: 3 });
      expect(listed.map((u) => u.id)).toEqual(expected(all, sort, order === 'desc'));
    }
  });

  it('filters by status, domain and effective group, each combinable with a sort', async () => {
    const disabled = all[2]!;
    await req.life('disable', t, disabled.id);
    try {
      expect((await walk({ status: 'disabled' })).map((u) => u.id)).toEqual([disabled.id]);
      expect((await walk({ status: 'active', limit: 2 })).map((u) => u.id)).not.toContain(disabled.id);
      expect((await walk({ status: 'pending_deletion' })).map((u) => u.id)).toEqual([]);
    } finally {
      await req.life('enable', t, disabled.id);
    }
    const inB = all.filter((u) => u.loginId.endsWith(`@${domainB}`));
    expect((await walk({ domain: domainB.toUpperCase(), sort: 'familyNameKana', limit: 2 })).map((u) => u.id)).toEqual(expected(inB, 'familyNameKana', false));

    // Nested: Company ⊃ Sales ⊃ Tokyo; users directly in each.
    const g = async (name: string) => kit.bus.request('musubi.directory.group.create.v1', { tenantId: t.id, name: `${name}-${uniq()}` }, operator());
    const [company, sales, tokyo] = [await g('Company'), await g('Sales'), await g('Tokyo')];
    const add = (groupId: string, members: Array<{ kind: 'user' | 'group'; id: string }>) =>
      kit.bus.request('musubi.directory.group.members-add.v1', { tenantId: t.id, groupId, members }, operator());
    await add(company.id, [{ kind: 'group', id: sales.id }, { kind: 'user', id: all[0]!.id }]);
    await add(sales.id, [{ kind: 'group', id: tokyo.id }, { kind: 'user', id: all[1]!.id }]);
    await add(tokyo.id, [{ kind: 'user', id: all[2]!.id }, { kind: 'user', id: all[1]!.id }]);
    expect((await walk({ groupId: company.id, sort: 'createdAt', limit: 1 })).map((u) => u.id)).toEqual([all[0]!.id, all[1]!.id, all[2]!.id]);
    expect((await walk({ groupId: tokyo.id, sort: 'createdAt', order: 'desc' })).map((u) => u.id)).toEqual([all[2]!.id, all[1]!.id]);
    // Another tenant's group id finds nobody here.
    const foreign = await kit.bus.request('musubi.directory.group.create.v1', { tenantId: (await createTenant(kit)).id, name: 'F' }, operator());
    expect(await walk({ groupId: foreign.id })).toEqual([]);
  });

  it.each<[string, (u: UserView) => boolean]>([
    ['yamada', (u) => u.loginId.startsWith('taro.yamada')],
    ['yama', (u) => /^(taro\.yamada|sho\.yamamoto)@/.test(u.loginId)],
    ['山', (u) => (u.familyName ?? '').startsWith('山')],
    ['やまだ', (u) => u.familyNameKana === 'ヤマダ'],
    ['ﾀﾛｳ', (u) => u.givenNameKana === 'タロウ'],
    ['サトウ ハナコ', (u) => u.familyNameKana === 'サトウ'],
    ['emp-1003', (u) => u.externalId === 'EMP-1003'],
    ['SUPPORT', (u) => u.displayName === 'Zeta Support'],
    ['@branch', (u) => u.loginId.includes('@branch-')],
    ['taro @branch', (u) => u.loginId.startsWith('taro.yamada@branch')],
    ['nobody', () => false],
  ])('searches %j over login ID, names, kana, display name and external ID', async (q, match) => {
    expect(new Set((await walk({ q, limit: 2 })).map((u) => u.id))).toEqual(new Set(all.filter(match).map((u) => u.id)));
  });

  it('takes the filters together and ties a cursor to its sort and filters', async () => {
    const page = await req.list(t, { q: 'ya', limit: 1 });
    expect(page.nextCursor).not.toBeNull();
    await expectError(req.list(t, { q: 'yo', limit: 1, cursor: page.nextCursor! }), 'validation_failed', '/cursor');
    await expectError(req.list(t, { q: 'ya', limit: 1, order: 'desc', cursor: page.nextCursor! }), 'validation_failed', '/cursor');
    const forged = Buffer.from(JSON.stringify({ s: 'loginId', d: false, f: 'x', k: "' OR 1=1 --", i: randomUUID() })).toString('base64url');
    await expectError(req.list(t, { cursor: forged }), 'validation_failed', '/cursor');
    await expectError(req.list(t, { cursor: 'not base64 json' }), 'validation_failed', '/cursor');
    await expectError(req.list(t, { q: '%%' }), 'validation_failed', '/q');
    await expectError(req.list(t, { sort: 'password' as 'loginId' }), 'validation_failed', '/sort');
    expect((await walk({ q: 'ya', domain: domainB })).map((u) => u.loginId)).toEqual([all[0]!.loginId]);
  });

  it("another tenant's list never shows these users", async () => {
    const other = await createTenant(kit);
    await createUser(kit, other, 'taro.yamada');
    const theirs = await kit.bus.request('musubi.directory.user.list.v1', { tenantId: other.id, q: 'yamada' }, operator());
    expect(theirs.items.map((u) => u.tenantId)).toEqual([other.id]);
  });

  it(`finds a rare match far down a large list (beyond the ${FILTER_WINDOW}-row window) and pages through common ones`, async () => {
    const n = FILTER_WINDOW + 1000;
    const big = await createTenant(kit, { limits: { users: n + 10 } });
    await kit.sql(
      `INSERT INTO directory.users (id, tenant_id, login_id, display_name, family_name_kana, status, created_at, updated_at)
       SELECT gen_random_uuid(), $1, 'user' || lpad(i::text, 5, '0') || '@' || $2, 'User ' || i, CASE WHEN i = $3 - 1 THEN 'ンンン' ELSE 'アイ' END,
              CASE WHEN i % 10 = 0 THEN 'disabled' ELSE 'active' END, now(), now()
       FROM generate_series(1, $3) AS i`,
      [big.id, big.platformDomain, n],
    );
    await kit.sql('ANALYZE directory.users');
    const list = (q: Omit<RequestOf<'musubi.directory.user.list.v1'>, 'tenantId'>) => kit.bus.request('musubi.directory.user.list.v1', { tenantId: big.id, ...q }, operator());
    expect((await list({ q: 'ンン' })).items.map((u) => u.loginId)).toEqual([`user${String(n - 1).padStart(5, '0')}@${big.platformDomain}`]);
    expect((await list({ q: `user${String(n - 1).padStart(5, '0')}` })).items).toHaveLength(1);
    // A common filter over several pages: every disabled user once, in order.
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await list({ status: 'disabled', sort: 'loginId', order: 'desc', limit: 200, ...(cursor ? { cursor } : {}) });
      seen.push(...page.items.map((u) => u.loginId));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toHaveLength(n / 10);
    expect(seen).toEqual([...seen].sort().reverse());
    expect(new Set(seen).size).toBe(n / 10);
  });
});

describe('searches whose matches lie beyond the window (gathered from the terms table)', () => {
  // FILTER_WINDOW + 1100 fillers come first in every sort ascending (login "aaa…", display name "Filler…",
  // kana "ア", created and updated a day earlier) and match none of the searches below but "a": an ascending
  // search walks a window of fillers without a match and gathers from user_search_terms. Fillers 1–2600 are
  // named "lowhalf", 2599 and up "highhalf": two words each with thousands of entries and two users in common;
  // the last 1100 are "tailend": a common word whose matches all lie beyond the window.
  let t: TenantView;
  let people: UserView[];
  const fillers = FILTER_WINDOW + 1100;

  beforeAll(async () => {
    t = await createTenant(kit, { limits: { users: fillers + 100 } });
    await kit.sql(
      `INSERT INTO directory.users (id, tenant_id, login_id, display_name, family_name, given_name, family_name_kana, status, created_at, updated_at)
       SELECT gen_random_uuid(), $1, 'aaa' || lpad(i::text, 5, '0') || '@' || $2, 'Filler ' || i || CASE WHEN i > $4 THEN ' tailend' ELSE '' END,
              CASE WHEN i <= 2600 THEN 'lowhalf' END, CASE WHEN i >= 2599 THEN 'highhalf' END, 'ア', 'active', now() - interval '1 day', now() - interval '1 day'
       FROM generate_series(1, $3) AS i`,
      [t.id, t.platformDomain, fillers, FILTER_WINDOW],
    );
    await kit.sql('VACUUM ANALYZE directory.user_search_terms');
    people = [];
    for (const [local, family, given, familyNameKana, givenNameKana] of [
      ['taro.yamada', '山田', '太郎', 'ヤマダ', 'タロウ'],
      ['hanako.yamada', '山田', '花子', 'ヤマダ', 'ハナコ'],
      ['taro.sato', '佐藤', '太郎', 'サトウ', 'タロウ'],
      ['sho.yamamoto', '山本', '翔', 'ヤマモト', 'ショウ'],
      ['ichiro.suzuki', '鈴木', '一郎', 'スズキ', 'イチロウ'],
      ['alice.mori', '森', 'アリス', 'モリ', 'アリス'],
    ] as const) {
      people.push(await createUser(kit, t, local, { familyName: family, givenName: given, familyNameKana, givenNameKana, externalId: `EMP-${people.length + 100}` }));
    }
  }, 60_000);

  async function walk(q: Omit<RequestOf<'musubi.directory.user.list.v1'>, 'tenantId'>, tenant: TenantView = t): Promise<UserView[]> {
    const out: UserView[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 50; i++) {
      const page = await req.list(tenant, { ...q, ...(cursor ? { cursor } : {}) });
      out.push(...page.items);
      if (!page.nextCursor) return out;
      cursor = page.nextCursor;
    }
    throw new Error('too many pages');
  }
  const named = (...locals: string[]) => people.filter((u) => locals.includes(u.loginId.split('@')[0]!));

  it.each<[string, string[]]>([
    ['yamada', ['taro.yamada', 'hanako.yamada']],
    ['やまだ', ['taro.yamada', 'hanako.yamada']],
    ['yama', ['taro.yamada', 'hanako.yamada', 'sho.yamamoto']],
    ['山', ['taro.yamada', 'hanako.yamada', 'sho.yamamoto']],
    ['taro yamada', ['taro.yamada']],
    ['たろう', ['taro.yamada', 'taro.sato']],
    ['emp-10', ['taro.yamada', 'hanako.yamada', 'taro.sato', 'sho.yamamoto', 'ichiro.suzuki', 'alice.mori']],
    ['EMP-102', ['taro.sato']],
    ['yamada nobody', []],
  ])('%j finds exactly its users, in each sort both ways, in pages of 2 that meet exactly', async (q, locals) => {
    for (const sort of ['loginId', 'displayName', 'familyNameKana', 'createdAt', 'updatedAt'] as const) {
      for (const order of ['asc', 'desc'] as const) {
        expect((await walk({ q, sort, order, limit: 2 })).map((u) => u.id)).toEqual(expected(named(...locals), sort, order === 'desc'));
      }
    }
  });

  it('reads one common word whole, intersects several common ones, and checks the other words of a rare one', async () => {
    const filler = (i: number) => `aaa${String(i).padStart(5, '0')}@${t.platformDomain}`;
    expect((await walk({ q: 'lowhalf highhalf', limit: 1 })).map((x) => x.loginId)).toEqual([filler(2599), filler(2600)]);
    expect((await walk({ q: 'highhalf lowhalf', order: 'desc', limit: 1 })).map((x) => x.loginId)).toEqual([filler(2600), filler(2599)]);
    // One common word whose matches lie beyond the window: its whole range, sorted.
    const page = await req.list(t, { q: 'tailend', limit: 3 });
    expect(page.items.map((x) => x.loginId)).toEqual([filler(FILTER_WINDOW + 1), filler(FILTER_WINDOW + 2), filler(FILTER_WINDOW + 3)]);
    const next = await req.list(t, { q: 'tailend', limit: 3, cursor: page.nextCursor! });
    expect(next.items.map((x) => x.loginId)).toEqual([filler(FILTER_WINDOW + 4), filler(FILTER_WINDOW + 5), filler(FILTER_WINDOW + 6)]);
    const last = await req.list(t, { q: 'tailend', limit: 3, sort: 'displayName', order: 'desc' });
    expect(last.items.map((x) => x.displayName)).toEqual([`Filler ${fillers} tailend`, `Filler ${fillers - 1} tailend`, `Filler ${fillers - 2} tailend`].sort().reverse());
    expect((await walk({ q: 'lowhalf filler 2600' })).map((x) => x.loginId)).toEqual([filler(2600)]);
    expect(await walk({ q: 'lowhalf 2601' })).toEqual([]);
    expect(await walk({ q: 'highhalf lowhalf yamada' })).toEqual([]);
  });

  it('combines the search with the status, domain and group filters', async () => {
    const u = named('hanako.yamada')[0]!;
    await req.life('disable', t, u.id);
    try {
      expect((await walk({ q: 'yamada', status: 'disabled' })).map((x) => x.id)).toEqual([u.id]);
      expect((await walk({ q: 'yamada', status: 'active' })).map((x) => x.id)).toEqual(expected(named('taro.yamada'), 'loginId', false));
    } finally {
      await req.life('enable', t, u.id);
    }
    expect((await walk({ q: 'yamada', domain: t.platformDomain })).map((x) => x.id)).toEqual(expected(named('taro.yamada', 'hanako.yamada'), 'loginId', false));
    expect(await walk({ q: 'yamada', domain: 'elsewhere.example' })).toEqual([]);
    const group = await kit.bus.request('musubi.directory.group.create.v1', { tenantId: t.id, name: `G-${uniq()}` }, operator());
    await kit.bus.request('musubi.directory.group.members-add.v1', { tenantId: t.id, groupId: group.id, members: [{ kind: 'user', id: u.id }] }, operator());
    expect((await walk({ q: 'yamada', groupId: group.id })).map((x) => x.id)).toEqual([u.id]);
  });

  it('finds a user by its new name after a change, no longer by the old one, and sorts it by its new update time', async () => {
    const [first, second] = [await createUser(kit, t, `rename.first`, { familyName: '改名前' }), await createUser(kit, t, `rename.second`, { familyName: '改名前' })];
    expect((await walk({ q: 'rename', sort: 'updatedAt' })).map((x) => x.id)).toEqual([first.id, second.id]);
    await req.update(t, first.id, { familyName: '改名後', givenName: '次郎', displayName: '改名後 次郎' });
    expect((await walk({ q: '改名前' })).map((x) => x.id)).toEqual([second.id]);
    expect((await walk({ q: '改名後 次郎' })).map((x) => x.id)).toEqual([first.id]);
    expect((await walk({ q: 'rename', sort: 'updatedAt' })).map((x) => x.id)).toEqual([second.id, first.id]);
    // A new login ID: found by it, not by the old one.
    await req.update(t, second.id, { loginId: `renamed.third@${t.platformDomain}` });
    expect((await walk({ q: 'rename.second' })).map((x) => x.id)).toEqual([]);
    expect((await walk({ q: 'renamed.third' })).map((x) => x.id)).toEqual([second.id]);
  });

  it('finds a user pending deletion by its status, and nobody once it is purged (its terms are gone)', async () => {
    const u = await createUser(kit, t, 'leaving.soon', { familyName: '退職' });
    await req.life('delete', t, u.id);
    expect((await walk({ q: '退職', status: 'pending_deletion' })).map((x) => x.id)).toEqual([u.id]);
    await kit.sql(`UPDATE directory.users SET deleted_at = now() - interval '400 days' WHERE id = $1`, [u.id]);
    await directory.app.get(UsersService).purgeDue();
    expect((await rowOf(u.id))?.['status']).toBe('purged');
    expect(await walk({ q: '退職' })).toEqual([]);
    expect(await walk({ q: 'leaving' })).toEqual([]);
    expect(await kit.sql('SELECT term FROM directory.user_search_terms WHERE user_id = $1', [u.id])).toEqual([]);
  });

  it("never shows another tenant's users, nor shows these to it", async () => {
    const other = await createTenant(kit);
    // Theirs sorts before ours: a match taken from the wrong tenant would also cut our pages short.
    const theirs = await createUser(kit, other, 'aa.yamada', { familyName: '山田' });
    expect((await walk({ q: 'yamada', limit: 1 })).map((x) => x.id)).toEqual(expected(named('taro.yamada', 'hanako.yamada'), 'loginId', false));
    expect((await walk({ q: 'yamada' }, other)).map((x) => x.id)).toEqual([theirs.id]);
    expect((await walk({ q: 'taro.yamada@', sort: 'createdAt' })).map((x) => x.id)).toEqual(expected(named('taro.yamada'), 'createdAt', false));
  });

  it('matches words longer than the stored terms (60 characters) exactly', async () => {
    const u = await createUser(kit, t, 'long.word', { externalId: `${'k'.repeat(65)}tail` });
    expect((await walk({ q: 'k'.repeat(65) })).map((x) => x.id)).toEqual([u.id]);
    expect((await walk({ q: `${'k'.repeat(65)}tail` })).map((x) => x.id)).toEqual([u.id]);
    // The same first 60 characters, then different ones: the stored term matches, the user does not.
    expect(await walk({ q: `${'k'.repeat(61)}z` })).toEqual([]);
  });

  it('takes a query that normalises to more words than it can count (㏂ is "a.m.") the same as its distinct words', async () => {
    const q = `mori ${'㏂'.repeat(39)}`;
    expect((await walk({ q })).map((x) => x.id)).toEqual(named('alice.mori').map((x) => x.id));
    expect((await walk({ q: 'mori a m' })).map((x) => x.id)).toEqual(named('alice.mori').map((x) => x.id));
    expect(await walk({ q: `mori ${'㏂'.repeat(39)} z` })).toEqual([]);
  });
});
