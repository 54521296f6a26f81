import type { GroupMemberKind, GroupType } from '@musubi/contracts';

/** A group as the directory's domain logic sees it. */
export interface Group {
  readonly id: string;
  readonly tenantId: string;
  readonly name: string;
  readonly email: string | null;
  readonly description: string | null;
  readonly type: GroupType;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly version: number;
}

export interface MemberRef {
  readonly kind: GroupMemberKind;
  readonly id: string;
}

/** A direct member with what an administrator recognises it by. */
export interface Member extends MemberRef {
  readonly name: string;
  readonly loginId: string | null;
  readonly status: string | null;
  readonly addedAt: Date;
}

/** A user in a group, directly (depth 0) or through `depth` levels of nested groups. */
export interface EffectiveUser {
  readonly id: string;
  readonly loginId: string;
  readonly displayName: string;
  readonly status: string;
  readonly depth: number;
}

/** A group a user is in, directly (depth 0) or through `depth` levels of nesting. */
export interface UserGroupMembership {
  readonly group: Group;
  readonly depth: number;
}

/** A keyset page: the items, and the key to continue after (null on the last page). */
export interface KeysetPage<T, K> {
  readonly items: T[];
  readonly next: K | null;
}

/** Users whose status forbids a new membership. */
export const UNADDABLE_USER_STATUSES: ReadonlySet<string> = new Set(['purged']);

export const DEFAULT_GROUP_TYPE: GroupType = 'security';
