import { randomUUID } from 'node:crypto';
import { domainToASCII } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { DomainView, type CallContext, type TenantView } from '@musubi/contracts';
import { RemoteError } from '@musubi/platform/errors';
import { validate } from '@musubi/platform/validation';
import type { RunningService } from '@musubi/platform/runtime';
import {
  asUser,
  createTenant,
  expectError,
  operator,
  outboxDrained,
  schemaOf,
  startDnsServer,
  startKit,
  streamMessages,
  type DnsServer,
  type Kit,
  type TxtValue,
} from '@musubi/platform/testing';
import { DomainRecheckJob } from '../src/domains/domain-recheck.job.js';
import { DomainsService } from '../src/domains/domains.service.js';
import { TenantDomains } from '../src/domains/tenant-domains.js';
import { directoryService } from '../src/service.js';

// Tenant domains and their DNS proof, through the directory service itself, with a real
// resolver asking a real DNS server on loopback.

let kit: Kit;
let dns: DnsServer;
let directory: RunningService;

beforeAll(async () => {
  dns = await startDnsServer();
  kit = await startKit({ schemas: [schemaOf(directoryService)] });
  directory = await kit.start(directoryService, { DNS_SERVERS: dns.address });
  // The timer's rounds would race the tests' own: they run rounds themselves (the timer's path is runOnce).
  await directory.app.get(DomainRecheckJob).stop();
}, 60_000);

afterAll(async () => {
  await kit?.stop();
  await dns?.stop();
}, 30_000);

let seq = 0;
/** A name no other test (or test file) uses: claims are global. */
const uniqueName = (label = 'acme'): string => `${label}-${process.pid.toString(36)}-${(seq++).toString(36)}.co.jp`;

/** Every domain the service answers with has the documented shape (replies are not validated on the bus). */
async function documented(reply: Promise<DomainView>): Promise<DomainView> {
  const view = await reply;
  const checked = validate(DomainView, view);
  if (!checked.ok) throw new Error(`not a DomainView: ${JSON.stringify(checked.details)}`);
  return view;
}
const register = (tenant: TenantView, name: string, ctx: CallContext = operator()) =>
  documented(kit.bus.request('musubi.directory.domain.register.v1', { tenantId: tenant.id, name }, ctx));
const verify = (d: DomainView, ctx: CallContext = operator()) =>
  documented(kit.bus.request('musubi.directory.domain.verify.v1', { tenantId: d.tenantId, domainId: d.id }, ctx));
const get = (d: DomainView, ctx: CallContext = operator()) => documented(kit.bus.request('musubi.directory.domain.get.v1', { tenantId: d.tenantId, domainId: d.id }, ctx));
const remove = (d: DomainView, ctx: CallContext = operator()) => kit.bus.request('musubi.directory.domain.remove.v1', { tenantId: d.tenantId, domainId: d.id }, ctx);
const list = (tenant: TenantView, page: { cursor?: string; limit?: number } = {}, ctx: CallContext = operator()) =>
  kit.bus.request('musubi.directory.domain.list.v1', { tenantId: tenant.id, ...page }, ctx);

/** Publishes the record the registration asked for (or other values) at its challenge name. */
const publish = (d: DomainView, values: readonly TxtValue[] = [d.challenge.recordValue]) => dns.setTxt(d.challenge.recordName, values);
const unpublish = (d: DomainView) => dns.remove(d.challenge.recordName);

async function verified(tenant: TenantView, name = uniqueName()): Promise<DomainView> {
  const d = await register(tenant, name);
  publish(d);
  const v = await verify(d);
  expect(v.status).toBe('verified');
  return v;
}

/** Makes the domain due for its periodic check, as if DOMAIN_RECHECK_INTERVAL_MINUTES had passed. */
const makeDue = (d: DomainView) => kit.sql(`UPDATE directory.domains SET next_check_at = now() - interval '1 second' WHERE id = $1`, [d.id]);
const recheck = () => directory.app.get(DomainsService).recheckDue();
const allowedFor = (t: TenantView) => directory.app.get(TenantDomains).allowedFor(undefined, t);
const rowsOf = (tenantId: string) => kit.sql<{ name: string; status: string }>('SELECT name, status FROM directory.domains WHERE tenant_id = $1 ORDER BY name', [tenantId]);
const createUserIn = (tenant: TenantView, loginId: string) => kit.bus.request('musubi.directory.user.create.v1', { tenantId: tenant.id, loginId }, operator());

async function eventsOf(tenantId: string) {
  await outboxDrained(kit, 'directory');
  return (await streamMessages(kit, 'directory')).filter((m) => m.subject.startsWith('musubi.directory.domain.') && m.envelope.tenantId === tenantId);
}

let acme: TenantView;
beforeEach(async () => {
  acme = await createTenant(kit);
});

describe('registering a domain', () => {
  it('normalises the name and says exactly which TXT record to publish', async () => {
    const name = uniqueName('Acme');
    const d = await register(acme, `  ${name.toUpperCase()}. `);
    expect(d).toMatchObject({
      tenantId: acme.id,
      name: name.toLowerCase(),
      unicodeName: name.toLowerCase(),
      status: 'pending',
      challenge: { recordName: `_musubi-challenge.${name.toLowerCase()}`, recordType: 'TXT' },
      lastCheck: null,
      verifiedAt: null,
      lostAt: null,
      nextCheckAt: null,
      version: 1,
    });
    const token = /^musubi-domain-verification=([A-Za-z0-9_-]+)$/.exec(d.challenge.recordValue)?.[1] ?? '';
    expect(Buffer.from(token, 'base64url').length).toBeGreaterThanOrEqual(16);
    expect(await get(d)).toEqual(d);
    expect(await rowsOf(acme.id)).toEqual([{ name: name.toLowerCase(), status: 'pending' }]);
    // Each registration has a token of its own.
    const again = await register(await createTenant(kit), name);
    expect(again.challenge.recordValue).not.toBe(d.challenge.recordValue);
  });

  it('keeps an internationalised name as punycode and shows it as people read it', async () => {
    const unicode = `結び${seq++}-${process.pid.toString(36)}.jp`;
    const d = await register(acme, unicode.replace('.', '。'));
    expect(d.name).toBe(domainToASCII(unicode));
    expect(d.name).toMatch(/^xn--[a-z0-9-]+\.jp$/);
    expect(d.unicodeName).toBe(unicode);
    expect(d.challenge.recordName).toBe(`_musubi-challenge.${d.name}`);
  });

  it('refuses what is not a domain of its own, naming /name, and writes nothing', async () => {
    const refused = [
      '1.2.3.4',
      '192.168.1',
      '0x7f.1',
      '2001:db8::1',
      '[2001:db8::1]',
      'co.jp',
      'CO.JP.',
      'tokyo.jp',
      'co.uk',
      'github.io',
      'com',
      'localhost',
      'musubi.localhost',
      acme.platformDomain,
      `mail.${acme.platformDomain}`,
      'exa mple.co.jp',
      'https://acme.co.jp/',
      'taro@acme.co.jp',
      'acme.co.jp:443',
      '%61cme.co.jp',
      'ac_me.co.jp',
      '-acme.co.jp',
      'acme-.co.jp',
      'acme..co.jp',
      '.',
      ' ',
      'acme.123',
      `${'a'.repeat(64)}.co.jp`,
      `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}.co.jp`,
      // 236 characters: _musubi-challenge.<name> would not fit in 253.
      `${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(47)}.co.jp`,
      '',
    ];
    for (const name of refused) {
      const err = await expectError(register(acme, name), 'validation_failed', '/name').catch((e: unknown) => {
        throw new Error(`${JSON.stringify(name)}: ${(e as Error).message}`);
      });
      expect(err.message).not.toContain('undefined');
    }
    expect(await rowsOf(acme.id)).toEqual([]);
  });

  it('says why a name is refused', async () => {
    const why = async (name: string) => (await expectError(register(acme, name), 'validation_failed', '/name')).details[0]?.detail;
    expect(await why('192.168.0.1')).toMatch(/IP address/);
    expect(await why('co.jp')).toMatch(/public suffix/);
    expect(await why(`x.${acme.platformDomain}`)).toMatch(/platform/);
    expect(await why(`${'a'.repeat(64)}.co.jp`)).toMatch(/63/);
    expect(await why('localhost')).toMatch(/two labels/);
    expect(await why(`${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(47)}.co.jp`)).toMatch(/longer than 235/);
    // The longest name whose challenge record fits is fine.
    const longest = `${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(46)}.co.jp`;
    expect(longest).toHaveLength(235);
    expect(await register(acme, longest)).toMatchObject({ name: longest, challenge: { recordName: `_musubi-challenge.${longest}` } });
  });

  it('refuses the same name twice in one tenant, whatever its case', async () => {
    const name = uniqueName();
    await register(acme, name);
    await expectError(register(acme, name.toUpperCase()), 'conflict', '/name');
    expect(await rowsOf(acme.id)).toHaveLength(1);
  });

  it('lets several tenants register a name nobody has verified yet', async () => {
    const name = uniqueName();
    const a = await register(acme, name);
    const b = await register(await createTenant(kit), name);
    expect([a.status, b.status]).toEqual(['pending', 'pending']);
  });

  it('lets a tenant register at most 100 domains, counting pending ones', async () => {
    for (let i = 0; i < 100; i++) await register(acme, uniqueName('many'));
    await expectError(register(acme, uniqueName('one-more')), 'limit_exceeded');
    expect(await rowsOf(acme.id)).toHaveLength(100);
  });

  it('lists the tenant’s domains a page at a time, and only its own', async () => {
    const mine = [await register(acme, uniqueName()), await register(acme, uniqueName()), await register(acme, uniqueName())];
    await register(await createTenant(kit), uniqueName());
    const first = await list(acme, { limit: 2 });
    expect(first.items.map((d) => d.id)).toEqual(mine.slice(0, 2).map((d) => d.id));
    const second = await list(acme, { limit: 2, cursor: first.nextCursor! });
    expect(second).toEqual({ items: [mine[2]], nextCursor: null });
    await expectError(list(acme, { cursor: 'forged' }), 'validation_failed', '/cursor');
    await expectError(list({ ...acme, id: randomUUID() }), 'not_found');
    await expectError(register({ ...acme, id: randomUUID() }, uniqueName()), 'not_found');
  });
});

describe('verifying with the DNS', () => {
  it('keeps a domain pending while its record is missing, saying so', async () => {
    const d = await register(acme, uniqueName());
    const v = await verify(d);
    expect(v).toMatchObject({ status: 'pending', verifiedAt: null, lastCheck: { outcome: 'record_missing' }, version: 2 });
    expect(v.lastCheck?.message).toContain(d.challenge.recordName);
    expect(v.lastCheck?.message).toMatch(/NXDOMAIN/);
    // The name exists but has no TXT record.
    publish(d, []);
    expect((await verify(d)).lastCheck).toMatchObject({ outcome: 'record_missing', message: expect.stringContaining('no TXT record') });
    expect(await get(d)).toMatchObject({ status: 'pending' });
  });

  it('keeps it pending when the record has a wrong value', async () => {
    const d = await register(acme, uniqueName());
    publish(d, ['v=spf1 -all', 'musubi-domain-verification=someone-elses-token']);
    const v = await verify(d);
    expect(v).toMatchObject({ status: 'pending', lastCheck: { outcome: 'wrong_value' } });
    expect(v.lastCheck?.message).toMatch(/not this registration/);
    // Quoted or padded is not the value either.
    publish(d, [`"${d.challenge.recordValue}"`, ` ${d.challenge.recordValue}`]);
    expect(await verify(d)).toMatchObject({ status: 'pending', lastCheck: { outcome: 'wrong_value' } });
    expect(await allowedFor(acme)).toEqual([acme.platformDomain]);
  });

  it('verifies a domain whose record is among others and split into chunks', async () => {
    const d = await register(acme, uniqueName());
    const value = d.challenge.recordValue;
    publish(d, ['v=spf1 include:_spf.example.com -all', [value.slice(0, 10), value.slice(10, 30), value.slice(30)]]);
    const before = Date.now();
    const v = await verify(d);
    expect(v).toMatchObject({ status: 'verified', lostAt: null, lastCheck: { outcome: 'matched' } });
    expect(Date.parse(v.verifiedAt!)).toBeGreaterThanOrEqual(before - 1000);
    // Due again after DOMAIN_RECHECK_INTERVAL_MINUTES (360 by default).
    expect(Date.parse(v.nextCheckAt!) - Date.parse(v.verifiedAt!)).toBe(360 * 60_000);
    expect(await allowedFor(acme)).toEqual([acme.platformDomain, d.name]);
  });

  it('reads an answer too large for UDP over TCP, as resolvers do', async () => {
    const d = await register(acme, uniqueName());
    publish(d, [...Array.from({ length: 12 }, (_, i) => `filler-${i}-${'x'.repeat(200)}`), d.challenge.recordValue]);
    expect(await verify(d)).toMatchObject({ status: 'verified' });
    const asked = dns.queries.filter((q) => q.name === d.challenge.recordName).map((q) => q.transport);
    expect(asked).toEqual(['udp', 'tcp']);
  });

  it('treats domain names case-insensitively', async () => {
    const name = uniqueName('MiXeD');
    const d = await register(acme, name);
    dns.setTxt(`_MUSUBI-CHALLENGE.${name.toUpperCase()}`, [d.challenge.recordValue]);
    expect(await verify(d)).toMatchObject({ status: 'verified', name: name.toLowerCase() });
    expect(await allowedFor(acme)).toContain(name.toLowerCase());
  });

  it('keeps it pending on a DNS failure, saying it was the DNS', async () => {
    const d = await register(acme, uniqueName());
    publish(d);
    dns.behave(d.challenge.recordName, { rcode: 'SERVFAIL' });
    try {
      const v = await verify(d);
      expect(v).toMatchObject({ status: 'pending', lastCheck: { outcome: 'dns_error' } });
      expect(v.lastCheck?.message).toMatch(/SERVFAIL/);
    } finally {
      dns.behave(d.challenge.recordName, null);
    }
    expect(await verify(d)).toMatchObject({ status: 'verified' });
  });

  it('gives up on a DNS server that does not answer, in time for the reply', async () => {
    const d = await register(acme, uniqueName());
    publish(d);
    dns.behave(d.challenge.recordName, { drop: true });
    try {
      const v = await verify(d);
      expect(v).toMatchObject({ status: 'pending', lastCheck: { outcome: 'timeout' } });
      expect(v.lastCheck?.message).toMatch(/did not answer/);
    } finally {
      dns.behave(d.challenge.recordName, null);
    }
  });

  it('waits for a slow DNS server that answers within the timeout', async () => {
    const d = await register(acme, uniqueName());
    publish(d);
    dns.behave(d.challenge.recordName, { delayMs: 400 });
    try {
      expect(await verify(d)).toMatchObject({ status: 'verified' });
    } finally {
      dns.behave(d.challenge.recordName, null);
    }
  });

  it('emits no event for a failed verification, one for a successful one', async () => {
    const d = await register(acme, uniqueName());
    await verify(d);
    publish(d);
    const v = await verify(d);
    await verify(v); // verified again: no change of status, no event
    const events = await eventsOf(acme.id);
    expect(events.map((e) => e.subject)).toEqual(['musubi.directory.domain.registered.v1', 'musubi.directory.domain.verified.v1']);
    expect(events[1]?.envelope.payload).toEqual({ domain: v, previousStatus: 'pending' });
  });
});

describe('one tenant per domain', () => {
  it("refuses to register a name another tenant verified, without saying which tenant", async () => {
    const d = await verified(acme);
    const globex = await createTenant(kit);
    const err = await expectError(register(globex, d.name.toUpperCase()), 'domain_claimed', '/name');
    const said = JSON.stringify({ message: err.message, details: err.details });
    for (const secret of [acme.id, acme.slug, acme.displayName, d.id]) expect(said).not.toContain(secret);
    expect(await rowsOf(globex.id)).toEqual([]);
  });

  it('refuses to verify a name another tenant verified first, even with its own record published', async () => {
    const name = uniqueName();
    const globex = await createTenant(kit);
    const theirs = await register(globex, name);
    const ours = await verified(acme, name);
    dns.setTxt(ours.challenge.recordName, [ours.challenge.recordValue, theirs.challenge.recordValue]);
    const err = await expectError(verify(theirs), 'domain_claimed');
    expect(err.message).not.toContain(acme.id);
    expect(await get(theirs)).toMatchObject({ status: 'pending', version: 1 });
  });

  it('lets exactly one of two tenants verifying the same name at the same moment win', async () => {
    for (let round = 0; round < 5; round++) {
      const name = uniqueName('race');
      const globex = await createTenant(kit);
      const [a, b] = await Promise.all([register(acme, name), register(globex, name)]);
      dns.setTxt(a.challenge.recordName, [a.challenge.recordValue, b.challenge.recordValue]);
      // Both look-ups are in flight before either records its result.
      dns.behave(a.challenge.recordName, { delayMs: 150 });
      const results = await Promise.allSettled([verify(a), verify(b)]);
      dns.behave(a.challenge.recordName, null);
      const won = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      const lost = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
      expect(won.map((d) => d.status)).toEqual(['verified']);
      expect(lost.map((e) => (e instanceof RemoteError ? e.code : e))).toEqual(['domain_claimed']);
      expect(await kit.sql(`SELECT tenant_id FROM directory.domains WHERE name = $1 AND status = 'verified'`, [name])).toEqual([{ tenant_id: won[0]!.tenantId }]);
    }
  });

  it('frees the name for another tenant once the owner removes it', async () => {
    const d = await verified(acme);
    await remove(d);
    const globex = await createTenant(kit);
    const theirs = await register(globex, d.name);
    publish(theirs);
    expect(await verify(theirs)).toMatchObject({ status: 'verified', tenantId: globex.id });
  });
});

describe('the periodic re-check', () => {
  it('flags a domain lost after two checks in a row without its record, and restores it when verified again', async () => {
    const d = await verified(acme);
    const user = await createUserIn(acme, `taro@${d.name}`);
    unpublish(d);

    await makeDue(d);
    expect(await recheck()).toEqual({ checked: 1, lost: 0, restored: 0 });
    expect(await get(d)).toMatchObject({ status: 'verified', lastCheck: { outcome: 'record_missing' } });

    await makeDue(d);
    expect(await recheck()).toEqual({ checked: 1, lost: 1, restored: 0 });
    const lost = await get(d);
    expect(lost).toMatchObject({ status: 'lost', lastCheck: { outcome: 'record_missing' } });
    expect(lost.lostAt).not.toBeNull();

    // No new login IDs in a lost domain; the users already there are untouched.
    expect(await allowedFor(acme)).toEqual([acme.platformDomain]);
    await expectError(createUserIn(acme, `hanako@${d.name}`), 'validation_failed', '/loginId');
    expect(await kit.bus.request('musubi.directory.user.get.v1', { tenantId: acme.id, userId: user.id }, operator())).toMatchObject({ status: user.status, loginId: user.loginId });

    publish(d);
    const back = await verify(d);
    expect(back).toMatchObject({ status: 'verified', lostAt: null, lastCheck: { outcome: 'matched' } });
    expect(await allowedFor(acme)).toEqual([acme.platformDomain, d.name]);
    await createUserIn(acme, `hanako@${d.name}`);

    const events = (await eventsOf(acme.id)).map((e) => [e.subject, (e.envelope.payload as { domain: DomainView }).domain.status, (e.envelope.payload as { previousStatus?: string }).previousStatus]);
    expect(events).toEqual([
      ['musubi.directory.domain.registered.v1', 'pending', undefined],
      ['musubi.directory.domain.verified.v1', 'verified', 'pending'],
      ['musubi.directory.domain.lapsed.v1', 'lost', undefined],
      ['musubi.directory.domain.verified.v1', 'verified', 'lost'],
    ]);
    // The periodic change is the service's own doing.
    const lapsed = (await eventsOf(acme.id)).find((e) => e.subject === 'musubi.directory.domain.lapsed.v1');
    expect(lapsed?.envelope.actor).toEqual({ kind: 'service', service: 'directory' });
  });

  it('counts a wrong value like a missing record, and forgets a failure the next good check follows', async () => {
    const d = await verified(acme);
    publish(d, ['musubi-domain-verification=not-it']);
    await makeDue(d);
    await recheck();
    publish(d);
    await makeDue(d);
    await recheck();
    publish(d, ['musubi-domain-verification=not-it']);
    await makeDue(d);
    await recheck();
    expect(await get(d)).toMatchObject({ status: 'verified', lastCheck: { outcome: 'wrong_value' } });
    await makeDue(d);
    await recheck();
    expect(await get(d)).toMatchObject({ status: 'lost', lastCheck: { outcome: 'wrong_value' } });
  });

  it('never takes a domain away because the DNS failed or timed out', async () => {
    const d = await verified(acme);
    for (const behaviour of [{ rcode: 'SERVFAIL' as const }, { drop: true }, { rcode: 'REFUSED' as const }]) {
      dns.behave(d.challenge.recordName, behaviour);
      await makeDue(d);
      await recheck();
    }
    dns.behave(d.challenge.recordName, null);
    expect(await get(d)).toMatchObject({ status: 'verified', lastCheck: { outcome: 'dns_error' } });
    expect(await allowedFor(acme)).toContain(d.name);
  }, 30_000);

  it('restores a lost domain by itself when its record is back', async () => {
    const d = await verified(acme);
    unpublish(d);
    for (let i = 0; i < 2; i++) {
      await makeDue(d);
      await recheck();
    }
    expect(await get(d)).toMatchObject({ status: 'lost' });
    publish(d);
    await makeDue(d);
    expect(await recheck()).toEqual({ checked: 1, lost: 0, restored: 1 });
    expect(await get(d)).toMatchObject({ status: 'verified' });
  });

  it('keeps a lost domain from other tenants until its tenant removes it', async () => {
    const d = await verified(acme);
    unpublish(d);
    for (let i = 0; i < 2; i++) {
      await makeDue(d);
      await recheck();
    }
    const globex = await createTenant(kit);
    await expectError(register(globex, d.name), 'domain_claimed');
    await remove(d);
    expect(await register(globex, d.name)).toMatchObject({ status: 'pending' });
  });

  it('checks only domains that are due, and none that are pending', async () => {
    const d = await verified(acme);
    const pending = await register(acme, uniqueName());
    await kit.sql(`UPDATE directory.domains SET next_check_at = now() - interval '1 second' WHERE id = $1`, [pending.id]);
    unpublish(d);
    expect(await recheck()).toEqual({ checked: 0, lost: 0, restored: 0 });
    expect(await get(d)).toMatchObject({ status: 'verified', lastCheck: { outcome: 'matched' } });
  });

  it('lets only one replica check a domain at a time', async () => {
    const second = await kit.start(directoryService, { DNS_SERVERS: dns.address });
    await second.app.get(DomainRecheckJob).stop();
    const d = await verified(acme);
    dns.behave(d.challenge.recordName, { delayMs: 300 });
    try {
      await makeDue(d);
      const before = dns.queries.length;
      const rounds = await Promise.all([recheck(), second.app.get(DomainsService).recheckDue(), recheck(), second.app.get(DomainsService).recheckDue()]);
      expect(rounds.reduce((n, r) => n + r.checked, 0)).toBe(1);
      expect(dns.queries.slice(before).filter((q) => q.name === d.challenge.recordName)).toHaveLength(1);
    } finally {
      dns.behave(d.challenge.recordName, null);
      await second.stop();
    }
    expect(await get(d)).toMatchObject({ status: 'verified', version: 3 });
  });

  it('runs a round from the job the timer drives', async () => {
    const d = await verified(acme);
    unpublish(d);
    await makeDue(d);
    await directory.app.get(DomainRecheckJob).runOnce();
    expect(await get(d)).toMatchObject({ status: 'verified', lastCheck: { outcome: 'record_missing' } });
    expect(Date.parse((await get(d)).nextCheckAt!)).toBeGreaterThan(Date.now() + 359 * 60_000);
  });
});

describe('removing a domain', () => {
  it('is refused while users have login IDs in it, naming how many', async () => {
    const d = await verified(acme);
    await createUserIn(acme, `taro@${d.name}`);
    await createUserIn(acme, `Hanako@${d.name.toUpperCase()}`);
    await createUserIn(acme, `jiro@${acme.platformDomain}`);
    const err = await expectError(remove(d), 'conflict');
    expect(err.message).toMatch(/^2 users /);
    expect(await get(d)).toMatchObject({ status: 'verified' });

    await kit.sql(`DELETE FROM directory.users WHERE tenant_id = $1 AND login_id ILIKE $2`, [acme.id, `%@${d.name}`]);
    expect(await remove(d)).toEqual({});
    await expectError(get(d), 'not_found');
    expect(await allowedFor(acme)).toEqual([acme.platformDomain]);
    const events = await eventsOf(acme.id);
    expect(events.map((e) => e.subject).at(-1)).toBe('musubi.directory.domain.removed.v1');
    expect((events.at(-1)?.envelope.payload as { domain: DomainView }).domain.id).toBe(d.id);
  });

  it('counts only users of the domain itself, not of a sub-domain or a look-alike', async () => {
    const d = await verified(acme);
    const sub = await verified(acme, `mail.${d.name}`);
    await createUserIn(acme, `taro@${sub.name}`);
    expect(await remove(d)).toEqual({});
    await expectError(remove(sub), 'conflict');
  });

  it('removes a pending domain, and a new registration gets a new token', async () => {
    const d = await register(acme, uniqueName());
    await remove(d);
    await expectError(remove(d), 'not_found');
    const again = await register(acme, d.name);
    expect(again.id).not.toBe(d.id);
    expect(again.challenge.recordValue).not.toBe(d.challenge.recordValue);
  });
});

describe("the tenant's login ID domains", () => {
  it('are its platform sub-domain, then its verified domains, in lower case', async () => {
    const [b, a] = [uniqueName('bbb'), uniqueName('aaa')];
    await verified(acme, b.toUpperCase());
    await verified(acme, a);
    await register(acme, uniqueName('pending'));
    await verified(await createTenant(kit), uniqueName('theirs'));
    expect(await allowedFor(acme)).toEqual([acme.platformDomain, a, b]);
  });

  it('let users be created in a domain only once it is verified', async () => {
    const d = await register(acme, uniqueName());
    await expectError(createUserIn(acme, `taro@${d.name}`), 'validation_failed', '/loginId');
    publish(d);
    await verify(d);
    expect(await createUserIn(acme, `taro@${d.name}`)).toMatchObject({ loginId: `taro@${d.name}` });
  });
});

describe('who may manage domains', () => {
  const as = (t: TenantView, roles: Parameters<typeof asUser>[2]) => asUser(t.id, randomUUID(), roles);

  it("lets the tenant's administrators do everything, and its auditors read", async () => {
    const admin = as(acme, ['tenant_admin']);
    const d = await register(acme, uniqueName(), admin);
    publish(d);
    expect(await verify(d, admin)).toMatchObject({ status: 'verified' });
    const auditor = as(acme, ['auditor']);
    expect((await list(acme, {}, auditor)).items.map((x) => x.id)).toEqual([d.id]);
    expect(await get(d, auditor)).toMatchObject({ id: d.id });
    await expectError(register(acme, uniqueName(), auditor), 'forbidden');
    await expectError(verify(d, auditor), 'forbidden');
    await expectError(remove(d, auditor), 'forbidden');
    expect(await remove(d, admin)).toEqual({});
  });

  it('forbids helpdesk and plain users even to read', async () => {
    const d = await register(acme, uniqueName());
    for (const roles of [['helpdesk'], []] as const) {
      const ctx = as(acme, [...roles]);
      await expectError(list(acme, {}, ctx), 'forbidden');
      await expectError(get(d, ctx), 'forbidden');
      await expectError(register(acme, uniqueName(), ctx), 'forbidden');
      await expectError(verify(d, ctx), 'forbidden');
      await expectError(remove(d, ctx), 'forbidden');
    }
    await expectError(list(acme, {}, { ...operator(), caller: { kind: 'anonymous' } }), 'unauthenticated');
  });

  it("keeps each tenant's domains from every other tenant's administrators", async () => {
    const d = await register(acme, uniqueName());
    const globex = await createTenant(kit);
    const intruder = as(globex, ['tenant_admin']);
    await expectError(get(d, intruder), 'not_found');
    await expectError(list(acme, {}, intruder), 'not_found');
    await expectError(verify(d, intruder), 'not_found');
    await expectError(remove(d, intruder), 'not_found');
    await expectError(register(acme, uniqueName(), intruder), 'not_found');
    // Through its own tenant's id, another tenant's domain id names nothing.
    const viaOwn = { tenantId: globex.id, domainId: d.id };
    await expectError(kit.bus.request('musubi.directory.domain.get.v1', viaOwn, intruder), 'not_found');
    await expectError(kit.bus.request('musubi.directory.domain.verify.v1', viaOwn, intruder), 'not_found');
    await expectError(kit.bus.request('musubi.directory.domain.remove.v1', viaOwn, intruder), 'not_found');
    expect((await list(globex, {}, intruder)).items).toEqual([]);
    expect(await get(d)).toMatchObject({ status: 'pending', version: 1 });
  });
});
