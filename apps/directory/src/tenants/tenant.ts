/** A tenant as the directory's domain logic sees it. */
export interface Tenant {
  readonly id: string;
  readonly slug: string;
  readonly displayName: string;
  readonly status: 'active' | 'suspended' | 'terminated';
  readonly timeZone: string;
  readonly defaultLocale: 'ja-JP' | 'en-US';
  readonly userLimit: number;
  readonly groupLimit: number;
  readonly deletionRetentionDays: number;
  readonly syncedUsersReadOnly: boolean;
  readonly suspendedAt: Date | null;
  readonly terminatedAt: Date | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly version: number;
}

/** URL segments and names a tenant may not take. */
export const RESERVED_SLUGS = new Set([
  'admin', 'api', 'app', 'assets', 'auth', 'console', 'demo-admin', 'health', 'help', 'login', 'logout', 'mail',
  'metrics', 'musubi', 'oauth', 'oidc', 'operator', 'platform', 'root', 'saml', 'scim', 'static', 'status',
  'support', 'system', 'www',
]);

export const DEFAULT_USER_LIMIT = 1000;
export const DEFAULT_DELETION_RETENTION_DAYS = 30;
export const DEFAULT_GROUP_LIMIT = 1000;

/** The IANA time zone's canonical spelling (`asia/tokyo` → `Asia/Tokyo`), or null when it is none. */
export function canonicalTimeZone(tz: string): string | null {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: tz }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
}
