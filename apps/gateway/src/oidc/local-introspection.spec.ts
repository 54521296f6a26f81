import { createHash, createHmac, generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import { beforeEach, describe, expect, it } from '@jest/globals';
import type { ClientRecord, IntrospectionState, VerificationKey } from './introspection-state.js';
import { LocalIntrospection } from './local-introspection.js';

// The gateway's own introspection against a stand-in for its copy of federation's
// state: real ES256 keys and tokens, the attacks federation refuses refused here
// too, and everything it cannot decide handed to federation (null).

const TENANT_A = randomUUID();
const TENANT_B = randomUUID();
const ISSUER_A = 'https://id.example/t/a';
const ISSUER_B = 'https://id.example/t/b';
const SECRET = 'caller-secret-0123456789abcdefghijklmnop';
const CALLER = randomUUID();
const ISSUED_TO = randomUUID();
const sha = (s: string) => createHash('sha256').update(s).digest();

const keysA = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const keysB = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

function jwt(claims: Record<string, unknown>, opts: { key?: KeyObject; kid?: string; header?: Record<string, unknown> } = {}): string {
  const input = `${b64({ alg: 'ES256', typ: 'at+jwt', kid: opts.kid ?? 'kid-a', ...opts.header })}.${b64(claims)}`;
  const sig = sign('sha256', Buffer.from(input), { key: opts.key ?? keysA.privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${sig.toString('base64url')}`;
}

const now = () => Math.floor(Date.now() / 1000);
const claims = (extra: Record<string, unknown> = {}) => ({ iss: ISSUER_A, sub: ISSUED_TO, aud: ISSUED_TO, client_id: ISSUED_TO, scope: 'reports.read', jti: randomUUID(), iat: now(), exp: now() + 600, ...extra });

let current: boolean;
let revoked: Set<string>;
let clients: Map<string, ClientRecord>;
const keys = new Map<string, VerificationKey>([
  [`${TENANT_A}/kid-a`, { alg: 'ES256', key: keysA.publicKey }],
  [`${TENANT_B}/kid-b`, { alg: 'ES256', key: keysB.publicKey }],
]);

const state = {
  keysGeneration: 0,
  current: () => current,
  client: (tenantId: string, clientId: string) => Promise.resolve(clients.get(`${tenantId}/${clientId}`) ?? null),
  key: (tenantId: string, kid: string) => Promise.resolve(keys.get(`${tenantId}/${kid}`) ?? null),
  isRevoked: (jti: string, gid: string | null) => revoked.has(jti) || (gid !== null && revoked.has(gid)),
};
const local = new LocalIntrospection(state as unknown as IntrospectionState);
const basic: { clientId: string; clientSecret: string } = { clientId: CALLER, clientSecret: SECRET };
const ask = (token: string, opts: { tenant?: string; issuer?: string; params?: Record<string, string>; auth?: typeof basic | undefined } = {}) =>
  local.answer(opts.tenant ?? TENANT_A, opts.issuer ?? ISSUER_A, { token, ...opts.params }, 'auth' in opts ? opts.auth : basic);

beforeEach(() => {
  current = true;
  revoked = new Set();
  clients = new Map([
    [`${TENANT_A}/${CALLER}`, { clientId: CALLER, tokenEndpointAuthMethod: 'client_secret_basic', secretHash: sha(SECRET) }],
    [`${TENANT_A}/${ISSUED_TO}`, { clientId: ISSUED_TO, tokenEndpointAuthMethod: 'client_secret_basic', secretHash: sha('other') }],
    [`${TENANT_B}/${CALLER}`, { clientId: CALLER, tokenEndpointAuthMethod: 'client_secret_basic', secretHash: sha(SECRET) }],
  ]);
});

describe('LocalIntrospection', () => {
  it('answers active with the RFC 7662 fields for a good token and caller', async () => {
    const c = claims();
    expect(await ask(jwt(c))).toEqual({ active: true, token_type: 'Bearer', scope: 'reports.read', client_id: ISSUED_TO, sub: ISSUED_TO, aud: ISSUED_TO, iss: ISSUER_A, exp: c.exp, iat: c.iat, jti: c.jti });
  });

  it('authenticates client_secret_post as well, when the client registered it', async () => {
    clients.set(`${TENANT_A}/${CALLER}`, { clientId: CALLER, tokenEndpointAuthMethod: 'client_secret_post', secretHash: sha(SECRET) });
    expect(await ask(jwt(claims()), { auth: undefined, params: { client_id: CALLER, client_secret: SECRET } })).toMatchObject({ active: true });
    // The registered method only.
    expect(await ask(jwt(claims()))).toBeNull();
  });

  it('answers a revoked token, a token of a revoked grant and a removed client’s token with only active=false', async () => {
    const c = claims({ gid: 'grant-1' });
    revoked.add(c.jti);
    expect(await ask(jwt(c))).toEqual({ active: false });
    revoked = new Set(['grant-1']);
    expect(await ask(jwt(c))).toEqual({ active: false });
    revoked = new Set();
    clients.delete(`${TENANT_A}/${ISSUED_TO}`);
    expect(await ask(jwt(claims()))).toEqual({ active: false });
  });

  it("refuses alg none and HS256 'signed' with the tenant's public key", async () => {
    const c = claims();
    const none = `${b64({ alg: 'none', typ: 'at+jwt', kid: 'kid-a' })}.${b64(c)}.`;
    expect(await ask(none)).toEqual({ active: false });
    const hsInput = `${b64({ alg: 'HS256', typ: 'at+jwt', kid: 'kid-a' })}.${b64(c)}`;
    const pub = JSON.stringify(keysA.publicKey.export({ format: 'jwk' }));
    const hs = `${hsInput}.${createHmac('sha256', pub).update(hsInput).digest('base64url')}`;
    expect(await ask(hs)).toEqual({ active: false });
  });

  it('refuses a tampered payload, another issuer, an expired token, a token without typ at+jwt or with crit', async () => {
    const good = jwt(claims());
    const [h, , s] = good.split('.') as [string, string, string];
    expect(await ask(`${h}.${b64(claims({ scope: 'admin' }))}.${s}`)).toEqual({ active: false });
    expect(await ask(jwt(claims({ iss: ISSUER_B })))).toEqual({ active: false });
    expect(await ask(jwt(claims({ exp: now() - 1 })))).toEqual({ active: false });
    expect(await ask(jwt(claims(), { header: { typ: 'JWT' } }))).toEqual({ active: false });
    expect(await ask(jwt(claims(), { header: { crit: ['x'] } }))).toEqual({ active: false });
  });

  it("never shows tenant A's token as active at tenant B", async () => {
    // A's kid is unknown at B: federation decides (and says inactive); B's own key with A's issuer: inactive here.
    expect(await ask(jwt(claims()), { tenant: TENANT_B, issuer: ISSUER_B })).toBeNull();
    expect(await ask(jwt(claims(), { key: keysB.privateKey, kid: 'kid-b' }), { tenant: TENANT_B, issuer: ISSUER_B })).toEqual({ active: false });
    // A token signed with A's key but naming B's kid fails the signature.
    expect(await ask(jwt(claims({ iss: ISSUER_B }), { kid: 'kid-b' }), { tenant: TENANT_B, issuer: ISSUER_B })).toEqual({ active: false });
  });

  it('checks expiry, revocation and the client again on every call for a token whose signature it already checked', async () => {
    const c = claims({ exp: now() + 2 });
    const token = jwt(c);
    expect(await ask(token)).toMatchObject({ active: true });
    revoked.add(c.jti);
    expect(await ask(token)).toEqual({ active: false });
    revoked.clear();
    clients.delete(`${TENANT_A}/${ISSUED_TO}`);
    expect(await ask(token)).toEqual({ active: false });
    clients.set(`${TENANT_A}/${ISSUED_TO}`, { clientId: ISSUED_TO, tokenEndpointAuthMethod: 'client_secret_basic', secretHash: sha('other') });
    expect(await ask(token)).toMatchObject({ active: true });
    // Not at another tenant, even though this gateway checked its signature for A.
    expect(await ask(token, { tenant: TENANT_B, issuer: ISSUER_B })).toBeNull();
    await new Promise((r) => setTimeout(r, 2100));
    expect(await ask(token)).toEqual({ active: false });
  });

  it('checks the signature again once the keys may have changed', async () => {
    const token = jwt(claims());
    expect(await ask(token)).toMatchObject({ active: true });
    keys.delete(`${TENANT_A}/kid-a`);
    expect(await ask(token)).toMatchObject({ active: true });
    state.keysGeneration += 1;
    expect(await ask(token)).toBeNull();
    keys.set(`${TENANT_A}/kid-a`, { alg: 'ES256', key: keysA.publicKey });
  });

  it('hands to federation whatever it cannot decide: copy not current, wrong secret, unknown caller, private_key_jwt, two methods, refresh tokens, no token', async () => {
    const token = jwt(claims());
    current = false;
    expect(await ask(token)).toBeNull();
    current = true;
    expect(await ask(token, { auth: { clientId: CALLER, clientSecret: 'wrong' } })).toBeNull();
    expect(await ask(token, { auth: { clientId: randomUUID(), clientSecret: SECRET } })).toBeNull();
    expect(await ask(token, { auth: { clientId: 'not-a-uuid', clientSecret: SECRET } })).toBeNull();
    expect(await ask(token, { auth: undefined, params: { client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: 'x.y.z' } })).toBeNull();
    expect(await ask(token, { params: { client_secret: SECRET } })).toBeNull();
    expect(await ask(token, { params: { client_id: ISSUED_TO } })).toBeNull();
    expect(await ask('opaque-refresh-token')).toBeNull();
    expect(await local.answer(TENANT_A, ISSUER_A, {}, basic)).toBeNull();
  });
});
