import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { TenantView, UserView } from '@musubi/contracts';
import { RemoteError } from '@musubi/platform/errors';
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

// Users through the directory service itself: the domain rule, uniqueness, the limit and who may manage them.

let kit: Kit;

beforeAll(async () => {
  kit = await startKit({ schemas: [schemaOf(directoryService)] });
  await kit.start(directoryService);
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
    // A disabled user (there is no API to disable one yet) still takes a seat.
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
