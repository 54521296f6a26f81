import { ROLE_PERMISSIONS, type AdminRole, type CallContext, type Permission } from '@musubi/contracts';
import { DomainError } from '@musubi/platform/errors';

export const hasPermission = (roles: readonly AdminRole[], permission: Permission): boolean =>
  roles.some((r) => ROLE_PERMISSIONS[r].includes(permission));

/**
 * The one check every service makes before touching a tenant's data:
 * - the platform operator and fleet services (internal calls) may;
 * - a user may act only inside their own tenant — another tenant's data is
 *   `not_found`, never `forbidden`, so ids cannot be probed — and only with a
 *   role that grants the permission;
 * - nobody else may.
 */
export function authorize(ctx: CallContext, tenantId: string, permission: Permission): void {
  const c = ctx.caller;
  switch (c.kind) {
    case 'operator':
    case 'service':
      return;
    case 'user':
      if (c.tenantId !== tenantId) throw new DomainError('not_found', 'No such resource.');
      if (!hasPermission(c.roles, permission)) throw new DomainError('forbidden', 'Your role does not allow this.');
      return;
    case 'anonymous':
      throw new DomainError('unauthenticated', 'Sign in first.');
    default: {
      const unknown: never = c;
      throw new Error(`unknown caller ${JSON.stringify(unknown)}`);
    }
  }
}

/** Operator-only operations (tenants themselves). Fleet services may too. */
export function authorizeOperator(ctx: CallContext): void {
  if (ctx.caller.kind !== 'operator' && ctx.caller.kind !== 'service') throw new DomainError('forbidden', 'Only a platform operator may do this.');
}

/** Lookups only other services (and the operator) may make, e.g. authn resolving a login ID. */
export function authorizeInternal(ctx: CallContext): void {
  if (ctx.caller.kind !== 'service' && ctx.caller.kind !== 'operator') throw new DomainError('forbidden', 'Internal lookup.');
}
