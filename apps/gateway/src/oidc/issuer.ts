import { OIDC_PATHS, type CallContext } from '@musubi/contracts';

/** `{PUBLIC_URL}/t/{slug}`: one issuer per tenant. */
export const issuerFor = (publicUrl: string, slug: string): string => `${publicUrl.replace(/\/+$/, '')}/t/${slug}`;

export const endpoint = (issuer: string, name: keyof typeof OIDC_PATHS): string => `${issuer}${OIDC_PATHS[name]}`;

/**
 * Protocol requests reach federation on the gateway's authority (federation
 * answers them only for the gateway); the client or user they are about is
 * authenticated by federation itself from what the request carries.
 */
export const asGateway = (ctx: CallContext): CallContext => ({ ...ctx, caller: { kind: 'service', service: 'gateway' } });
