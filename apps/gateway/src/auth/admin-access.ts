import { isIP, BlockList } from 'node:net';
import { Injectable } from '@nestjs/common';
import type { ApiTokenPrincipal, AppTokenPrincipal, CallContext } from '@musubi/contracts';
import { BusClient } from '@musubi/platform/bus';
import { DomainError } from '@musubi/platform/errors';

const TTL_MS = 10_000;
const MAX_ENTRIES = 10_000;

/** Whether an address (IPv4, IPv6, or IPv4-mapped IPv6) is in one of the CIDR blocks. */
export function inCidrs(ip: string, cidrs: readonly string[]): boolean {
  const list = new BlockList();
  for (const c of cidrs) {
    const [addr = '', bits] = c.split('/');
    const v = isIP(addr);
    if (v === 0) continue;
    list.addSubnet(addr, bits === undefined ? (v === 4 ? 32 : 128) : Number(bits), v === 4 ? 'ipv4' : 'ipv6');
  }
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  const addr = mapped?.[1] ?? ip;
  const v = isIP(addr);
  return v !== 0 && list.check(addr, v === 4 ? 'ipv4' : 'ipv6');
}

/**
 * What the admin API guard asks authn, cached ten seconds: a tenant's allowed
 * admin source ranges, and who an API token speaks for (by its digest, never
 * the token itself as a key).
 */
@Injectable()
export class AdminAccess {
  private readonly cidrs = new Map<string, { cidrs: readonly string[]; until: number }>();
  private readonly tokens = new Map<string, { principal: ApiTokenPrincipal; until: number }>();

  constructor(private readonly bus: BusClient) {}

  private internal(ctx: CallContext, tenantId: string | null): CallContext {
    return { ...ctx, tenantId, caller: { kind: 'service', service: 'gateway' } };
  }

  async allowedCidrs(tenantId: string, ctx: CallContext): Promise<readonly string[]> {
    const hit = this.cidrs.get(tenantId);
    if (hit && hit.until > Date.now()) return hit.cidrs;
    const policy = await this.bus.request('musubi.authn.policy.get.v1', { tenantId }, this.internal(ctx, tenantId));
    if (this.cidrs.size >= MAX_ENTRIES) this.cidrs.clear();
    this.cidrs.set(tenantId, { cidrs: policy.adminAllowedCidrs, until: Date.now() + TTL_MS });
    return policy.adminAllowedCidrs;
  }

  /** Refuses a user of a tenant whose admin access is limited to ranges the request is not from. */
  async assertSourceAllowed(tenantId: string, ip: string, ctx: CallContext): Promise<void> {
    const cidrs = await this.allowedCidrs(tenantId, ctx);
    if (cidrs.length > 0 && !inCidrs(ip, cidrs)) throw new DomainError('forbidden', 'Admin access to this tenant is not allowed from your network.');
  }

  async tokenPrincipal(token: string, digest: string, ctx: CallContext): Promise<ApiTokenPrincipal> {
    const hit = this.tokens.get(digest);
    if (hit && hit.until > Date.now() && Date.parse(hit.principal.expiresAt) > Date.now()) return hit.principal;
    const principal = await this.bus.request('musubi.authn.api-token.verify.v1', { token }, this.internal(ctx, null));
    if (this.tokens.size >= MAX_ENTRIES) this.tokens.clear();
    this.tokens.set(digest, { principal, until: Date.now() + TTL_MS });
    return principal;
  }

  /**
   * Who a registered application's access token speaks for, asked on every
   * request (never cached): revoking its refresh token or deleting the
   * application ends it at once. It lives minutes, so there is little to save.
   */
  appPrincipal(token: string, ctx: CallContext): Promise<AppTokenPrincipal> {
    return this.bus.request('musubi.authn.app-token.verify.v1', { token }, this.internal(ctx, null));
  }
}
