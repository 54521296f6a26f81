import type { ApiTokenScope, Permission } from '@musubi/contracts';

/**
 * Which API-token scopes cover a route's permission (a write scope covers
 * reading the same things). A permission no scope covers (tenant settings,
 * domains, roles, credentials, jobs) is out of reach of every API token.
 */
export const SCOPES_COVERING: Readonly<Partial<Record<Permission, readonly ApiTokenScope[]>>> = {
  'users:read': ['users:read', 'users:write'],
  'users:write': ['users:write'],
  'groups:read': ['groups:read', 'groups:write'],
  'groups:write': ['groups:write'],
  'audit:read': ['audit:read'],
};

export const scopesCover = (scopes: readonly ApiTokenScope[], permission: Permission): boolean => (SCOPES_COVERING[permission] ?? []).some((s) => scopes.includes(s));
