import type { AdminRole, Im, Phone, UserSort } from '@musubi/contracts';

/** Where a user is in its lifecycle. `purged` rows are tombstones: only the id and the dates are left. */
export type UserStatus = 'active' | 'disabled' | 'pending_deletion' | 'purged';
export type LiveStatus = Exclude<UserStatus, 'purged'>;

/** A user as the directory's domain logic sees it (never a purged one: those are not users any more). */
export interface User {
  readonly id: string;
  readonly tenantId: string;
  readonly loginId: string;
  readonly displayName: string;
  readonly familyName: string | null;
  readonly givenName: string | null;
  readonly familyNameKana: string | null;
  readonly givenNameKana: string | null;
  /** The notification email. */
  readonly email: string | null;
  readonly department: string | null;
  readonly title: string | null;
  readonly locale: 'ja-JP' | 'en-US';
  readonly extraEmails: readonly string[];
  readonly phones: readonly Phone[];
  readonly ims: readonly Im[];
  readonly entitlements: readonly string[];
  readonly personalEmail: string | null;
  readonly personalMobile: string | null;
  readonly externalId: string | null;
  readonly appLinkingId: string | null;
  readonly roles: readonly AdminRole[];
  readonly status: LiveStatus;
  /** The status a restore brings back (set while pending deletion). */
  readonly restoreStatus: 'active' | 'disabled' | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly lastSignInAt: Date | null;
  readonly passwordChangedAt: Date | null;
  readonly deletedAt: Date | null;
  readonly version: number;
}

/** The attributes an administrator edits (everything but identity, lifecycle and times). */
export type UserProfile = Pick<
  User,
  | 'loginId'
  | 'displayName'
  | 'familyName'
  | 'givenName'
  | 'familyNameKana'
  | 'givenNameKana'
  | 'email'
  | 'department'
  | 'title'
  | 'locale'
  | 'extraEmails'
  | 'phones'
  | 'ims'
  | 'entitlements'
  | 'personalEmail'
  | 'personalMobile'
  | 'externalId'
  | 'appLinkingId'
  | 'roles'
>;

/** A position in a sorted list: the sort key of the last row and its id. */
export interface UserKeyset {
  readonly key: string;
  readonly id: string;
}

export interface UserListFilter {
  readonly status: LiveStatus | null;
  /** Lower case. */
  readonly domain: string | null;
  readonly groupId: string | null;
  /** As typed; the repository normalises it the way the stored search words were. */
  readonly q: string | null;
}

export interface UserListQuery {
  readonly tenantId: string;
  readonly sort: UserSort;
  readonly descending: boolean;
  readonly filter: UserListFilter;
  readonly after: UserKeyset | null;
  readonly limit: number;
}

export interface UserListPage {
  readonly items: readonly User[];
  /** The keyset of the last item when more follow. */
  readonly next: UserKeyset | null;
}

/** A deleted user whose retention has passed, as the purge worker sees it. */
export interface PurgeCandidate {
  readonly user: User;
  readonly retentionDays: number;
}

/** Katakana as stored: NFKC (half width → full width, ideographic space → space), single spaces, trimmed. */
export function normalizeKana(value: string): string {
  return value.normalize('NFKC').replace(/\s+/gu, ' ').trim();
}

/** Default display name: 山田 太郎, else the login ID. */
export function defaultDisplayName(familyName: string | null, givenName: string | null, loginId: string): string {
  return [familyName, givenName].filter((n): n is string => !!n).join(' ') || loginId;
}

/** The domain of a login ID, lower case. */
export const domainOf = (loginId: string): string => loginId.slice(loginId.lastIndexOf('@') + 1).toLowerCase();
