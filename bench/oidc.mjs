#!/usr/bin/env node
// @ts-check
// Benchmark: the OpenID provider's machine endpoints through the gateway —
// client_credentials tokens (ES256 JWT access tokens, client_secret_basic) and
// token introspection (RFC 7662) — and, in the same run, `oidc-provider`
// (npm) configured for the same grant, client authentication and key type,
// driven by the same load generator. Prints both and our rate / its rate.
//
//   npm run build && node bench/oidc.mjs [--connections 32] [--rounds 3] [--duration 8] [--warmup 5]
//     [--only token|introspection] [--no-oidc-provider] [--profile <dir>]
//
// Each endpoint: one warm-up per side, then --rounds rounds of --duration seconds per side,
// ours and oidc-provider's alternately (the host's speed drifts within minutes).
//
// --profile <dir>: CPU profiles of the gateway and federation (written when they
// stop), to read with tools/dev/profile-summary.mjs.
//
// Targets on the 2-core machine: ≥ 3,000 tokens/s with p99 < 20 ms, ≥ 5,000
// introspections/s, and a ratio ≥ 1.0 against oidc-provider.
import { spawn } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';

const { values: args } = parseArgs({
  options: {
    connections: { type: 'string', default: '32' },
    duration: { type: 'string', default: '8' },
    warmup: { type: 'string', default: '5' },
    'serve-oidc-provider': { type: 'boolean', default: false },
    only: { type: 'string' },
    'no-oidc-provider': { type: 'boolean', default: false },
    profile: { type: 'string' },
    rounds: { type: 'string', default: '3' },
  },
});

const SCOPE = 'reports.read';

// ------------------------------------------------------------------ oidc-provider, in a process of its own

if (args['serve-oidc-provider']) {
  const { default: Provider } = await import('oidc-provider');
  const { exportJWK, generateKeyPair } = await import('jose');
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: 'bench-es256', alg: 'ES256', use: 'sig' };
  const secret = process.env['BENCH_CLIENT_SECRET'] ?? '';
  const client = (client_id) => ({ client_id, client_secret: secret, grant_types: ['client_credentials'], redirect_uris: [], response_types: [], token_endpoint_auth_method: 'client_secret_basic', id_token_signed_response_alg: 'ES256', scope: SCOPE });
  const { createServer } = await import('node:http');
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  const port = /** @type {import('node:net').AddressInfo} */ (server.address()).port;
  const provider = new Provider(`http://127.0.0.1:${port}`, {
    // `jwt` gets ES256 JWT access tokens, like ours; `opaque` gets opaque ones, the only kind oidc-provider introspects.
    clients: [client('jwt'), client('opaque')],
    jwks: { keys: [jwk] },
    scopes: [SCOPE],
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: (ctx) => (ctx.oidc.client?.clientId === 'jwt' ? 'urn:bench:api' : undefined),
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({ scope: SCOPE, audience: 'urn:bench:api', accessTokenTTL: 600, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'ES256' } } }),
      },
    },
    ttl: { ClientCredentials: 600 },
  });
  provider.on('server_error', (_ctx, err) => console.error(err));
  server.on('request', provider.callback());
  console.log(JSON.stringify({ port }));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
} else {
  await main();
}

// ------------------------------------------------------------------ the run

/** @param {string} url @param {Record<string, string>} headers @param {string} body @param {number} duration */
async function load(url, headers, body, duration) {
  const r = await autocannon({ url, method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body, connections: Number(args.connections), duration, pipelining: 1 });
  return { rps: Math.round(r.requests.average), p50: r.latency.p50, p99: r.latency.p99, max: r.latency.max, total: r.requests.total, failures: r.non2xx + r.errors + r.timeouts };
}

/**
 * Ours and oidc-provider's alternately, in `--rounds` rounds of `--duration` seconds each
 * side (after one warm-up each): this host's speed drifts by 2x within minutes, and one
 * long run of each, back to back, compared one side's window against the other's. The
 * rate is all requests over all measured seconds; p50 is the median of the rounds', p99
 * and max the worst round's.
 */
async function alternate(a, b) {
  const rounds = Math.max(1, Number(args.rounds));
  await load(a.url, a.headers, a.body, Number(args.warmup));
  if (b) await load(b.url, b.headers, b.body, Number(args.warmup));
  const runs = { a: [], b: [] };
  for (let i = 0; i < rounds; i++) {
    // Who goes first alternates too, so neither side always follows the other's load.
    const order = i % 2 === 0 ? ['a', 'b'] : ['b', 'a'];
    for (const side of order) {
      const t = side === 'a' ? a : b;
      if (t) runs[side].push(await load(t.url, t.headers, t.body, Number(args.duration)));
    }
  }
  const merge = (rs) => {
    if (rs.length === 0) return null;
    const p50s = rs.map((r) => r.p50).sort((x, y) => x - y);
    return {
      rps: Math.round(rs.reduce((n, r) => n + r.total, 0) / (rs.length * Number(args.duration))),
      p50: p50s[Math.floor(p50s.length / 2)],
      p99: Math.max(...rs.map((r) => r.p99)),
      max: Math.max(...rs.map((r) => r.max)),
      total: rs.reduce((n, r) => n + r.total, 0),
      failures: rs.reduce((n, r) => n + r.failures, 0),
      rounds: rs.map((r) => r.rps),
    };
  };
  return { a: merge(runs.a), b: merge(runs.b) };
}

async function main() {
  const { startBenchFleet } = await import('./support/fleet.mjs');
  const fleet = await startBenchFleet({
    prepare: (processes) => {
      if (!args.profile) return;
      for (const p of processes.filter((x) => x.name === 'gateway' || x.name === 'federation')) p.execArgv = ['--cpu-prof', `--cpu-prof-dir=${args.profile}/${p.name}`];
    },
  });
  const wanted = (what) => !args.only || args.only === what;
  const skipped = { rps: 0, p50: 0, p99: 0, max: 0, total: 0, failures: 0 };
  /** @type {Record<string, any>} */
  const out = { connections: Number(args.connections), durationSeconds: Number(args.duration), cores: availableParallelism(), node: process.version, loadAverageAtStart: loadavg().map((x) => +x.toFixed(2)) };
  let provider;
  try {
    const tenantRes = await fleet.api('/api/v1/tenants', { method: 'POST', body: JSON.stringify({ slug: 'bench', displayName: 'Bench Co.' }) });
    if (tenantRes.status !== 201) throw new Error(`tenant: ${tenantRes.status} ${await tenantRes.text()}`);
    const tenant = await tenantRes.json();
    const made = await fleet.api(`/api/v1/tenants/${tenant.id}/oidc/clients`, { method: 'POST', body: JSON.stringify({ name: 'bench', grantTypes: ['client_credentials'], scopes: [SCOPE], defaultScopes: [SCOPE] }) });
    if (made.status !== 201) throw new Error(`client: ${made.status} ${await made.text()}`);
    const { client, clientSecret } = await made.json();
    const ours = { authorization: `Basic ${Buffer.from(`${client.clientId}:${clientSecret}`).toString('base64')}` };
    const issuer = `${fleet.base}/t/bench`;
    const first = await fetch(`${issuer}/oauth2/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...ours }, body: 'grant_type=client_credentials' });
    if (first.status !== 200) throw new Error(`token: ${first.status} ${await first.text()}`);
    const token = (await first.json()).access_token;
    const introspectOurs = async () => {
      const res = await fetch(`${issuer}/oauth2/introspect`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...ours }, body: `token=${token}` });
      const body = await res.json();
      if (res.status !== 200 || body.active !== true || body.client_id !== client.clientId) throw new Error(`our introspection does not say active: ${res.status} ${JSON.stringify(body)}`);
    };
    await introspectOurs();

    // oidc-provider in a process of its own; each endpoint is measured ours then its, back to back, the other side idle.
    const secret = 'bench-secret-0123456789abcdefghijklmnopqrstuvwxyz';
    provider = spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve-oidc-provider'], { env: { ...process.env, BENCH_CLIENT_SECRET: secret, NODE_ENV: 'production' }, stdio: ['ignore', 'pipe', 'inherit'] });
    const port = await new Promise((resolve, reject) => {
      provider.stdout.once('data', (d) => resolve(JSON.parse(String(d)).port));
      provider.once('exit', (code) => reject(new Error(`oidc-provider exited with ${code}`)));
    });
    const base = `http://127.0.0.1:${port}`;
    const basic = (id) => ({ authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}` });
    const jwtRes = await fetch(`${base}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...basic('jwt') }, body: `grant_type=client_credentials&scope=${SCOPE}` });
    const jwtBody = await jwtRes.json();
    if (jwtRes.status !== 200 || String(jwtBody.access_token).split('.').length !== 3) throw new Error(`oidc-provider did not issue a JWT: ${jwtRes.status} ${JSON.stringify(jwtBody)}`);
    const opaqueRes = await fetch(`${base}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...basic('opaque') }, body: `grant_type=client_credentials&scope=${SCOPE}` });
    const opaque = (await opaqueRes.json()).access_token;
    const check = await fetch(`${base}/token/introspection`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...basic('opaque') }, body: `token=${opaque}` });
    if (!(await check.json()).active) throw new Error('oidc-provider does not introspect its own token');

    out.musubi = {};
    out.oidcProvider = {};
    const theirs = (t) => (args['no-oidc-provider'] ? null : t);
    if (wanted('token')) {
      const r = await alternate(
        { url: `${issuer}/oauth2/token`, headers: ours, body: 'grant_type=client_credentials' },
        theirs({ url: `${base}/token`, headers: basic('jwt'), body: `grant_type=client_credentials&scope=${SCOPE}` }),
      );
      out.musubi.token = r.a;
      if (r.b) out.oidcProvider.token = r.b;
    }
    if (wanted('introspection')) {
      const r = await alternate(
        { url: `${issuer}/oauth2/introspect`, headers: ours, body: `token=${token}` },
        theirs({ url: `${base}/token/introspection`, headers: basic('opaque'), body: `token=${opaque}` }),
      );
      await introspectOurs();
      out.musubi.introspection = r.a;
      if (r.b) out.oidcProvider.introspection = r.b;
    }
    for (const side of [out.musubi, out.oidcProvider]) {
      side.token ??= skipped;
      side.introspection ??= skipped;
    }
    out.loadAverageAtEnd = loadavg().map((x) => +x.toFixed(2));
    const ratio = (a, b) => (b > 0 ? +(a / b).toFixed(2) : null);
    out.ratio = {
      token: ratio(out.musubi.token.rps, out.oidcProvider.token.rps),
      introspection: ratio(out.musubi.introspection.rps, out.oidcProvider.introspection.rps),
    };
    console.log(JSON.stringify(out, null, 2));
    const line = (name, r) => `${name.padEnd(36)} ${String(r.rps).padStart(6)}/s  p50 ${r.p50} ms  p99 ${r.p99} ms  failures ${r.failures}`;
    console.log(`\n${line('musubi client_credentials', out.musubi.token)}\n${line('oidc-provider client_credentials', out.oidcProvider.token)}\n${line('musubi introspection', out.musubi.introspection)}\n${line('oidc-provider introspection (opaque)', out.oidcProvider.introspection)}`);
    console.log(`\nours / oidc-provider: tokens ${out.ratio.token}, introspection ${out.ratio.introspection}`);
  } finally {
    provider?.kill('SIGTERM');
    await fleet.stop();
  }
}
