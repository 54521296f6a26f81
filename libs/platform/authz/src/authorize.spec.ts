import { randomUUID } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import type { AdminRole, CallContext, Permission } from '@musubi/contracts';
import { DomainError } from '@musubi/platform/errors';
import { authorize, authorizeInternal, authorizeOperator } from './authorize.js';

const A = randomUUID();
const B = randomUUID();
const user = (tenantId: string, roles: AdminRole[]): CallContext => ({ requestId: 'r', tenantId, caller: { kind: 'user', userId: randomUUID(), tenantId, roles } });
const codeOf = (fn: () => void): string | null => {
  try {
    fn();
    return null;
  } catch (e) {
    return e instanceof DomainError ? e.code : 'thrown';
  }
};

describe('authorize', () => {
  it.each<[AdminRole[], Permission, string | null]>([
    [['tenant_admin'], 'users:write', null],
    [['tenant_admin'], 'roles:write', null],
    [['auditor'], 'users:read', null],
    [['auditor'], 'audit:read', null],
    [['auditor'], 'users:write', 'forbidden'],
    [['auditor'], 'users:credentials', 'forbidden'],
    [['helpdesk'], 'users:credentials', null],
    [['helpdesk'], 'users:read', null],
    [['helpdesk'], 'users:write', 'forbidden'],
    [['helpdesk'], 'domains:write', 'forbidden'],
    [['helpdesk'], 'audit:read', 'forbidden'],
    [[], 'users:read', 'forbidden'],
    [['helpdesk', 'auditor'], 'audit:read', null],
  ])('roles %j for %s in their own tenant → %s', (roles, permission, expected) => {
    expect(codeOf(() => authorize(user(A, roles), A, permission))).toBe(expected);
  });

  it('answers not_found, not forbidden, for another tenant — even to its administrator', () => {
    expect(codeOf(() => authorize(user(A, ['tenant_admin']), B, 'users:read'))).toBe('not_found');
  });

  it('lets the operator and fleet services through and refuses anonymous callers', () => {
    expect(codeOf(() => authorize({ requestId: 'r', tenantId: null, caller: { kind: 'operator', id: 'x' } }, A, 'users:write'))).toBeNull();
    expect(codeOf(() => authorize({ requestId: 'r', tenantId: null, caller: { kind: 'service', service: 'authn' } }, A, 'users:read'))).toBeNull();
    expect(codeOf(() => authorize({ requestId: 'r', tenantId: null, caller: { kind: 'anonymous' } }, A, 'users:read'))).toBe('unauthenticated');
  });

  it('keeps tenant operations for the operator and internal lookups for services', () => {
    expect(codeOf(() => authorizeOperator(user(A, ['tenant_admin'])))).toBe('forbidden');
    expect(codeOf(() => authorizeInternal(user(A, ['tenant_admin'])))).toBe('forbidden');
    expect(codeOf(() => authorizeInternal({ requestId: 'r', tenantId: null, caller: { kind: 'service', service: 'authn' } }))).toBeNull();
  });
});
