import { SetMetadata } from '@nestjs/common';
import type { Permission } from '@musubi/contracts';

/**
 * Who may call an /api/v1 route:
 * - `operator`: only the platform operator (tenants themselves);
 * - a permission: the operator, or a signed-in user of the route's tenant whose roles grant it.
 */
export type Access = { readonly operatorOnly: true } | { readonly permission: Permission };

export const AUTH_METADATA = 'musubi:auth';

export const OperatorOnly = () => SetMetadata(AUTH_METADATA, { operatorOnly: true } satisfies Access);

export const Requires = (permission: Permission) => SetMetadata(AUTH_METADATA, { permission } satisfies Access);
