import { describe, expect, it } from '@jest/globals';
import { Type } from '@sinclair/typebox';
import { Caller, TenantCreateRequest, TenantGetRequest } from '@musubi/contracts';
import { validate } from './schema-validator.js';

const ID = '0191d5a4-6c1e-7a2b-8c3d-4e5f60718293';

/** The details, or a failure naming the value that unexpectedly passed. */
function detailsOf(result: ReturnType<typeof validate>) {
  if (result.ok) throw new Error(`expected a validation failure, got ${JSON.stringify(result.value)}`);
  return result.details;
}

describe('validate', () => {
  it('accepts a valid value and hands back the same value, not a copy with defaults', () => {
    const value = { id: ID };
    const result = validate(TenantGetRequest, value);
    expect(result).toEqual({ ok: true, value: { id: ID } });
    if (result.ok) expect(result.value).toBe(value);
  });

  it('names an unknown field by its JSON pointer (additionalProperties)', () => {
    expect(detailsOf(validate(TenantGetRequest, { id: ID, extra: 1 }))).toEqual([{ pointer: '/extra', detail: 'is not a known field' }]);
  });

  it('names a missing field by its JSON pointer (required)', () => {
    expect(detailsOf(validate(TenantGetRequest, {}))).toEqual([{ pointer: '/id', detail: 'is required' }]);
  });

  it('names a field of the wrong type, and never coerces it (type)', () => {
    const value = { id: 42 };
    expect(detailsOf(validate(TenantGetRequest, value))).toEqual([{ pointer: '/id', detail: 'must be string' }]);
    expect(value.id).toBe(42);
    expect(detailsOf(validate(Type.Object({ n: Type.Integer() }), { n: '7' }))).toEqual([{ pointer: '/n', detail: 'must be integer' }]);
  });

  it('names a string of the wrong format (format)', () => {
    expect(detailsOf(validate(TenantGetRequest, { id: 'not-a-uuid' }))).toEqual([{ pointer: '/id', detail: 'must be a valid uuid' }]);
    const stamp = Type.Object({ at: Type.String({ format: 'date-time' }), mail: Type.String({ format: 'email' }) });
    expect(detailsOf(validate(stamp, { at: 'yesterday', mail: 'nobody' }))).toEqual([
      { pointer: '/at', detail: 'must be a valid date-time' },
      { pointer: '/mail', detail: 'must be a valid email' },
    ]);
    expect(validate(stamp, { at: '2024-05-01T10:00:00Z', mail: 'a@example.com' }).ok).toBe(true);
  });

  it('reports every problem at once, with nested pointers', () => {
    const details = detailsOf(validate(TenantCreateRequest, { slug: 'Bad Slug', limits: { users: 'many', extra: true } }));
    expect(details).toEqual(
      expect.arrayContaining([
        { pointer: '/displayName', detail: 'is required' },
        { pointer: '/slug', detail: 'has characters or a form that is not allowed' },
        { pointer: '/limits/users', detail: 'must be integer' },
        { pointer: '/limits/extra', detail: 'is not a known field' },
      ]),
    );
    expect(details).toHaveLength(4);
  });

  it('escapes "/" and "~" in field names as RFC 6901 requires', () => {
    const strict = Type.Object({}, { additionalProperties: false });
    expect(detailsOf(validate(strict, { 'a/b': 1, 'c~d': 2 }))).toEqual([
      { pointer: '/a~1b', detail: 'is not a known field' },
      { pointer: '/c~0d', detail: 'is not a known field' },
    ]);
    const needs = Type.Object({ 'x/y': Type.String() });
    expect(detailsOf(validate(needs, {}))).toEqual([{ pointer: '/x~1y', detail: 'is required' }]);
  });

  it('points at the whole document with the empty pointer, as RFC 6901 defines it', () => {
    // "/" would name a member whose key is the empty string.
    expect(detailsOf(validate(TenantGetRequest, null))).toEqual([{ pointer: '', detail: 'must be object' }]);
    expect(detailsOf(validate(TenantGetRequest, 'x'))).toEqual([{ pointer: '', detail: 'must be object' }]);
  });

  it('keeps union failures short: one line per distinct problem, no anyOf noise', () => {
    const details = detailsOf(validate(Caller, { kind: 'root' }));
    expect(details.length).toBeGreaterThan(0);
    expect(details.every((d) => !/anyOf|oneOf/.test(d.detail))).toBe(true);
    expect(new Set(details.map((d) => `${d.pointer} ${d.detail}`)).size).toBe(details.length);
  });

  it('caps the number of details', () => {
    const strict = Type.Object({}, { additionalProperties: false });
    const many = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`f${i}`, i]));
    expect(detailsOf(validate(strict, many))).toHaveLength(20);
  });
});
