import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SignJWT, createLocalJWKSet, exportJWK, generateKeyPair, jwtVerify, type JWK } from 'jose';
import { INTROSPECTION_FEED_SUBJECT, type CallContext, type IntrospectionFeedMessage, type OidcClientCreateBody, type OidcClientWithSecret, type TenantView, type UserView } from '@musubi/contracts';
import { asUser, createTenant, createUser, expectError, operator, outboxDrained, schemaOf, startKit, streamMessages, waitFor, type Kit } from '@musubi/platform/testing';
// The directory is federation's real neighbour on the bus here (users, groups, tenants), started in-process like federation;
// only this test reaches across apps, and only for the service definition.
// eslint-disable-next-line @nx/enforce-module-boundaries
import { directoryService } from '../../directory/src/service.js';
import { federationService } from '../src/service.js';

// The OpenID provider through the federation service itself, with the directory behind it:
// real Postgres, NATS and JetStream. The gateway's HTTP side is covered by test/e2e/oidc-*.

const ENCRYPTION_KEY = randomBytes(32).toString('base64');
const gw = (tenantId: string): CallContext => ({ requestId: 'it', tenantId, caller: { kind: 'service', service: 'gateway' } });
const issuerOf = (t: TenantView) => `http://localhost:8080/t/${t.slug}`;
const s256 = (v: string) => createHash('sha256').update(v).digest('base64url');

let kit: Kit;
let tenant: TenantView;
let other: TenantView;
let user: UserView;

beforeAll(async () => {
  kit = await startKit({ schemas: [schemaOf(directoryService), schemaOf(federationService)] });
  await kit.start(directoryService);
  await kit.start(federationService, { OIDC_KEY_ENCRYPTION_KEY: ENCRYPTION_KEY, OIDC_KEY_PUBLISH_AHEAD_SECONDS: '0' });
  [tenant, other] = await Promise.all([createTenant(kit), createTenant(kit)]);
  user = await createUser(kit, tenant, 'hanako', { displayName: '佐藤 花子', familyName: '佐藤', givenName: '花子', email: `hanako@${tenant.platformDomain}` });
}, 90_000);

afterAll(async () => {
  await kit?.stop();
}, 30_000);

const createClient = (t: TenantView, body: Partial<OidcClientCreateBody> = {}, ctx: CallContext = operator()): Promise<OidcClientWithSecret> =>
  kit.bus.request('musubi.federation.client.create.v1', { tenantId: t.id, name: 'Expense app', ...body }, ctx);

const token = (t: TenantView, params: Record<string, string>, basic: { clientId: string; clientSecret: string } | null = null) =>
  kit.bus.request('musubi.federation.token.issue.v1', { tenantId: t.id, issuer: issuerOf(t), params, basic }, gw(t.id));

const webClient = (t: TenantView = tenant, extra: Partial<OidcClientCreateBody> = {}) =>
  createClient(t, { redirectUris: ['https://app.example.com/callback'], scopes: ['openid', 'profile', 'email', 'offline_access'], defaultScopes: ['openid', 'profile', 'email'], ...extra });

async function jwksOf(t: TenantView) {
  return createLocalJWKSet(await kit.bus.request('musubi.federation.jwks.get.v1', { tenantId: t.id }, gw(t.id)));
}

/** Runs the authorization endpoint as the gateway would, with a signed-in browser session of `u`. */
async function authorize(t: TenantView, params: Record<string, string>, u: UserView = user, sessionId = 'session-1') {
  const start = await kit.bus.request('musubi.federation.authorization.start.v1', { tenantId: t.id, issuer: issuerOf(t), params }, gw(t.id));
  if (start.kind !== 'pending') return start;
  return kit.bus.request(
    'musubi.federation.authorization.continue.v1',
    { tenantId: t.id, issuer: issuerOf(t), requestId: start.requestId, session: { sessionId, userId: u.id, authTime: new Date().toISOString(), amr: ['pwd'] } },
    gw(t.id),
  );
}

function codeFrom(reply: { kind: string; location?: string }): string {
  expect(reply.kind).toBe('redirect');
  const url = new URL((reply as { location: string }).location);
  expect(url.searchParams.get('iss')).toBe(issuerOf(tenant));
  const code = url.searchParams.get('code');
  if (!code) throw new Error(`no code in ${url.toString()}`);
  return code;
}

describe('clients', () => {
  it('registers a confidential client with a high-entropy secret shown once and stored only as its SHA-256', async () => {
    const { client, clientSecret } = await webClient();
    expect(client.clientId).toBe(client.id);
    expect(client.tokenEndpointAuthMethod).toBe('client_secret_basic');
    expect(clientSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const [row] = await kit.sql<{ secret_hash: Buffer; settings: unknown }>('SELECT secret_hash, settings FROM federation.oidc_clients WHERE id = $1', [client.id]);
    expect(row?.secret_hash.equals(createHash('sha256').update(clientSecret ?? '').digest())).toBe(true);
    expect(JSON.stringify(row?.settings)).not.toContain(clientSecret);
    const read = await kit.bus.request('musubi.federation.client.get.v1', { tenantId: tenant.id, clientId: client.id }, operator());
    expect(read).toEqual(client);
    expect(JSON.stringify(read)).not.toContain(clientSecret);
  });

  it('refuses unsafe redirect URIs, a public client with a secret method, and reserved mapped claims', async () => {
    for (const uri of ['http://app.example.com/cb', 'https://good@evil.example/cb', 'https://app.example.com/cb#frag', 'javascript:alert(1)', 'com.example.app:/cb']) {
      await expectError(createClient(tenant, { redirectUris: [uri] }), 'validation_failed');
    }
    await expectError(createClient(tenant, { redirectUris: ['https://app.example.com/cb'], claimMapping: { sub: 'externalId' } }), 'validation_failed', '/claimMapping/sub');
    await expectError(createClient(tenant, { type: 'public', tokenEndpointAuthMethod: 'client_secret_basic', redirectUris: ['https://spa.example.com/cb'] }), 'validation_failed', '/tokenEndpointAuthMethod');
    await expectError(createClient(tenant, { type: 'public', grantTypes: ['client_credentials'] }), 'validation_failed', '/grantTypes');
    const [{ n } = { n: -1 }] = await kit.sql<{ n: number }>('SELECT count(*)::int AS n FROM federation.oidc_clients WHERE settings->>\'name\' = $1', ['Expense app']);
    expect(n).toBeGreaterThan(0);
  });

  it('keeps tenants apart and checks roles', async () => {
    const { client } = await webClient();
    await expectError(kit.bus.request('musubi.federation.client.get.v1', { tenantId: other.id, clientId: client.id }, operator()), 'not_found');
    await expectError(kit.bus.request('musubi.federation.client.get.v1', { tenantId: tenant.id, clientId: client.id }, asUser(other.id, undefined, ['tenant_admin'])), 'not_found');
    await expectError(createClient(tenant, {}, asUser(tenant.id, undefined, ['auditor'])), 'forbidden');
    await expectError(createClient(tenant, {}, asUser(tenant.id, undefined, ['helpdesk'])), 'forbidden');
    await expect(kit.bus.request('musubi.federation.client.get.v1', { tenantId: tenant.id, clientId: client.id }, asUser(tenant.id, undefined, ['auditor']))).resolves.toMatchObject({ id: client.id });
  });

  it('lists by pages, updates with a version check, rotates the secret and deletes', async () => {
    const t = await createTenant(kit);
    const made = [];
    for (let i = 0; i < 3; i++) made.push((await webClient(t, { name: `App ${i}` })).client);
    const p1 = await kit.bus.request('musubi.federation.client.list.v1', { tenantId: t.id, limit: 2 }, operator());
    expect(p1.items.map((c) => c.name)).toEqual(['App 0', 'App 1']);
    const p2 = await kit.bus.request('musubi.federation.client.list.v1', { tenantId: t.id, limit: 2, cursor: p1.nextCursor ?? '' }, operator());
    expect(p2.items.map((c) => c.name)).toEqual(['App 2']);
    expect(p2.nextCursor).toBeNull();
    const first = made[0]!;
    await expectError(kit.bus.request('musubi.federation.client.update.v1', { tenantId: t.id, clientId: first.id, expectedVersion: 7, changes: { name: 'x' } }, operator()), 'precondition_failed');
    const updated = await kit.bus.request('musubi.federation.client.update.v1', { tenantId: t.id, clientId: first.id, expectedVersion: 1, changes: { name: '経費精算', groupsClaim: true } }, operator());
    expect(updated).toMatchObject({ name: '経費精算', groupsClaim: true, version: 2 });
    const rotated = await kit.bus.request('musubi.federation.client.secret-rotate.v1', { tenantId: t.id, clientId: first.id }, operator());
    expect(rotated.clientSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await token(t, { grant_type: 'client_credentials' }, { clientId: first.id, clientSecret: rotated.clientSecret ?? '' })).kind).toBe('oauth_error');
    await kit.bus.request('musubi.federation.client.delete.v1', { tenantId: t.id, clientId: first.id }, operator());
    await expectError(kit.bus.request('musubi.federation.client.get.v1', { tenantId: t.id, clientId: first.id }, operator()), 'not_found');
    await outboxDrained(kit, 'federation');
    const subjects = (await streamMessages(kit, 'federation')).filter((m) => m.envelope.tenantId === t.id).map((m) => m.subject);
    expect(subjects).toEqual(expect.arrayContaining(['musubi.federation.client.created.v1', 'musubi.federation.client.updated.v1', 'musubi.federation.client.secret-rotated.v1', 'musubi.federation.client.deleted.v1']));
  });
});

describe('client credentials, introspection, revocation', () => {
  let cc: OidcClientWithSecret;
  beforeAll(async () => {
    cc = await createClient(tenant, { grantTypes: ['client_credentials'], scopes: ['reports.read', 'reports.write'], defaultScopes: ['reports.read'] });
  });
  const creds = () => ({ clientId: cc.client.id, clientSecret: cc.clientSecret ?? '' });

  it('issues an ES256 access token (RFC 9068) verifiable with the tenant JWKS, and records it for audit', async () => {
    const reply = await token(tenant, { grant_type: 'client_credentials' }, creds());
    if (reply.kind !== 'tokens') throw new Error(JSON.stringify(reply));
    expect(reply).toMatchObject({ tokenType: 'Bearer', expiresIn: 600, scope: 'reports.read' });
    const { payload, protectedHeader } = await jwtVerify(reply.accessToken, await jwksOf(tenant), { issuer: issuerOf(tenant), typ: 'at+jwt', algorithms: ['ES256'] });
    expect(protectedHeader.alg).toBe('ES256');
    expect(payload).toMatchObject({ sub: cc.client.id, client_id: cc.client.id, scope: 'reports.read' });
    // Recorded before the token was answered; reported to the trail within a second or so.
    const [recorded] = await kit.sql<{ n: number }>('SELECT count(*)::int AS n FROM federation.issued_tokens WHERE jti = $1', [payload.jti]);
    const reportedAlready = recorded?.n === 0;
    const issued = await waitFor(
      'the token.issued event',
      async () => {
        const found = (await streamMessages(kit, 'federation')).filter(
          (m) => m.subject === 'musubi.federation.token.issued.v1' && (m.envelope.payload as { tokenIds: string[] }).tokenIds.includes(payload.jti ?? ''),
        );
        return found.length > 0 ? found : null;
      },
      10_000,
    );
    expect(reportedAlready || recorded?.n === 1).toBe(true);
    expect(issued[0]?.envelope).toMatchObject({ tenantId: tenant.id, payload: { grantType: 'client_credentials', client: { id: cc.client.id }, scopes: ['reports.read'] } });
    expect(issued.map((m) => m.raw).join()).not.toContain(reply.accessToken);
  });

  it('accepts client_secret_post only for a client registered with it, and refuses wrong secrets and two methods at once', async () => {
    expect(await token(tenant, { grant_type: 'client_credentials', client_id: cc.client.id, client_secret: cc.clientSecret ?? '' })).toMatchObject({ kind: 'oauth_error', error: 'invalid_client' });
    expect(await token(tenant, { grant_type: 'client_credentials' }, { ...creds(), clientSecret: 'wrong' })).toMatchObject({ kind: 'oauth_error', error: 'invalid_client' });
    expect(await token(tenant, { grant_type: 'client_credentials', client_secret: 'x' }, creds())).toMatchObject({ kind: 'oauth_error', error: 'invalid_request' });
    expect(await token(tenant, { grant_type: 'password', username: 'a', password: 'b' }, creds())).toMatchObject({ kind: 'oauth_error', error: 'unsupported_grant_type' });
    expect(await token(tenant, { grant_type: 'client_credentials', scope: 'openid admin' }, creds())).toMatchObject({ kind: 'oauth_error', error: 'invalid_scope' });
    const post = await createClient(tenant, { grantTypes: ['client_credentials'], tokenEndpointAuthMethod: 'client_secret_post', scopes: ['a'] });
    expect(await token(tenant, { grant_type: 'client_credentials', client_id: post.client.id, client_secret: post.clientSecret ?? '' })).toMatchObject({ kind: 'tokens', scope: '' });
  });

  it('refuses the same credentials at another tenant', async () => {
    expect(await token(other, { grant_type: 'client_credentials' }, creds())).toMatchObject({ kind: 'oauth_error', error: 'invalid_client' });
  });

  it('private_key_jwt: accepts a signed assertion once and refuses its replay, HS256 and alg none', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk: JWK = { ...(await exportJWK(publicKey)), kid: 'rp-1', alg: 'ES256' };
    const pkj = await createClient(tenant, { grantTypes: ['client_credentials'], tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [jwk] }, scopes: ['a'] });
    expect(pkj.clientSecret).toBeNull();
    const assertion = await new SignJWT({ jti: randomBytes(8).toString('hex') })
      .setProtectedHeader({ alg: 'ES256', kid: 'rp-1' })
      .setIssuer(pkj.client.id)
      .setSubject(pkj.client.id)
      .setAudience(`${issuerOf(tenant)}/oauth2/token`)
      .setIssuedAt()
      .setExpirationTime('2m')
      .sign(privateKey);
    const params = { grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion };
    expect(await token(tenant, params)).toMatchObject({ kind: 'tokens' });
    expect(await token(tenant, params)).toMatchObject({ kind: 'oauth_error', error: 'invalid_client' });
    const hs = await new SignJWT({ jti: 'hs' }).setProtectedHeader({ alg: 'HS256' }).setIssuer(pkj.client.id).setSubject(pkj.client.id).setAudience(issuerOf(tenant)).setExpirationTime('2m').sign(new TextEncoder().encode(JSON.stringify(jwk)));
    expect(await token(tenant, { ...params, client_assertion: hs })).toMatchObject({ kind: 'oauth_error', error: 'invalid_client' });
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ iss: pkj.client.id, sub: pkj.client.id, aud: issuerOf(tenant), jti: 'n', exp: 9999999999 })).toString('base64url')}.`;
    expect(await token(tenant, { ...params, client_assertion: none })).toMatchObject({ kind: 'oauth_error', error: 'invalid_client' });
  });

  it('introspects live tokens, and forged, foreign and revoked ones as inactive', async () => {
    const reply = await token(tenant, { grant_type: 'client_credentials', scope: 'reports.write' }, creds());
    if (reply.kind !== 'tokens') throw new Error('no token');
    const introspect = (t: TenantView, tok: string) => kit.bus.request('musubi.federation.token.introspect.v1', { tenantId: t.id, issuer: issuerOf(t), params: { token: tok }, basic: creds() }, gw(t.id));
    expect(await introspect(tenant, reply.accessToken)).toMatchObject({ kind: 'introspection', response: { active: true, scope: 'reports.write', client_id: cc.client.id } });
    const [h, p] = reply.accessToken.split('.') as [string, string];
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    const forgedPayload = Buffer.from(JSON.stringify({ ...claims, scope: 'admin' })).toString('base64url');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt', kid: JSON.parse(Buffer.from(h, 'base64url').toString()).kid })).toString('base64url')}.${forgedPayload}.`;
    expect(await introspect(tenant, none)).toMatchObject({ response: { active: false } });
    expect(await introspect(tenant, `${h}.${forgedPayload}.${reply.accessToken.split('.')[2]}`)).toMatchObject({ response: { active: false } });
    // HS256 with the tenant's public key as the secret: the classic algorithm confusion.
    const jwks = await kit.bus.request('musubi.federation.jwks.get.v1', { tenantId: tenant.id }, gw(tenant.id));
    const hs = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: String(jwks.keys[0]?.['kid']) }).sign(new TextEncoder().encode(JSON.stringify(jwks.keys[0])));
    expect(await introspect(tenant, hs)).toMatchObject({ response: { active: false } });
    // A token of this tenant means nothing at another one (its key and issuer are this tenant's).
    const otherCc = await createClient(other, { grantTypes: ['client_credentials'], scopes: ['a'] });
    expect(
      await kit.bus.request('musubi.federation.token.introspect.v1', { tenantId: other.id, issuer: issuerOf(other), params: { token: reply.accessToken }, basic: { clientId: otherCc.client.id, clientSecret: otherCc.clientSecret ?? '' } }, gw(other.id)),
    ).toMatchObject({ response: { active: false } });
    expect(await kit.bus.request('musubi.federation.token.revoke.v1', { tenantId: tenant.id, issuer: issuerOf(tenant), params: { token: reply.accessToken }, basic: creds() }, gw(tenant.id))).toEqual({ kind: 'revoked', accessToken: { jti: expect.any(String), exp: expect.any(Number) } });
    expect(await introspect(tenant, reply.accessToken)).toMatchObject({ response: { active: false } });
  });

  it("spreads a revocation to every replica's index, and a deleted client's tokens die with it", async () => {
    // A second federation replica on the same bus and database: requests go to either.
    await kit.start(federationService, { OIDC_KEY_ENCRYPTION_KEY: ENCRYPTION_KEY, OIDC_KEY_PUBLISH_AHEAD_SECONDS: '0' });
    const svc = await createClient(tenant, { grantTypes: ['client_credentials'], scopes: ['a'] });
    const creds = { clientId: svc.client.id, clientSecret: svc.clientSecret ?? '' };
    const issue = async () => {
      const r = await token(tenant, { grant_type: 'client_credentials' }, creds);
      if (r.kind !== 'tokens') throw new Error(JSON.stringify(r));
      return r.accessToken;
    };
    const active = async (tok: string) => {
      const r = await kit.bus.request('musubi.federation.token.introspect.v1', { tenantId: tenant.id, issuer: issuerOf(tenant), params: { token: tok }, basic: creds }, gw(tenant.id));
      return r.kind === 'introspection' && r.response['active'] === true;
    };
    const [revoked, kept] = [await issue(), await issue()];
    await kit.bus.request('musubi.federation.token.revoke.v1', { tenantId: tenant.id, issuer: issuerOf(tenant), params: { token: revoked }, basic: creds }, gw(tenant.id));
    const answers = async (tok: string) => Promise.all(Array.from({ length: 24 }, () => active(tok)));
    await waitFor('both replicas to know the revocation', async () => (await answers(revoked)).every((a) => !a), 3000);
    expect((await answers(kept)).every(Boolean)).toBe(true);
    await kit.bus.request('musubi.federation.client.delete.v1', { tenantId: tenant.id, clientId: svc.client.id }, operator());
    const other2 = await createClient(tenant, { grantTypes: ['client_credentials'], scopes: ['a'] });
    const r = await kit.bus.request(
      'musubi.federation.token.introspect.v1',
      { tenantId: tenant.id, issuer: issuerOf(tenant), params: { token: kept }, basic: { clientId: other2.client.id, clientSecret: other2.clientSecret ?? '' } },
      gw(tenant.id),
    );
    expect(r).toMatchObject({ response: { active: false } });
  });

  it('needs an authenticated client to introspect', async () => {
    const pub = await createClient(tenant, { type: 'public', redirectUris: ['https://spa.example.com/cb'] });
    expect(await kit.bus.request('musubi.federation.token.introspect.v1', { tenantId: tenant.id, issuer: issuerOf(tenant), params: { token: 'x', client_id: pub.client.id }, basic: null }, gw(tenant.id))).toMatchObject({
      kind: 'oauth_error',
      error: 'invalid_client',
    });
  });
});

describe("the gateway's introspection feed", () => {
  it('relays revocations and client changes in order, numbered, with heartbeats; the snapshot holds the revocations', async () => {
    const seen: IntrospectionFeedMessage[] = [];
    const sub = kit.nc.subscribe(INTROSPECTION_FEED_SUBJECT, { callback: (_err, m) => void seen.push(m.json<IntrospectionFeedMessage>()) });
    try {
      const svc = await createClient(tenant, { grantTypes: ['client_credentials'], scopes: ['a'] });
      const creds = { clientId: svc.client.id, clientSecret: svc.clientSecret ?? '' };
      const issued = await token(tenant, { grant_type: 'client_credentials' }, creds);
      if (issued.kind !== 'tokens') throw new Error(JSON.stringify(issued));
      const revoked = await kit.bus.request('musubi.federation.token.revoke.v1', { tenantId: tenant.id, issuer: issuerOf(tenant), params: { token: issued.accessToken }, basic: creds }, gw(tenant.id));
      if (revoked.kind !== 'revoked' || !revoked.accessToken) throw new Error(JSON.stringify(revoked));
      const jti = revoked.accessToken.jti;
      await kit.bus.request('musubi.federation.client.delete.v1', { tenantId: tenant.id, clientId: svc.client.id }, operator());
      const changes = await waitFor('the revocation, the deletion and a heartbeat after them on the feed', () =>
        Promise.resolve(seen.some((m) => m.change?.k === 'j' && m.change.jti === jti) && seen.some((m) => m.change?.k === 'c' && m.change.clientId === svc.client.id) && !seen.at(-1)?.change ? seen.filter((m) => m.change) : null),
      );
      // Per source: changes numbered 1, 2, 3… with no gap, and heartbeats repeating the last number.
      const bySource = new Map<string, number>();
      for (const m of seen) {
        expect(m.ready).toBe(true);
        const last = bySource.get(m.source);
        if (last !== undefined) expect(m.seq).toBe(m.change ? last + 1 : last);
        bySource.set(m.source, m.seq);
      }
      expect(changes.length).toBeGreaterThanOrEqual(2);
      expect(seen.some((m) => !m.change)).toBe(true);
      const snap = await kit.bus.request('musubi.federation.introspection-state.get.v1', {}, gw(tenant.id));
      expect(snap).toMatchObject({ ready: true, accessTokenTtlSeconds: 600 });
      expect(snap.revokedTokens.map((t) => t.jti)).toContain(jti);
      // The deleted client is gone for the gateway too.
      expect(await kit.bus.request('musubi.federation.client-credential.get.v1', { tenantId: tenant.id, clientId: svc.client.id }, gw(tenant.id))).toEqual({ client: null });
    } finally {
      sub.unsubscribe();
    }
  });

  it("gives a client's secret hash, and the snapshot, to the gateway only, and only within the tenant", async () => {
    const svc = await createClient(tenant, { grantTypes: ['client_credentials'], scopes: ['a'] });
    const got = await kit.bus.request('musubi.federation.client-credential.get.v1', { tenantId: tenant.id, clientId: svc.client.id }, gw(tenant.id));
    expect(got).toEqual({ client: { clientId: svc.client.id, tokenEndpointAuthMethod: 'client_secret_basic', secretHash: createHash('sha256').update(svc.clientSecret ?? '').digest('base64url') } });
    expect(await kit.bus.request('musubi.federation.client-credential.get.v1', { tenantId: other.id, clientId: svc.client.id }, gw(other.id))).toEqual({ client: null });
    const authn: CallContext = { requestId: 'it', tenantId: tenant.id, caller: { kind: 'service', service: 'authn' } };
    await expectError(kit.bus.request('musubi.federation.client-credential.get.v1', { tenantId: tenant.id, clientId: svc.client.id }, authn), 'forbidden');
    await expectError(kit.bus.request('musubi.federation.introspection-state.get.v1', {}, authn), 'forbidden');
    await expectError(kit.bus.request('musubi.federation.client-credential.get.v1', { tenantId: tenant.id, clientId: svc.client.id }, asUser(tenant.id, undefined, ['tenant_admin'])), 'forbidden');
  });
});

describe('signing keys', () => {
  it('seals private keys at rest and rotates with overlap: the next key is published, the old one stays', async () => {
    const t = await createTenant(kit);
    const before = await kit.bus.request('musubi.federation.jwks.get.v1', { tenantId: t.id }, gw(t.id));
    expect(before.keys).toHaveLength(1);
    expect(before.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(before.keys[0]).not.toHaveProperty('d');
    const [row] = await kit.sql<{ private_key: Buffer }>('SELECT private_key FROM federation.signing_keys WHERE tenant_id = $1', [t.id]);
    expect(row?.private_key.toString('latin1')).not.toContain('"d"');
    const rotated = await kit.bus.request('musubi.federation.signing-key.rotate.v1', { tenantId: t.id, alg: 'ES256' }, operator());
    const after = await kit.bus.request('musubi.federation.jwks.get.v1', { tenantId: t.id }, gw(t.id));
    expect(after.keys.map((k) => k['kid']).sort()).toEqual([before.keys[0]?.['kid'], rotated.kid].sort());
    const list = await kit.bus.request('musubi.federation.signing-key.list.v1', { tenantId: t.id }, operator());
    expect(list.items.map((k) => k.state).sort()).toEqual(['active', 'retiring']);
    const c = await createClient(t, { grantTypes: ['client_credentials'], scopes: ['a'] });
    const reply = await token(t, { grant_type: 'client_credentials' }, { clientId: c.client.id, clientSecret: c.clientSecret ?? '' });
    if (reply.kind !== 'tokens') throw new Error('no token');
    expect(JSON.parse(Buffer.from(reply.accessToken.split('.')[0] ?? '', 'base64url').toString()).kid).toBe(rotated.kid);
  });
});

describe('authorization code with PKCE', () => {
  const verifier = randomBytes(32).toString('base64url');
  const base = (clientId: string, extra: Record<string, string> = {}) => ({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: 'https://app.example.com/callback',
    scope: 'openid profile email',
    state: 'st-1',
    nonce: 'n-1',
    code_challenge: s256(verifier),
    code_challenge_method: 'S256',
    ...extra,
  });

  it('issues a code, then tokens with an ID token carrying directory claims, userinfo, and refresh rotation with family revocation', async () => {
    const app = await webClient();
    const creds = { clientId: app.client.id, clientSecret: app.clientSecret ?? '' };
    const code = codeFrom(await authorize(tenant, base(app.client.id)));
    const reply = await token(tenant, { grant_type: 'authorization_code', code, redirect_uri: 'https://app.example.com/callback', code_verifier: verifier }, creds);
    if (reply.kind !== 'tokens') throw new Error(JSON.stringify(reply));
    const { payload } = await jwtVerify(reply.idToken ?? '', await jwksOf(tenant), { issuer: issuerOf(tenant), audience: app.client.id });
    expect(payload).toMatchObject({ sub: user.id, nonce: 'n-1', name: '佐藤 花子', family_name: '佐藤', given_name: '花子', email: `hanako@${tenant.platformDomain}`, amr: ['pwd'] });
    expect(typeof payload['auth_time']).toBe('number');
    const info = await kit.bus.request('musubi.federation.userinfo.get.v1', { tenantId: tenant.id, issuer: issuerOf(tenant), accessToken: reply.accessToken }, gw(tenant.id));
    expect(info).toMatchObject({ kind: 'claims', claims: { sub: user.id, name: '佐藤 花子' } });

    const r1 = reply.refreshToken ?? '';
    const second = await token(tenant, { grant_type: 'refresh_token', refresh_token: r1 }, creds);
    if (second.kind !== 'tokens') throw new Error(JSON.stringify(second));
    expect(second.refreshToken).not.toBe(r1);
    // The old one again: refused, and the whole family (the new refresh token and the access tokens) revoked.
    expect(await token(tenant, { grant_type: 'refresh_token', refresh_token: r1 }, creds)).toMatchObject({ kind: 'oauth_error', error: 'invalid_grant' });
    expect(await token(tenant, { grant_type: 'refresh_token', refresh_token: second.refreshToken ?? '' }, creds)).toMatchObject({ kind: 'oauth_error', error: 'invalid_grant' });
    expect(await kit.bus.request('musubi.federation.userinfo.get.v1', { tenantId: tenant.id, issuer: issuerOf(tenant), accessToken: second.accessToken }, gw(tenant.id))).toMatchObject({ error: 'invalid_token' });
    await outboxDrained(kit, 'federation');
    const subjects = (await streamMessages(kit, 'federation')).filter((m) => m.envelope.tenantId === tenant.id).map((m) => m.subject);
    expect(subjects).toEqual(expect.arrayContaining(['musubi.federation.authorization.granted.v1', 'musubi.federation.token.reuse-detected.v1']));
  });

  it('a reused code is refused and revokes what the first use issued; an expired code is refused', async () => {
    const app = await webClient();
    const creds = { clientId: app.client.id, clientSecret: app.clientSecret ?? '' };
    const code = codeFrom(await authorize(tenant, base(app.client.id)));
    const params = { grant_type: 'authorization_code', code, redirect_uri: 'https://app.example.com/callback', code_verifier: verifier };
    const first = await token(tenant, params, creds);
    if (first.kind !== 'tokens') throw new Error('no tokens');
    expect(await token(tenant, params, creds)).toMatchObject({ error: 'invalid_grant' });
    expect(await token(tenant, { grant_type: 'refresh_token', refresh_token: first.refreshToken ?? '' }, creds)).toMatchObject({ error: 'invalid_grant' });

    const late = codeFrom(await authorize(tenant, base(app.client.id)));
    await kit.sql("UPDATE federation.authorization_codes SET expires_at = now() - interval '1 second' WHERE code_hash = $1", [createHash('sha256').update(late).digest()]);
    expect(await token(tenant, { ...params, code: late }, creds)).toMatchObject({ error: 'invalid_grant', errorDescription: 'The code has expired.' });
  });

  it('PKCE: plain, a missing challenge for a public client, a wrong verifier and a verifier without challenge are refused', async () => {
    const app = await webClient();
    const creds = { clientId: app.client.id, clientSecret: app.clientSecret ?? '' };
    const plain = await authorize(tenant, base(app.client.id, { code_challenge_method: 'plain', code_challenge: verifier }));
    expect(plain.kind).toBe('redirect');
    expect(new URL((plain as { location: string }).location).searchParams.get('error')).toBe('invalid_request');
    const pub = await createClient(tenant, { type: 'public', redirectUris: ['http://127.0.0.1/cb'] });
    const { code_challenge: _c, code_challenge_method: _m, ...noPkce } = base(pub.client.id, { redirect_uri: 'http://127.0.0.1/cb' });
    const missing = await authorize(tenant, noPkce);
    expect(new URL((missing as { location: string }).location).searchParams.get('error')).toBe('invalid_request');
    const code = codeFrom(await authorize(tenant, base(app.client.id)));
    expect(await token(tenant, { grant_type: 'authorization_code', code, redirect_uri: 'https://app.example.com/callback', code_verifier: randomBytes(32).toString('base64url') }, creds)).toMatchObject({ error: 'invalid_grant' });
    const { code_challenge: _c2, code_challenge_method: _m2, ...confidentialNoPkce } = base(app.client.id);
    const code2 = codeFrom(await authorize(tenant, confidentialNoPkce));
    expect(await token(tenant, { grant_type: 'authorization_code', code: code2, redirect_uri: 'https://app.example.com/callback', code_verifier: verifier }, creds)).toMatchObject({ error: 'invalid_grant' });
  });

  it('shows an error page, never a redirect, for unregistered redirect URIs; lets a native loopback vary its port only', async () => {
    const app = await webClient();
    for (const uri of [
      'https://app.example.com/callback/',
      'https://APP.example.com/callback',
      'https://app.example.com/Callback',
      'https://app.example.com/callback?x=1',
      'https://app.example.com/callback#f',
      'https://good@app.example.com/callback',
      'https://app.example.com:8443/callback',
      'https://evil.app.example.com/callback',
      'http://app.example.com/callback',
    ]) {
      const r = await kit.bus.request('musubi.federation.authorization.start.v1', { tenantId: tenant.id, issuer: issuerOf(tenant), params: base(app.client.id, { redirect_uri: uri }) }, gw(tenant.id));
      expect({ uri, kind: r.kind }).toEqual({ uri, kind: 'error_page' });
    }
    const unknown = await kit.bus.request('musubi.federation.authorization.start.v1', { tenantId: tenant.id, issuer: issuerOf(tenant), params: base('0190f5b4-0000-7000-8000-000000000000') }, gw(tenant.id));
    expect(unknown.kind).toBe('error_page');
    const pub = await createClient(tenant, { type: 'public', redirectUris: ['http://127.0.0.1/cb'] });
    expect((await authorize(tenant, base(pub.client.id, { redirect_uri: 'http://127.0.0.1:53211/cb', scope: 'openid' }))).kind).toBe('redirect');
    const r = await kit.bus.request('musubi.federation.authorization.start.v1', { tenantId: tenant.id, issuer: issuerOf(tenant), params: base(pub.client.id, { redirect_uri: 'http://127.0.0.1:53211/other' }) }, gw(tenant.id));
    expect(r.kind).toBe('error_page');
  });

  it('prompt=none without a session is login_required; consent is asked beyond the default scopes', async () => {
    const app = await webClient();
    const start = await kit.bus.request('musubi.federation.authorization.start.v1', { tenantId: tenant.id, issuer: issuerOf(tenant), params: base(app.client.id, { prompt: 'none' }) }, gw(tenant.id));
    if (start.kind !== 'pending') throw new Error('not pending');
    const none = await kit.bus.request('musubi.federation.authorization.continue.v1', { tenantId: tenant.id, issuer: issuerOf(tenant), requestId: start.requestId, session: null }, gw(tenant.id));
    const url = new URL((none as { location: string }).location);
    expect([url.searchParams.get('error'), url.searchParams.get('state'), url.searchParams.get('iss')]).toEqual(['login_required', 'st-1', issuerOf(tenant)]);
    const consent = await authorize(tenant, base(app.client.id, { scope: 'openid offline_access' }));
    expect(consent).toEqual({ kind: 'consent', clientName: 'Expense app', scopes: ['openid', 'offline_access'], formActionSource: 'https://app.example.com' });
  });

  it('asks for a fresh sign-in past max_age and with prompt=login; prompt=none then says login_required', async () => {
    const app = await webClient();
    const cont = async (params: Record<string, string>, authTime: Date) => {
      const start = await kit.bus.request('musubi.federation.authorization.start.v1', { tenantId: tenant.id, issuer: issuerOf(tenant), params }, gw(tenant.id));
      if (start.kind !== 'pending') throw new Error(JSON.stringify(start));
      return kit.bus.request(
        'musubi.federation.authorization.continue.v1',
        { tenantId: tenant.id, issuer: issuerOf(tenant), requestId: start.requestId, session: { sessionId: 's-old', userId: user.id, authTime: authTime.toISOString(), amr: ['pwd'] } },
        gw(tenant.id),
      );
    };
    const hourAgo = new Date(Date.now() - 3_600_000);
    expect(await cont(base(app.client.id, { max_age: '60', login_hint: user.loginId }), hourAgo)).toEqual({ kind: 'login', loginHint: user.loginId });
    expect(await cont(base(app.client.id, { prompt: 'login' }), hourAgo)).toEqual({ kind: 'login', loginHint: null });
    // max_age=0: only a sign-in made for this very request will do.
    expect(await cont(base(app.client.id, { max_age: '0' }), new Date(Date.now() - 10_000))).toMatchObject({ kind: 'login' });
    expect((await cont(base(app.client.id, { max_age: '0', scope: 'openid' }), new Date(Date.now() + 500))).kind).toBe('redirect');
    const none = await cont(base(app.client.id, { prompt: 'none', max_age: '60' }), hourAgo);
    expect(new URL((none as { location: string }).location).searchParams.get('error')).toBe('login_required');
    // A sign-in within max_age goes through, and the ID token says when it happened.
    const recent = new Date(Date.now() - 5_000);
    const code = codeFrom(await cont(base(app.client.id, { max_age: '60', acr_values: 'urn:musubi:acr:pwd' }), recent));
    const reply = await token(tenant, { grant_type: 'authorization_code', code, redirect_uri: 'https://app.example.com/callback', code_verifier: verifier }, { clientId: app.client.id, clientSecret: app.clientSecret ?? '' });
    if (reply.kind !== 'tokens') throw new Error(JSON.stringify(reply));
    const { payload } = await jwtVerify(reply.idToken ?? '', await jwksOf(tenant), { issuer: issuerOf(tenant) });
    expect(payload['auth_time']).toBe(Math.floor(recent.getTime() / 1000));
    expect(payload['acr']).toBe('urn:musubi:acr:pwd');
  });

  it('signs ID tokens with RS256 for a client that asks for it', async () => {
    const app = await webClient(tenant, { idTokenSignedResponseAlg: 'RS256' });
    const code = codeFrom(await authorize(tenant, base(app.client.id)));
    const reply = await token(tenant, { grant_type: 'authorization_code', code, redirect_uri: 'https://app.example.com/callback', code_verifier: verifier }, { clientId: app.client.id, clientSecret: app.clientSecret ?? '' });
    if (reply.kind !== 'tokens') throw new Error(JSON.stringify(reply));
    const { protectedHeader } = await jwtVerify(reply.idToken ?? '', await jwksOf(tenant), { issuer: issuerOf(tenant), algorithms: ['RS256'] });
    expect(protectedHeader.alg).toBe('RS256');
  });

  it('keeps users out of an application they are not assigned to, directly or through a group', async () => {
    const app = await webClient(tenant, { assignmentRequired: true });
    const denied = await authorize(tenant, base(app.client.id));
    expect(new URL((denied as { location: string }).location).searchParams.get('error')).toBe('access_denied');
    const group = await kit.bus.request('musubi.directory.group.create.v1', { tenantId: tenant.id, name: `経理-${randomBytes(3).toString('hex')}` }, operator());
    await kit.bus.request('musubi.directory.group.members-add.v1', { tenantId: tenant.id, groupId: group.id, members: [{ kind: 'user', id: user.id }] }, operator());
    await kit.bus.request('musubi.federation.client.update.v1', { tenantId: tenant.id, clientId: app.client.id, changes: { assignedGroupIds: [group.id] } }, operator());
    codeFrom(await authorize(tenant, base(app.client.id)));
  });
});
