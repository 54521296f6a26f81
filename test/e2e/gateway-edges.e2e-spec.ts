import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { AuditEventView, TenantView } from '@musubi/contracts';
import { waitFor } from '@musubi/platform/testing';
import { expectNoLeak, expectProblem } from '../support/e2e-checks.js';
import { operatorFetch, startTestFleet, type TestFleet } from '../support/test-fleet.js';

/**
 * The edges of the gateway's admin API: what it refuses and how, the headers
 * every answer carries, what it does when a service behind it is down or stuck,
 * and whether its OpenAPI document describes the routes it serves.
 */

// Some cases restart a service or move megabytes; the default 5 s is tight on a loaded machine.
jest.setTimeout(30_000);

const BUS_TIMEOUT_MS = 1000;
let f: TestFleet;
let tenant: TenantView;

beforeAll(async () => {
  f = await startTestFleet({ busTimeoutMs: BUS_TIMEOUT_MS });
  const res = await operatorFetch(f, '/api/v1/tenants', { method: 'POST', body: JSON.stringify({ slug: 'edge', displayName: 'Edge 株式会社' }) });
  expect(res.status).toBe(201);
  tenant = (await res.json()) as TenantView;
  const u = await operatorFetch(f, `/api/v1/tenants/${tenant.id}/users`, {
    method: 'POST',
    body: JSON.stringify({ loginId: `kanri@${tenant.platformDomain}`, displayName: '管理 者', roles: ['tenant_admin'] }),
  });
  expect(u.status).toBe(201);
}, 120_000);

afterAll(async () => {
  // A test that failed while directory was frozen must not leave it stopped for the teardown.
  if (f?.fleet.isRunning('directory')) f.fleet.signal('directory', 'SIGCONT');
  await f?.stop();
}, 60_000);

async function tenantSlugs(): Promise<string[]> {
  const res = await operatorFetch(f, '/api/v1/tenants?limit=200');
  expect(res.status).toBe(200);
  return ((await res.json()) as { items: TenantView[] }).items.map((t) => t.slug).sort();
}

const postTenant = (body: string, contentType = 'application/json') =>
  operatorFetch(f, '/api/v1/tenants', { method: 'POST', body, headers: { 'content-type': contentType } });

describe('request bodies the admin API refuses', () => {
  // [what, body, content type, status, the pointer naming the field at fault (undefined: no field)]
  const cases: Array<[string, string, string, number, string | undefined]> = [
    ['malformed JSON', '{"slug": "bad-json", "displayName": ', 'application/json', 400, undefined],
    ['an unknown field', JSON.stringify({ slug: 'unknown-field', displayName: 'U', plan: 'gold' }), 'application/json', 400, '/plan'],
    ['a wrong type', JSON.stringify({ slug: 'wrong-type', displayName: 42 }), 'application/json', 400, '/displayName'],
    ['a wrong type in a nested object', JSON.stringify({ slug: 'wrong-nested', displayName: 'N', limits: { users: 'many' } }), 'application/json', 400, '/limits/users'],
    ['a value breaking its pattern', JSON.stringify({ slug: 'Bad Slug!', displayName: 'P' }), 'application/json', 400, '/slug'],
    ['a missing required field', JSON.stringify({ slug: 'missing-name' }), 'application/json', 400, '/displayName'],
    ['a JSON array instead of an object', JSON.stringify([{ slug: 'in-array', displayName: 'A' }]), 'application/json', 400, undefined],
    ['a __proto__ key', '{"slug": "proto-key", "displayName": "P", "__proto__": {"status": "suspended"}}', 'application/json', 400, undefined],
    ['a constructor.prototype key', '{"slug": "ctor-key", "displayName": "C", "constructor": {"prototype": {"x": 1}}}', 'application/json', 400, undefined],
    ['an empty JSON body', '', 'application/json', 400, undefined],
    ['a url-encoded form', 'slug=as-form&displayName=Form', 'application/x-www-form-urlencoded', 415, undefined],
    ['JSON sent as text/plain', JSON.stringify({ slug: 'as-text', displayName: 'T' }), 'text/plain', 415, undefined],
    ['XML', '<tenant><slug>as-xml</slug></tenant>', 'application/xml', 415, undefined],
    ['a body over 1 MiB', JSON.stringify({ slug: 'too-big', displayName: 'x'.repeat(1024 * 1024 + 10) }), 'application/json', 413, undefined],
  ];

  it.each(cases.map(([what, body, contentType, status, pointer]) => ({ what, body, contentType, status, pointer })))(
    '$what: a $status problem, nothing created',
    async ({ body, contentType, status, pointer }) => {
    const before = await tenantSlugs();
    const p = await expectProblem(await postTenant(body, contentType), status);
    if (pointer !== undefined) expect(p.errors?.map((e) => e.pointer)).toContain(pointer);
    if (status === 400) expect(p.code).toBe('validation_failed');
    expect(await tenantSlugs()).toEqual(before);
    },
  );

  it('names each field at fault in a user body too', async () => {
    const loginId = `not-an-email.${tenant.platformDomain}`;
    const p = await expectProblem(
      await operatorFetch(f, `/api/v1/tenants/${tenant.id}/users`, { method: 'POST', body: JSON.stringify({ loginId, roles: ['root'] }) }),
      400,
    );
    expect([...new Set(p.errors?.map((e) => e.pointer))].sort()).toEqual(['/loginId', '/roles/0']);
  });

  it('refuses a form body on every body-taking admin route, not only on tenants', async () => {
    await expectProblem(
      await operatorFetch(f, `/api/v1/tenants/${tenant.id}/users`, {
        method: 'POST',
        body: `loginId=form-user%40${tenant.platformDomain}`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      }),
      415,
    );
    // Were it created, the same login ID would now be taken.
    const again = await operatorFetch(f, `/api/v1/tenants/${tenant.id}/users`, { method: 'POST', body: JSON.stringify({ loginId: `form-user@${tenant.platformDomain}` }) });
    expect(again.status).toBe(201);
  });
});

describe('routing and authentication', () => {
  it.each([
    ['an unknown route', '/api/v1/nothing-here'],
    ['an unknown API version', '/api/v2/tenants'],
    ['a tenant id that is not a UUID', '/api/v1/tenants/not-a-uuid'],
    ['an unknown tenant', '/api/v1/tenants/00000000-0000-4000-8000-000000000000'],
  ])('%s is a 404 problem', async (_what, path) => {
    const p = await expectProblem(await operatorFetch(f, path), 404);
    expect(p.code).toBe('not_found');
  });

  it('a malformed URL is a 400 problem, not the router’s own error body', async () => {
    const p = await expectProblem(await operatorFetch(f, '/api/v1/tenants/%E0%A4%A'), 400);
    expect(p.detail).not.toContain('%E0');
  });

  it('an over-long path segment is a 414 problem', async () => {
    await expectProblem(await operatorFetch(f, `/api/v1/tenants/${'a'.repeat(200)}`), 414);
    await expectProblem(await fetch(`${f.gatewayUrl}/t/${'b'.repeat(200)}/login`), 414);
  });

  it.each([
    ['no Authorization header', undefined, /^Bearer realm="musubi"$/],
    ['an unknown bearer token', 'Bearer not-the-operator-token', /^Bearer realm="musubi", error="invalid_token"$/],
    ['another scheme', 'Basic b3BlcmF0b3I6c2VjcmV0', /^Bearer /],
    ['a bearer token with a space in it', 'Bearer abc def', /^Bearer /],
  ])('%s is a 401 problem with a Bearer challenge', async (_what, authorization, challenge) => {
    const headers: Record<string, string> = authorization ? { authorization } : {};
    const res = await fetch(`${f.gatewayUrl}/api/v1/tenants`, { headers });
    expect(res.headers.get('www-authenticate')).toMatch(challenge);
    expect((await expectProblem(res, 401)).code).toBe('unauthenticated');
  });

  it('creates nothing for a caller without a valid token', async () => {
    const before = await tenantSlugs();
    const res = await fetch(`${f.gatewayUrl}/api/v1/tenants`, {
      method: 'POST',
      headers: { authorization: 'Bearer forged', 'content-type': 'application/json' },
      body: JSON.stringify({ slug: 'forged', displayName: 'Forged' }),
    });
    await expectProblem(res, 401);
    // A near miss of the real token is just as unknown.
    const near = await fetch(`${f.gatewayUrl}/api/v1/tenants`, { headers: { authorization: `Bearer ${f.operatorToken.slice(0, -1)}` } });
    await expectProblem(near, 401);
    expect(await tenantSlugs()).toEqual(before);
  });
});

describe('headers on every API answer', () => {
  const expectSecurityHeaders = (res: Response) => {
    expect({
      nosniff: res.headers.get('x-content-type-options'),
      referrer: res.headers.get('referrer-policy'),
      cache: res.headers.get('cache-control'),
      frameAncestors: /(?:^|;)\s*frame-ancestors 'none'\s*(?:;|$)/.test(res.headers.get('content-security-policy') ?? ''),
    }).toEqual({ nosniff: 'nosniff', referrer: 'no-referrer', cache: 'no-store', frameAncestors: true });
  };

  it('sends nosniff, a framing-proof CSP, no referrer and no-store on successes and errors alike', async () => {
    const answers = [
      await operatorFetch(f, '/api/v1/tenants'),
      await operatorFetch(f, `/api/v1/tenants/${tenant.id}`),
      await postTenant(JSON.stringify({ slug: 'headers-ok', displayName: 'H' })),
      await postTenant('{', 'application/json'),
      await operatorFetch(f, '/api/v1/nothing-here'),
      await fetch(`${f.gatewayUrl}/api/v1/tenants`),
      await operatorFetch(f, '/api/v1/tenants/%E0%A4%A'),
      await postTenant('slug=x', 'application/x-www-form-urlencoded'),
    ];
    expect(answers.map((r) => r.status)).toEqual([200, 200, 201, 400, 404, 401, 400, 415]);
    for (const res of answers) expectSecurityHeaders(res);
  });

  it('reuses a sane incoming X-Request-Id, also in the problem body', async () => {
    const id = 'req-2026.11_edge:0001';
    const ok = await operatorFetch(f, '/api/v1/tenants', { headers: { 'x-request-id': id } });
    expect(ok.headers.get('x-request-id')).toBe(id);
    const bad = await operatorFetch(f, '/api/v1/nothing-here', { headers: { 'x-request-id': id } });
    expect((await expectProblem(bad, 404)).requestId).toBe(id);
  });

  it.each([
    ['a path traversal', '../../etc'],
    ['markup', '<script>alert(1)</script>'],
    ['spaces', 'a b c'],
    ['an over-long value', 'x'.repeat(200)],
  ])('replaces an incoming X-Request-Id with %s by a fresh one', async (_what, evil) => {
    const res = await operatorFetch(f, '/api/v1/tenants', { headers: { 'x-request-id': evil } });
    expect(res.status).toBe(200);
    const echoed = res.headers.get('x-request-id');
    expect(echoed).not.toBe(evil);
    expect(echoed).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  it('gives every request its own id when none is sent', async () => {
    const ids = await Promise.all([1, 2, 3].map(async () => (await operatorFetch(f, '/api/v1/tenants')).headers.get('x-request-id')));
    expect(new Set(ids).size).toBe(3);
  });

  it('carries the request id through the bus into the audit trail', async () => {
    const id = 'edge-audit-request-0001';
    const res = await operatorFetch(f, '/api/v1/tenants', { method: 'POST', headers: { 'x-request-id': id }, body: JSON.stringify({ slug: 'traced', displayName: 'Traced' }) });
    expect(res.status).toBe(201);
    const created = (await res.json()) as TenantView;
    const events = await waitFor('the audit event of the traced tenant', async () => {
      const r = await operatorFetch(f, `/api/v1/tenants/${created.id}/audit-events`);
      // The operator's own reads of the trail are recorded in it too; wait for directory's event.
      const items = ((await r.json()) as { items: AuditEventView[] }).items.filter((e) => e.type === 'musubi.directory.tenant.created.v1');
      return items.length > 0 ? items : null;
    });
    expect(events[0]).toMatchObject({ type: 'musubi.directory.tenant.created.v1', requestId: id });
  });
});

describe('the OpenAPI document', () => {
  interface Operation {
    operationId: string;
    security?: Array<Record<string, unknown>>;
    parameters: Array<{ name: string; in: string; required?: boolean }>;
    requestBody?: { content: Record<string, { schema: unknown; example?: unknown }> };
    responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
  }
  interface Document {
    openapi: string;
    info: { title: string; version: string };
    paths: Record<string, Record<string, Operation>>;
    components: { securitySchemes: Record<string, unknown>; schemas: Record<string, unknown> };
  }

  let doc: Document;

  beforeAll(async () => {
    const res = await fetch(`${f.gatewayUrl}/api/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    doc = (await res.json()) as Document;
  });

  const operations = (): Array<[string, Operation]> =>
    Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]): [string, Operation] => [`${method} ${path}`, op]));

  it('is an OpenAPI 3.1 document whose operations are complete and whose references resolve', () => {
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(doc.info.title).toEqual(expect.any(String));
    expect(doc.info.version).toEqual(expect.any(String));
    const ids = operations().map(([, op]) => op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const [route, op] of operations()) {
      const path = route.split(' ')[1]!;
      const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort();
      const declared = op.parameters.filter((p) => p.in === 'path');
      expect({ route, params: declared.map((p) => p.name).sort() }).toEqual({ route, params: templated });
      for (const p of declared) expect(p.required).toBe(true);
      expect(Object.keys(op.responses).some((s) => /^2\d\d$/.test(s))).toBe(true);
      for (const [status, r] of Object.entries(op.responses)) {
        if (Number(status) >= 400) expect(Object.keys(r.content ?? {})).toEqual(['application/problem+json']);
      }
      for (const requirement of op.security ?? []) {
        for (const scheme of Object.keys(requirement)) expect(doc.components.securitySchemes).toHaveProperty(scheme);
      }
    }
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThan(0);
    for (const name of refs) expect(doc.components.schemas).toHaveProperty(name);
  });

  it('describes what each route really answers: its success status and body, and each error status met', async () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    // ajv-formats is CommonJS with `exports.default` (as in libs/platform/validation).
    const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (a: Ajv2020) => void;
    addFormats(ajv);
    const unknownId = '00000000-0000-4000-8000-000000000000';
    // Each route gets a tenant and a user of its own (a route may suspend or terminate its tenant) and
    // the example body from the document, with the fields that must be unique made so.
    let n = 0;
    const unique = (body: unknown, domain: string): unknown => {
      if (typeof body !== 'object' || body === null) return body;
      const out: Record<string, unknown> = { ...(body as Record<string, unknown>) };
      if (typeof out['slug'] === 'string') out['slug'] = `doc-${++n}`;
      if (typeof out['loginId'] === 'string') out['loginId'] = `doc-${++n}@${domain}`;
      return out;
    };
    // /api/v1/me answers sessions only (test/e2e/admin-api-access covers it); with the operator's token it is 401.
    await expectProblem(await operatorFetch(f, '/api/v1/me'), 401);
    const exercised: string[] = [];
    const succeeded: string[] = [];
    for (const [route, op] of operations().filter(([r]) => r !== 'get /api/v1/me')) {
      const [method, path] = route.split(' ') as [string, string];
      const params = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      if (params.some((p) => p !== 'tenantId' && p !== 'userId')) continue; // covered by the feature's own e2e suite
      if (op.requestBody && !op.requestBody.content['application/json']) continue; // file uploads: test/e2e/csv-jobs
      exercised.push(route);
      const own = (await (await operatorFetch(f, '/api/v1/tenants', { method: 'POST', body: JSON.stringify({ slug: `route-${++n}`, displayName: 'Route' }) })).json()) as { id: string; platformDomain: string };
      const ownUser = (await (await operatorFetch(f, `/api/v1/tenants/${own.id}/users`, { method: 'POST', body: JSON.stringify({ loginId: `someone@${own.platformDomain}` }) })).json()) as { id: string };
      const fill = (p: string, tenantId: string) => p.replace('{tenantId}', tenantId).replace('{userId}', ownUser.id);
      const call = (p: string, init: { auth?: boolean; body?: string; contentType?: string } = {}) => {
        const headers: Record<string, string> = {};
        if (init.auth !== false) headers['authorization'] = `Bearer ${f.operatorToken}`;
        if (init.body !== undefined) headers['content-type'] = init.contentType ?? 'application/json';
        return fetch(`${f.gatewayUrl}${p}`, { method: method.toUpperCase(), headers, ...(init.body !== undefined ? { body: init.body } : {}) });
      };
      const example = op.requestBody?.content['application/json']?.example;
      const body = op.requestBody ? JSON.stringify(unique(example, own.platformDomain)) : undefined;
      const seen: Array<[number, Response]> = [];

      const ok = await call(fill(path, own.id), body !== undefined ? { body } : {});
      // Whatever the route answers (resume on an active tenant is a 409) must be documented, and a success must match its schema.
      const okText = await ok.text();
      expect({ route, status: ok.status, documented: Object.keys(op.responses) }).toEqual({ route, status: ok.status, documented: expect.arrayContaining([String(ok.status)]) });
      if (ok.status < 300) {
        succeeded.push(route);
        const schema = op.responses[String(ok.status)]?.content?.['application/json']?.schema;
        if (schema) {
          const valid = ajv.validate(schema, JSON.parse(okText));
          expect({ route, errors: valid ? null : ajv.errors }).toEqual({ route, errors: null });
        }
      } else {
        await expectProblem(new Response(okText, { status: ok.status, headers: ok.headers }), ok.status);
      }
      if (op.security) seen.push([401, await call(fill(path, own.id), { auth: false, ...(body !== undefined ? { body } : {}) })]);
      if (path.includes('{')) {
        // Every tenant-scoped route, the audit trail included, answers 404 for an unknown tenant.
        seen.push([404, await call(fill(path, unknownId), body !== undefined ? { body } : {})]);
      }
      if (op.requestBody) {
        seen.push([400, await call(fill(path, own.id), { body: '{"unknownField": true}' })]);
        seen.push([415, await call(fill(path, own.id), { body: 'a=b', contentType: 'application/x-www-form-urlencoded' })]);
        seen.push([413, await call(fill(path, own.id), { body: JSON.stringify({ pad: 'x'.repeat(1024 * 1024 + 1) }) })]);
      }
      for (const [status, res] of seen) {
        await expectProblem(res, status);
        expect({ route, documented: Object.keys(op.responses) }).toEqual({ route, documented: expect.arrayContaining([String(status)]) });
      }
    }
    // The routes every tenant has from day one work with their documented example.
    expect(succeeded).toEqual(
      expect.arrayContaining(['post /api/v1/tenants', 'get /api/v1/tenants/{tenantId}', 'patch /api/v1/tenants/{tenantId}', 'post /api/v1/tenants/{tenantId}/suspend', 'post /api/v1/tenants/{tenantId}/users']),
    );
    expect(exercised.length).toBeGreaterThanOrEqual(succeeded.length);
  });
});

describe('a service behind the gateway that is down or stuck', () => {
  it('answers 503 at once when directory is down (no responders), not after the timeout', async () => {
    await f.fleet.kill('directory', 'SIGKILL');
    try {
      // NATS drops a dead client's subscriptions once it sees the socket close; on a busy host
      // that can trail the process's exit. From then on, every request must fail at once.
      await waitFor(
        'NATS to drop directory',
        async () => {
          const r = await operatorFetch(f, '/api/v1/tenants');
          return r.status === 503 && /not available/.test(((await r.json()) as { detail?: string }).detail ?? '');
        },
        15_000,
        100,
      );
      const started = Date.now();
      const res = await operatorFetch(f, '/api/v1/tenants');
      const elapsed = Date.now() - started;
      const p = await expectProblem(res, 503);
      expect(p.code).toBe('service_unavailable');
      // The no-responders answer, not the timeout one.
      expect(p.detail).toMatch(/not available/);
      expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(elapsed).toBeLessThan(BUS_TIMEOUT_MS * 0.8);

      const create = await postTenant(JSON.stringify({ slug: 'while-down', displayName: 'Down' }));
      await expectProblem(create, 503);
    } finally {
      await f.restart('directory');
    }
    expect(await tenantSlugs()).not.toContain('while-down');
  }, 60_000);

  it('answers 503 within about the bus timeout when directory is frozen, and recovers when it thaws', async () => {
    f.fleet.signal('directory', 'SIGSTOP');
    try {
      const started = Date.now();
      const answers = await Promise.all([1, 2, 3].map(() => operatorFetch(f, `/api/v1/tenants/${tenant.id}`, { signal: AbortSignal.timeout(10_000) })));
      const elapsed = Date.now() - started;
      for (const res of answers) {
        const p = await expectProblem(res, 503);
        expect(p.detail).toMatch(/did not answer in time/);
      }
      expect(elapsed).toBeGreaterThanOrEqual(BUS_TIMEOUT_MS - 50);
      expect(elapsed).toBeLessThan(BUS_TIMEOUT_MS + 2000);
    } finally {
      f.fleet.signal('directory', 'SIGCONT');
    }
    const back = await waitFor('directory to answer again', async () => (await operatorFetch(f, `/api/v1/tenants/${tenant.id}`)).status === 200);
    expect(back).toBe(true);
  }, 60_000);
});

describe('error bodies overall', () => {
  it('never leak internals, whatever went wrong', async () => {
    // A mixed bag of bad requests, each read raw (not through expectProblem).
    const bodies = await Promise.all(
      [
        postTenant('{"a":'),
        postTenant('{"__proto__": {"admin": true}}'),
        postTenant('[1,2,3]'),
        postTenant('null'),
        postTenant('"just a string"'),
        postTenant('{"slug": "x\\ud800", "displayName": "\\u0000"}'),
        operatorFetch(f, '/api/v1/tenants?limit=abc'),
        operatorFetch(f, '/api/v1/tenants?cursor='),
        operatorFetch(f, '/api/v1/tenants?limit=1&limit=2'),
        operatorFetch(f, '/api/v1/tenants/%00'),
        operatorFetch(f, '/api/v1/tenants/..%2f..%2fetc%2fpasswd'),
      ].map(async (p) => {
        const res = await p;
        return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
      }),
    );
    for (const b of bodies) {
      expect(b.status).toBeGreaterThanOrEqual(400);
      expect(b.status).toBeLessThan(500);
      expect(b.type).toMatch(/^application\/problem\+json/);
      expectNoLeak(b.body);
    }
  });
});
