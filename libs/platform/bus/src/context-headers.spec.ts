import { describe, expect, it } from '@jest/globals';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { CONTEXT_HEADERS, type CallContext } from '@musubi/contracts';
import { DomainError } from '@musubi/platform/errors';
import { decodeContext, encodeContext, isValidRequestId } from './context-headers.js';

const TENANT = '0191d5a4-6c1e-7a2b-8c3d-4e5f60718293';
const USER = '0191d5a4-6c1e-7a2b-8c3d-aaaaaaaaaaaa';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function hdrs(values: Record<string, string>) {
  const h = natsHeaders();
  for (const [k, v] of Object.entries(values)) h.set(k, v);
  return h;
}

/** The DomainError `fn` throws, or a failure. */
function thrown(fn: () => unknown): DomainError {
  try {
    fn();
  } catch (err) {
    if (err instanceof DomainError) return err;
    throw err;
  }
  throw new Error('expected a DomainError');
}

describe('encodeContext / decodeContext', () => {
  it.each<[string, CallContext]>([
    ['a user in a tenant', { requestId: 'req-1', tenantId: TENANT, caller: { kind: 'user', userId: USER, tenantId: TENANT, roles: [] } }],
    ['the operator, no tenant', { requestId: 'op:2024.05_01-x', tenantId: null, caller: { kind: 'operator', id: 'ops@musubi' } }],
    ['a service', { requestId: USER, tenantId: TENANT, caller: { kind: 'service', service: 'authn' } }],
    ['nobody yet', { requestId: 'r', tenantId: null, caller: { kind: 'anonymous' } }],
  ])('round-trips %s', (_what, ctx) => {
    expect(decodeContext(encodeContext(ctx))).toEqual(ctx);
  });

  it('sends no tenant header when there is no tenant', () => {
    const h = encodeContext({ requestId: 'r', tenantId: null, caller: { kind: 'anonymous' } });
    expect(h.has(CONTEXT_HEADERS.tenantId)).toBe(false);
    expect(h.get(CONTEXT_HEADERS.requestId)).toBe('r');
  });

  it('treats a message without headers as anonymous, with a fresh request id', () => {
    const ctx = decodeContext(undefined);
    expect(ctx.caller).toEqual({ kind: 'anonymous' });
    expect(ctx.tenantId).toBeNull();
    expect(ctx.requestId).toMatch(UUID);
    expect(decodeContext(undefined).requestId).not.toBe(ctx.requestId);
  });

  it('replaces a malformed request id instead of logging it', () => {
    for (const bad of ['has space', 'x'.repeat(129), 'line\u2028break', 'a/b', '{"x":1}']) {
      const ctx = decodeContext(hdrs({ [CONTEXT_HEADERS.requestId]: bad }));
      expect(ctx.requestId).not.toBe(bad);
      expect(ctx.requestId).toMatch(UUID);
    }
    expect(isValidRequestId('x'.repeat(128))).toBe(true);
    expect(isValidRequestId('x'.repeat(129))).toBe(false);
  });

  it('normalises the tenant id to lower case', () => {
    expect(decodeContext(hdrs({ [CONTEXT_HEADERS.tenantId]: TENANT.toUpperCase() })).tenantId).toBe(TENANT);
  });

  it.each(['acme', `${TENANT}x`, `${TENANT},${TENANT}`, "' OR 1=1 --", TENANT.replace(/-/g, '')])('refuses the tenant header %j', (bad) => {
    const err = thrown(() => decodeContext(hdrs({ [CONTEXT_HEADERS.tenantId]: bad })));
    expect(err.code).toBe('validation_failed');
    expect(err.details).toEqual([{ pointer: `/headers/${CONTEXT_HEADERS.tenantId}`, detail: 'must be a UUID' }]);
  });

  it.each([
    ['not JSON', '{kind:user'],
    ['an unknown kind', '{"kind":"root"}'],
    ['an unknown service', '{"kind":"service","service":"evil"}'],
    ['a user without a user id', `{"kind":"user","tenantId":"${TENANT}"}`],
    ['a user id that is not a UUID', `{"kind":"user","userId":"42","tenantId":"${TENANT}"}`],
    ['an extra field', '{"kind":"anonymous","admin":true}'],
    ['a JSON string', '"operator"'],
    ['null', 'null'],
  ])('refuses a caller header with %s', (_what, raw) => {
    const err = thrown(() => decodeContext(hdrs({ [CONTEXT_HEADERS.caller]: raw })));
    expect(err.code).toBe('validation_failed');
    expect(err.details).toEqual([{ pointer: `/headers/${CONTEXT_HEADERS.caller}`, detail: 'must describe a known kind of caller' }]);
  });
});
