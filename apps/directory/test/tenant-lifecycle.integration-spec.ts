import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { TenantView } from '@musubi/contracts';
import { asUser, createTenant, createUser, expectError, operator, schemaOf, startKit, streamMessages, type Kit } from '@musubi/platform/testing';
import { directoryService } from '../src/service.js';

let kit: Kit;

beforeAll(async () => {
  kit = await startKit({ schemas: [schemaOf(directoryService)] });
  await kit.start(directoryService);
}, 60_000);

afterAll(async () => {
  await kit?.stop();
});

const update = (t: TenantView, changes: object, ctx = operator(), expectedVersion?: number) =>
  kit.bus.request('musubi.directory.tenant.update.v1', { id: t.id, changes, ...(expectedVersion ? { expectedVersion } : {}) }, ctx);

describe('changing a tenant', () => {
  it('applies changes with a new version, checks the version it was read at, and records before and after', async () => {
    const t = await createTenant(kit);
    const changed = await update(t, { displayName: '新しい名前', settings: { deletionRetentionDays: 7 } }, operator(), t.version);
    expect(changed).toMatchObject({ version: 2, displayName: '新しい名前', settings: { deletionRetentionDays: 7, syncedUsersReadOnly: true } });
    await expectError(update(t, { displayName: 'stale' }, operator(), 1), 'precondition_failed');
    expect(await kit.bus.request('musubi.directory.tenant.get.v1', { id: t.id }, operator())).toEqual(changed);
    const events = (await streamMessages(kit, 'directory')).filter((m) => m.subject === 'musubi.directory.tenant.updated.v1' && m.envelope.tenantId === t.id);
    expect(events).toHaveLength(1);
    expect(events[0]!.envelope.payload).toMatchObject({ before: { displayName: t.displayName, version: 1 }, after: { displayName: '新しい名前', version: 2 } });
  });

  it("lets the tenant's administrator change its settings but not its limits, and an auditor nothing", async () => {
    const t = await createTenant(kit);
    const admin = asUser(t.id, undefined, ['tenant_admin']);
    expect((await update(t, { settings: { syncedUsersReadOnly: false } }, admin)).settings.syncedUsersReadOnly).toBe(false);
    await expectError(update(t, { limits: { users: 100000 } }, admin), 'forbidden');
    await expectError(update(t, { displayName: 'x' }, asUser(t.id, undefined, ['auditor'])), 'forbidden');
    await expectError(update(t, { displayName: 'x' }, asUser((await createTenant(kit)).id, undefined, ['tenant_admin'])), 'not_found');
  });

  it('refuses a user limit below the users the tenant already has, and a bad time zone, writing nothing', async () => {
    const t = await createTenant(kit);
    await createUser(kit, t, 'one');
    await createUser(kit, t, 'two');
    await expectError(update(t, { limits: { users: 1 } }), 'validation_failed', '/limits/users');
    await expectError(update(t, { timeZone: 'Mars/Olympus' }), 'validation_failed', '/timeZone');
    expect((await kit.bus.request('musubi.directory.tenant.get.v1', { id: t.id }, operator())).version).toBe(1);
    expect((await update(t, { limits: { users: 2 } })).limits.users).toBe(2);
  });
});

describe('suspending, resuming and terminating a tenant', () => {
  it('moves through the lifecycle, the operator only, refusing moves that make no sense', async () => {
    const t = await createTenant(kit);
    await expectError(kit.bus.request('musubi.directory.tenant.suspend.v1', { id: t.id }, asUser(t.id, undefined, ['tenant_admin'])), 'forbidden');
    const suspended = await kit.bus.request('musubi.directory.tenant.suspend.v1', { id: t.id, reason: 'unpaid invoices' }, operator());
    expect(suspended.status).toBe('suspended');
    await expectError(kit.bus.request('musubi.directory.tenant.suspend.v1', { id: t.id }, operator()), 'conflict');
    expect((await kit.bus.request('musubi.directory.tenant.resume.v1', { id: t.id }, operator())).status).toBe('active');
    const terminated = await kit.bus.request('musubi.directory.tenant.terminate.v1', { id: t.id, reason: 'contract ended' }, operator());
    expect(terminated.status).toBe('terminated');
    for (const subject of ['musubi.directory.tenant.resume.v1', 'musubi.directory.tenant.suspend.v1', 'musubi.directory.tenant.terminate.v1'] as const) {
      await expectError(kit.bus.request(subject, { id: t.id }, operator()), 'conflict');
    }
    await expectError(update(t, { displayName: 'back from the dead' }), 'conflict');
    const reasons = (await streamMessages(kit, 'directory'))
      .filter((m) => m.envelope.tenantId === t.id && /suspended|terminated/.test(m.subject))
      .map((m) => [m.subject, (m.envelope.payload as { reason: string | null }).reason]);
    expect(reasons).toEqual([
      ['musubi.directory.tenant.suspended.v1', 'unpaid invoices'],
      ['musubi.directory.tenant.terminated.v1', 'contract ended'],
    ]);
  });

  it('hides the users of a suspended tenant from sign-in lookups, and shows them again when resumed', async () => {
    const t = await createTenant(kit);
    const u = await createUser(kit, t, 'someone');
    const lookup = () => kit.bus.request('musubi.directory.user.find-by-login-id.v1', { tenantId: t.id, loginId: u.loginId }, operator());
    expect((await lookup()).user?.id).toBe(u.id);
    await kit.bus.request('musubi.directory.tenant.suspend.v1', { id: t.id }, operator());
    expect((await lookup()).user).toBeNull();
    await kit.bus.request('musubi.directory.tenant.resume.v1', { id: t.id }, operator());
    expect((await lookup()).user?.id).toBe(u.id);
  });
});
