import { SetMetadata } from '@nestjs/common';
import type { Permission } from '@musubi/contracts';

/**
 * Who may call an /api/v1 route:
 * - `operator`: only the platform operator (tenants themselves);
 * - a permission: the operator, or a user of the route's tenant (by session or
 *   API token) whose roles grant it; an API token also needs a scope covering it;
 * - `signedIn`: any user of the route's tenant signed in with a session (never
 *   an API token: tokens cannot make or list tokens), or the operator.
 */
export type Access = { readonly operatorOnly: true } | { readonly permission: Permission } | { readonly signedIn: true };

export const AUTH_METADATA = 'musubi:auth';

export const OperatorOnly = () => SetMetadata(AUTH_METADATA, { operatorOnly: true } satisfies Access);

export const Requires = (permission: Permission) => SetMetadata(AUTH_METADATA, { permission } satisfies Access);

export const SignedIn = () => SetMetadata(AUTH_METADATA, { signedIn: true } satisfies Access);

export const ANSWERS_UNKNOWN_TENANT_METADATA = 'musubi:answers-unknown-tenant';

/**
 * The route's own service answers 404 for an unknown tenant (directory's tenant
 * routes read the tenant anyway), so the guard need not ask first: asking would
 * double the calls, and during a shutdown the second one could be refused.
 */
export const AnswersUnknownTenant = () => SetMetadata(ANSWERS_UNKNOWN_TENANT_METADATA, true);
