import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { GroupEffectiveUserView, GroupMemberView, GroupView, TenantView, UserGroupMembershipView, UserView } from '@musubi/contracts';
import { waitFor } from '@musubi/platform/testing';
import { operatorFetch, startTestFleet, type TestFleet } from '../support/test-fleet.js';
import { consoleSession, operatorJson, type ConsoleSession } from '../support/admin-api.js';

// Groups through the gateway, as an operator's script and an admin console would use them.

let f: TestFleet;
let acme: TenantView;
let globex: TenantView;

interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

const api = <T>(path: string, init: RequestInit = {}) => operatorJson<T>(f, path, init);

const problemOf = async (res: Response) => {
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  return (await res.json()) as { code: string; errors?: Array<{ pointer: string }> };
};

const user = (tenant: TenantView, local: string, roles: string[] = []) =>
  api<UserView>(`/api/v1/tenants/${tenant.id}/users`, { method: 'POST', body: JSON.stringify({ loginId: `${local}@${tenant.platformDomain}`, roles }) });

const signedIn = (tenant: TenantView, local: string, roles: string[]) => consoleSession(f, tenant, local, roles);

const groupsUrl = (tenant: TenantView) => `/api/v1/tenants/${tenant.id}/groups`;

beforeAll(async () => {
  // Audit signs its checkpoints; until the test fleet provides a key itself, this file gives it one of its own.
  const auditKey = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  f = await startTestFleet({ extra: { AUDIT_SIGNING_KEY: auditKey } });
  acme = await api<TenantView>('/api/v1/tenants', { method: 'POST', body: JSON.stringify({ slug: 'acme', displayName: 'Acme' }) });
  globex = await api<TenantView>('/api/v1/tenants', { method: 'POST', body: JSON.stringify({ slug: 'globex', displayName: 'Globex' }) });
}, 120_000);

afterAll(async () => {
  await f?.stop();
}, 60_000);

describe('groups through the admin API, as the operator', () => {
  it('creates, reads with an ETag, changes with If-Match, lists and deletes a group', async () => {
    const res = await operatorFetch(f, groupsUrl(acme), { method: 'POST', body: JSON.stringify({ name: '営業部', email: 'sales@acme.example', type: 'organization' }) });
    expect(res.status).toBe(201);
    const created = (await res.json()) as GroupView;
    expect(res.headers.get('location')).toBe(`${groupsUrl(acme)}/${created.id}`);
    expect(res.headers.get('etag')).toBe('"v1"');

    const read = await operatorFetch(f, `${groupsUrl(acme)}/${created.id}`);
    expect(read.headers.get('etag')).toBe('"v1"');
    expect(await read.json()).toEqual(created);

    const patch = (ifMatch: string, body: object) =>
      operatorFetch(f, `${groupsUrl(acme)}/${created.id}`, { method: 'PATCH', headers: { 'if-match': ifMatch }, body: JSON.stringify(body) });
    const changed = await patch('"v1"', { description: '東京と大阪', email: null });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).toBe('"v2"');
    expect(await changed.json()).toMatchObject({ description: '東京と大阪', email: null, version: 2 });
    const stale = await patch('"v1"', { description: 'stale' });
    expect(stale.status).toBe(412);
    expect((await problemOf(stale)).code).toBe('precondition_failed');

    const dup = await operatorFetch(f, groupsUrl(acme), { method: 'POST', body: JSON.stringify({ name: '営業部' }) });
    expect(dup.status).toBe(409);
    expect(await problemOf(dup)).toMatchObject({ code: 'conflict', errors: [{ pointer: '/name' }] });

    for (const name of ['Alpha', 'alpha two', 'Beta']) await api(groupsUrl(acme), { method: 'POST', body: JSON.stringify({ name }) });
    const first = await api<Page<GroupView>>(`${groupsUrl(acme)}?q=ALPHA&sort=-name&limit=1`);
    expect(first.items.map((g) => g.name)).toEqual(['alpha two']);
    const second = await api<Page<GroupView>>(`${groupsUrl(acme)}?q=ALPHA&sort=-name&limit=1&cursor=${first.nextCursor}`);
    expect(second).toEqual({ items: [expect.objectContaining({ name: 'Alpha' })], nextCursor: null });
    expect((await api<Page<GroupView>>(`${groupsUrl(acme)}?prefix=b&type=security`)).items.map((g) => g.name)).toEqual(['Beta']);
    for (const [query, pointer] of [
      ['limit=0', '/query/limit'],
      ['sort=size', '/query/sort'],
      ['owner=me', '/query/owner'],
      ['type=team', '/query/type'],
    ] as const) {
      const bad = await operatorFetch(f, `${groupsUrl(acme)}?${query}`);
      expect(bad.status).toBe(400);
      expect((await problemOf(bad)).errors?.map((e) => e.pointer)).toContain(pointer);
    }

    const gone = await operatorFetch(f, `${groupsUrl(acme)}/${created.id}`, { method: 'DELETE', headers: { 'if-match': '"v2"' } });
    expect(gone.status).toBe(204);
    expect((await operatorFetch(f, `${groupsUrl(acme)}/${created.id}`)).status).toBe(404);
  });

  it('nests groups, refuses a cycle with 409, and answers effective membership both ways', async () => {
    const [company, sales, tokyo] = await Promise.all(
      ['Company', 'Sales', 'Sales Tokyo'].map((name) => api<GroupView>(groupsUrl(acme), { method: 'POST', body: JSON.stringify({ name }) })),
    );
    const [ceo, seller] = [await user(acme, 'ceo'), await user(acme, 'seller')];
    const add = (group: GroupView, members: object[]) => operatorFetch(f, `${groupsUrl(acme)}/${group.id}/members`, { method: 'POST', body: JSON.stringify({ members }) });
    expect((await add(company!, [{ kind: 'group', id: sales!.id }, { kind: 'user', id: ceo.id }])).status).toBe(200);
    expect((await add(sales!, [{ kind: 'group', id: tokyo!.id }])).status).toBe(200);
    expect(await (await add(tokyo!, [{ kind: 'user', id: seller.id }, { kind: 'user', id: seller.id.toUpperCase() }])).json()).toMatchObject({ code: 'validation_failed' });
    expect(await (await add(tokyo!, [{ kind: 'user', id: seller.id }])).json()).toEqual({ added: [{ kind: 'user', id: seller.id }], alreadyMembers: [] });

    const cycle = await add(tokyo!, [{ kind: 'group', id: company!.id }]);
    expect(cycle.status).toBe(409);
    expect(await problemOf(cycle)).toMatchObject({ code: 'group_cycle', errors: [{ pointer: '/members/0' }] });
    const stranger = await user(globex, 'stranger');
    const foreign = await add(tokyo!, [{ kind: 'user', id: stranger.id }]);
    expect(foreign.status).toBe(400);
    expect(await problemOf(foreign)).toMatchObject({ code: 'validation_failed', errors: [{ pointer: '/members/0' }] });

    const effective = await api<Page<GroupEffectiveUserView>>(`${groupsUrl(acme)}/${company!.id}/effective-users`);
    expect(effective.items.map((e) => [e.loginId, e.depth, e.direct]).sort()).toEqual([
      [ceo.loginId, 0, true],
      [seller.loginId, 2, false],
    ]);
    const mine = await api<Page<UserGroupMembershipView>>(`/api/v1/tenants/${acme.id}/users/${seller.id}/groups`);
    expect(mine.items.map((m) => [m.group.name, m.depth, m.direct])).toEqual([
      ['Company', 2, false],
      ['Sales', 1, false],
      ['Sales Tokyo', 0, true],
    ]);
    const direct = await api<Page<GroupMemberView>>(`${groupsUrl(acme)}/${company!.id}/members?kind=group`);
    expect(direct.items.map((m) => m.name)).toEqual(['Sales']);

    expect((await operatorFetch(f, `${groupsUrl(acme)}/${company!.id}/members/groups/${sales!.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await operatorFetch(f, `${groupsUrl(acme)}/${company!.id}/members/groups/${sales!.id}`, { method: 'DELETE' })).status).toBe(404);
    expect((await api<Page<GroupEffectiveUserView>>(`${groupsUrl(acme)}/${company!.id}/effective-users`)).items.map((e) => e.id)).toEqual([ceo.id]);
    expect((await operatorFetch(f, `${groupsUrl(acme)}/${company!.id}/members/users/${ceo.id}`, { method: 'DELETE' })).status).toBe(204);
  });

  it("records every change in the tenant's audit trail", async () => {
    const g = await api<GroupView>(groupsUrl(acme), { method: 'POST', body: JSON.stringify({ name: 'Audited' }) });
    const u = await user(acme, 'audited');
    await api(`${groupsUrl(acme)}/${g.id}/members`, { method: 'POST', body: JSON.stringify({ members: [{ kind: 'user', id: u.id }] }) });
    await api(`${groupsUrl(acme)}/${g.id}/members/users/${u.id}`, { method: 'DELETE' });
    await api(`${groupsUrl(acme)}/${g.id}`, { method: 'PATCH', body: JSON.stringify({ name: 'Audited 2' }) });
    await api(`${groupsUrl(acme)}/${g.id}`, { method: 'DELETE' });
    const about = (e: { type: string; payload: unknown }) => JSON.stringify(e.payload).includes(g.id);
    const types = await waitFor(
      'the audit trail to show the group changes',
      async () => {
        const page = await api<Page<{ type: string; payload: unknown }>>(`/api/v1/tenants/${acme.id}/audit-events?limit=200`);
        const mine = page.items.filter(about).map((e) => e.type);
        return mine.length === 5 ? mine : null;
      },
      20_000,
    );
    expect([...types].sort()).toEqual(
      [
        'musubi.directory.group.created.v1',
        'musubi.directory.group.members-added.v1',
        'musubi.directory.group.members-removed.v1',
        'musubi.directory.group.updated.v1',
        'musubi.directory.group.deleted.v1',
      ].sort(),
    );
  });
});

describe('groups through the admin API, with a hosted-login session', () => {
  let admin: ConsoleSession;
  let auditor: ConsoleSession;
  let theirAdmin: ConsoleSession;

  beforeAll(async () => {
    [admin, auditor, theirAdmin] = await Promise.all([signedIn(acme, 'groupadmin', ['tenant_admin']), signedIn(acme, 'groupauditor', ['auditor']), signedIn(globex, 'boss', ['tenant_admin'])]);
  }, 60_000);

  const post = (who: ConsoleSession, path: string, body: object) =>
    who.web.fetch(path, { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': who.csrf }, body: JSON.stringify(body) });

  it("lets the tenant's administrator manage groups and members, with the CSRF header", async () => {
    const res = await post(admin, groupsUrl(acme), { name: 'Console team' });
    expect(res.status).toBe(201);
    const team = (await res.json()) as GroupView;
    const member = await user(acme, 'console-member');
    expect((await post(admin, `${groupsUrl(acme)}/${team.id}/members`, { members: [{ kind: 'user', id: member.id }] })).status).toBe(200);
    const effective = (await (await admin.web.fetch(`${groupsUrl(acme)}/${team.id}/effective-users`)).json()) as Page<GroupEffectiveUserView>;
    expect(effective.items.map((e) => e.id)).toEqual([member.id]);
    const noCsrf = await admin.web.fetch(groupsUrl(acme), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'forged' }) });
    expect(noCsrf.status).toBe(403);
    const del = await admin.web.fetch(`${groupsUrl(acme)}/${team.id}`, { method: 'DELETE', headers: { 'x-csrf-token': admin.csrf, 'if-match': '"v1"' } });
    expect(del.status).toBe(204);
  });

  it('lets an auditor read groups but not change them', async () => {
    expect((await auditor.web.fetch(groupsUrl(acme))).status).toBe(200);
    expect((await post(auditor, groupsUrl(acme), { name: 'by auditor' })).status).toBe(403);
  });

  it("answers 404 to another tenant's administrator, for reads and writes alike", async () => {
    const g = await api<GroupView>(groupsUrl(acme), { method: 'POST', body: JSON.stringify({ name: 'Private' }) });
    for (const path of [groupsUrl(acme), `${groupsUrl(acme)}/${g.id}`, `${groupsUrl(acme)}/${g.id}/effective-users`]) {
      expect((await theirAdmin.web.fetch(path)).status).toBe(404);
    }
    expect((await post(theirAdmin, `${groupsUrl(acme)}/${g.id}/members`, { members: [{ kind: 'group', id: g.id }] })).status).toBe(404);
    // Through their own tenant's URL, our group does not exist either.
    expect((await theirAdmin.web.fetch(`${groupsUrl(globex)}/${g.id}`)).status).toBe(404);
  });
});
