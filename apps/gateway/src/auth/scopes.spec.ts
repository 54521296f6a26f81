import { describe, expect, it } from '@jest/globals';
import { PERMISSIONS } from '@musubi/contracts';
import { inCidrs } from './admin-access.js';
import { scopesCover } from './scopes.js';

describe('scopesCover', () => {
  it('lets a write scope read, never the other way round', () => {
    expect(scopesCover(['users:read'], 'users:read')).toBe(true);
    expect(scopesCover(['users:read'], 'users:write')).toBe(false);
    expect(scopesCover(['users:write'], 'users:read')).toBe(true);
    expect(scopesCover(['groups:write'], 'users:read')).toBe(false);
    expect(scopesCover(['audit:read'], 'audit:read')).toBe(true);
  });

  it('leaves configuration, roles, credentials and jobs out of reach of every token', () => {
    const all = ['users:read', 'users:write', 'groups:read', 'groups:write', 'audit:read', 'scim'] as const;
    const reachable = PERMISSIONS.filter((p) => scopesCover(all, p));
    expect(reachable.sort()).toEqual(['audit:read', 'groups:read', 'groups:write', 'users:read', 'users:write']);
  });
});

describe('inCidrs', () => {
  const ranges = ['203.0.113.0/24', '2001:db8::/32', '192.0.2.7'];
  it.each([
    ['203.0.113.1', true],
    ['203.0.114.1', false],
    ['::ffff:203.0.113.9', true],
    ['2001:db8:1::5', true],
    ['2001:db9::1', false],
    ['192.0.2.7', true],
    ['192.0.2.8', false],
    ['not-an-ip', false],
  ])('%s → %s', (ip, inside) => {
    expect(inCidrs(ip, ranges)).toBe(inside);
  });

  it('matches nothing with no ranges (the caller treats that as "no limit")', () => {
    expect(inCidrs('203.0.113.1', [])).toBe(false);
  });
});
