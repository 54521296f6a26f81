import { Type, type Static } from '@sinclair/typebox';

/** The administrative roles a user of a tenant may hold. A user with none is a plain user. */
export const ADMIN_ROLES = ['tenant_admin', 'auditor', 'helpdesk'] as const;
export type AdminRole = (typeof ADMIN_ROLES)[number];
export const AdminRole = Type.Union(ADMIN_ROLES.map((r) => Type.Literal(r)));

/** What the admin API lets a caller do inside a tenant. */
export const PERMISSIONS = [
  'tenant:read',
  'tenant:write',
  'domains:read',
  'domains:write',
  'users:read',
  'users:write',
  'users:credentials',
  'roles:write',
  'groups:read',
  'groups:write',
  'jobs:read',
  'jobs:write',
  'audit:read',
  'apps:read',
  'apps:write',
] as const;
export type Permission = (typeof PERMISSIONS)[number];
export const Permission = Type.Union(PERMISSIONS.map((p) => Type.Literal(p)));

/**
 * The policy table (data, not logic): a tenant administrator may do everything
 * within the tenant; an auditor reads; helpdesk reads people and resets their
 * credentials, but changes no configuration. The platform operator is above
 * all of them and is not a tenant role.
 */
export const ROLE_PERMISSIONS: Readonly<Record<AdminRole, readonly Permission[]>> = {
  tenant_admin: PERMISSIONS,
  auditor: ['tenant:read', 'domains:read', 'users:read', 'groups:read', 'jobs:read', 'audit:read', 'apps:read'],
  helpdesk: ['users:read', 'groups:read', 'users:credentials'],
};

export type RoleList = Static<typeof AdminRole>[];
