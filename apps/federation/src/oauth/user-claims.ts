import { Injectable } from '@nestjs/common';
import type { CallContext, UserView } from '@musubi/contracts';
import { BusClient } from '@musubi/platform/bus';
import { DomainError } from '@musubi/platform/errors';
import type { OidcClient } from '../clients/client.js';

const asFederation = (tenantId: string): CallContext => ({ requestId: `fed-claims-${tenantId}`, tenantId, caller: { kind: 'service', service: 'federation' } });

export interface DirectoryUser {
  readonly user: UserView;
  /** Names of every group the user is in, directly or through nesting (read only when needed). */
  readonly groups: readonly { id: string; name: string }[];
}

/**
 * The directory as the provider sees it: the user behind a grant (only an
 * active one may get tokens), their groups, whether they are assigned to a
 * client, and the claims a client may receive about them.
 */
@Injectable()
export class UserClaims {
  constructor(private readonly bus: BusClient) {}

  async activeUser(tenantId: string, userId: string, withGroups: boolean): Promise<DirectoryUser | null> {
    let user: UserView;
    try {
      user = await this.bus.request('musubi.directory.user.get.v1', { tenantId, userId }, asFederation(tenantId));
    } catch (err) {
      if (err instanceof DomainError && err.code === 'not_found') return null;
      throw err;
    }
    if (user.status !== 'active') return null;
    return { user, groups: withGroups ? await this.groupsOf(tenantId, userId) : [] };
  }

  private async groupsOf(tenantId: string, userId: string): Promise<Array<{ id: string; name: string }>> {
    const out: Array<{ id: string; name: string }> = [];
    let cursor: string | undefined;
    for (let page = 0; page < 10; page++) {
      const res = await this.bus.request('musubi.directory.group.user-groups-list.v1', { tenantId, userId, limit: 200, ...(cursor ? { cursor } : {}) }, asFederation(tenantId));
      out.push(...res.items.map((m) => ({ id: m.group.id, name: m.group.name })));
      if (!res.nextCursor) break;
      cursor = res.nextCursor;
    }
    return out;
  }

  /** Whether the client's assignment rule lets this user in. */
  assigned(client: OidcClient, u: DirectoryUser): boolean {
    const s = client.settings;
    if (!s.assignmentRequired) return true;
    if (s.assignedUserIds.includes(u.user.id)) return true;
    return u.groups.some((g) => s.assignedGroupIds.includes(g.id));
  }

  /** Whether `activeUser` must read groups for this client (assignment through groups, or a groups claim). */
  needsGroups(client: OidcClient, scopes: readonly string[]): boolean {
    const s = client.settings;
    return (s.assignmentRequired && s.assignedGroupIds.length > 0) || (s.groupsClaim && scopes.includes('groups'));
  }

  /** The user's claims for these scopes (OIDC Core §5.4), the client's groups claim and its mapped claims. */
  claims(client: OidcClient, u: DirectoryUser, scopes: readonly string[]): Record<string, unknown> {
    const user = u.user;
    const out: Record<string, unknown> = {};
    const put = (k: string, v: unknown) => {
      if (v !== null && v !== undefined && !(Array.isArray(v) && v.length === 0)) out[k] = v;
    };
    if (scopes.includes('profile')) {
      put('name', user.displayName);
      put('family_name', user.familyName);
      put('given_name', user.givenName);
      put('preferred_username', user.loginId);
      put('locale', user.locale);
      out['updated_at'] = Math.floor(Date.parse(user.updatedAt) / 1000);
    }
    if (scopes.includes('email')) {
      put('email', user.email ?? user.loginId);
      // The directory does not prove mailbox ownership; the tenant proved its domain only.
      out['email_verified'] = false;
    }
    if (scopes.includes('phone')) {
      const phone = user.phones?.find((p) => p.type === 'mobile') ?? user.phones?.find((p) => p.type === 'work') ?? user.phones?.[0];
      if (phone) {
        out['phone_number'] = phone.value;
        out['phone_number_verified'] = false;
      }
    }
    if (scopes.includes('groups') && client.settings.groupsClaim) out['groups'] = u.groups.map((g) => g.name);
    for (const [claim, field] of Object.entries(client.settings.claimMapping)) put(claim, user[field]);
    return out;
  }
}
