import { UserCreateBody, UserUpdateBody, type AdminRole, type ErrorDetail, type Im, type Phone, type UserSort } from '@musubi/contracts';
import { uuidv7 } from '@musubi/platform/bus';
import { validationError } from '@musubi/platform/errors';
import { validate } from '@musubi/platform/validation';

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


/** What a create (without its tenant) or an update brings: absent fields are left as they are, null clears. */
export type ProfileInput = Partial<UserCreateBody> | UserUpdateBody;

/** The profile of a user nobody described yet: only a login ID, and the tenant's default locale. */
export function emptyProfile(loginId: string, locale: User['locale']): UserProfile {
  return {
    loginId,
    displayName: '',
    familyName: null,
    givenName: null,
    familyNameKana: null,
    givenNameKana: null,
    email: null,
    department: null,
    title: null,
    locale,
    extraEmails: [],
    phones: [],
    ims: [],
    entitlements: [],
    personalEmail: null,
    personalMobile: null,
    externalId: null,
    appLinkingId: null,
    roles: [],
  };
}

/** Fields compared to tell a change from a no-op (and a roles-only change from others). */
export const PROFILE_KEYS = [
  'loginId',
  'displayName',
  'familyName',
  'givenName',
  'familyNameKana',
  'givenNameKana',
  'email',
  'department',
  'title',
  'locale',
  'extraEmails',
  'phones',
  'ims',
  'entitlements',
  'personalEmail',
  'personalMobile',
  'externalId',
  'appLinkingId',
  'roles',
] as const satisfies ReadonlyArray<keyof UserProfile>;

/** JSON with object keys sorted, so a value read back from jsonb (which reorders keys) compares equal to the one written. */
const canonical = (v: unknown): string =>
  JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1))) : x,
  );
const same = (a: unknown, b: unknown) => canonical(a) === canonical(b);

/** The fields that differ between two versions of a profile. */
export function changedFields(before: UserProfile, after: UserProfile): Array<keyof UserProfile> {
  return PROFILE_KEYS.filter((k) => !same(before[k], after[k]));
}

const trimmed = (v: string | null | undefined): string | null | undefined => (typeof v === 'string' ? v.trim() : v);
const kana = (v: string | null | undefined): string | null | undefined => (typeof v === 'string' ? normalizeKana(v) : v);

/**
 * Applies the fields present in `input` to `base` (PATCH semantics: absent
 * means unchanged, null clears), normalised the way they are stored: names
 * trimmed, kana in full-width katakana, contact labels trimmed. The input must
 * have passed its schema (`UserCreateBody` or `UserUpdateBody`); then
 * `profileProblems` says what the schema cannot.
 */
export function applyProfile(base: UserProfile, input: ProfileInput): UserProfile {
  const pick = <K extends keyof UserProfile>(k: K, map: (v: never) => UserProfile[K] | undefined = (v) => v): UserProfile[K] => {
    const raw = (input as Record<string, unknown>)[k];
    if (raw === undefined) return base[k];
    const mapped = map(raw as never);
    return mapped === undefined ? base[k] : mapped;
  };
  const contact = <T extends { name?: string | null | undefined; value: string; type: string }>(list: readonly T[]) =>
    list.map((c) => ({ name: c.name?.trim() || null, value: c.value.trim(), type: c.type }));
  return {
    loginId: pick('loginId', (v: string) => v.trim()),
    displayName: pick('displayName', (v: string) => v.trim()),
    familyName: pick('familyName', trimmed),
    givenName: pick('givenName', trimmed),
    familyNameKana: pick('familyNameKana', kana),
    givenNameKana: pick('givenNameKana', kana),
    email: pick('email', trimmed),
    department: pick('department', trimmed),
    title: pick('title', trimmed),
    locale: pick('locale'),
    extraEmails: pick('extraEmails', (v: string[]) => v.map((e) => e.trim())),
    phones: pick('phones', contact),
    ims: pick('ims', contact),
    entitlements: pick('entitlements', (v: string[]) => v.map((e) => e.trim())),
    personalEmail: pick('personalEmail', trimmed),
    personalMobile: pick('personalMobile', trimmed),
    externalId: pick('externalId', trimmed),
    appLinkingId: pick('appLinkingId', trimmed),
    roles: pick('roles'),
  };
}

const KATAKANA_WORDS = /^[ァ-ヿ]+(?: [ァ-ヿ]+)*$/u;

/**
 * Rules the schemas cannot say, for the fields present in `input`: kana that is
 * still katakana after normalising, no blank text after trimming, no email or
 * contact given twice (whatever its case). One detail per bad field.
 */
export function profileProblems(p: UserProfile, input: ProfileInput): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  const given = (k: keyof UserProfile) => (input as Record<string, unknown>)[k] !== undefined;
  for (const k of ['familyNameKana', 'givenNameKana'] as const) {
    const v = p[k];
    if (given(k) && v !== null && !KATAKANA_WORDS.test(v)) problems.push({ pointer: `/${k}`, detail: 'must be katakana' });
  }
  for (const k of ['displayName', 'familyName', 'givenName', 'department', 'title', 'externalId', 'appLinkingId'] as const) {
    if (given(k) && p[k] === '') problems.push({ pointer: `/${k}`, detail: 'must not be blank' });
  }
  if (given('extraEmails')) {
    const seen = new Set<string>();
    p.extraEmails.forEach((e, i) => {
      const key = e.toLowerCase();
      if (seen.has(key)) problems.push({ pointer: `/extraEmails/${i}`, detail: 'is given twice' });
      seen.add(key);
    });
  }
  for (const k of ['phones', 'ims'] as const) {
    if (!given(k)) continue;
    const seen = new Set<string>();
    p[k].forEach((c, i) => {
      const key = `${c.type} ${c.value.toLowerCase()}`;
      if (seen.has(key)) problems.push({ pointer: `/${k}/${i}/value`, detail: 'is given twice' });
      seen.add(key);
    });
  }
  return problems;
}

/** `profileProblems` as an error: validation_failed naming every bad field. */
export function checkProfile(p: UserProfile, input: ProfileInput): void {
  const problems = profileProblems(p, input);
  if (problems.length > 0) throw validationError(problems, 'Some fields are invalid.');
}

/** The login ID's domain must be one of `allowed` (the tenant's platform sub-domain and its verified domains). */
export function loginDomainProblem(loginId: string, allowed: readonly string[]): ErrorDetail | null {
  return allowed.includes(domainOf(loginId)) ? null : { pointer: '/loginId', detail: `must be in one of the tenant's domains (${allowed.join(', ')})` };
}

/**
 * Checks an untyped create (as a CSV row turns into one) against the schema
 * and the rules beyond it, and returns the profile to store or every problem.
 * The domain, uniqueness and limit checks need the database: the caller makes them.
 */
export function parseUserCreate(
  input: unknown,
  locale: User['locale'],
): { readonly ok: true; readonly profile: UserProfile; readonly input: UserCreateBody } | { readonly ok: false; readonly details: ErrorDetail[] } {
  const checked = validate(UserCreateBody, input);
  if (!checked.ok) return { ok: false, details: checked.details };
  const profile = applyProfile(emptyProfile(checked.value.loginId, locale), checked.value);
  const problems = profileProblems(profile, checked.value);
  if (problems.length > 0) return { ok: false, details: problems };
  return { ok: true, profile: withDefaults(profile), input: checked.value };
}

/** The same for an untyped change to an existing user's profile. */
export function parseUserUpdate(
  current: UserProfile,
  input: unknown,
): { readonly ok: true; readonly profile: UserProfile; readonly changed: Array<keyof UserProfile> } | { readonly ok: false; readonly details: ErrorDetail[] } {
  const checked = validate(UserUpdateBody, input);
  if (!checked.ok) return { ok: false, details: checked.details };
  const profile = applyProfile(current, checked.value);
  const problems = profileProblems(profile, checked.value);
  if (problems.length > 0) return { ok: false, details: problems };
  return { ok: true, profile, changed: changedFields(current, profile) };
}

/** A new user's display name when none was given: 山田 太郎, else the login ID. */
export function withDefaults(p: UserProfile): UserProfile {
  return p.displayName ? p : { ...p, displayName: defaultDisplayName(p.familyName, p.givenName, p.loginId) };
}

/** A new, active user with this profile (complete: see `withDefaults`), version 1. */
export function newUser(profile: UserProfile, tenantId: string, now: Date, id: string = uuidv7(now.getTime())): User {
  return {
    ...profile,
    id,
    tenantId,
    status: 'active',
    restoreStatus: null,
    createdAt: now,
    updatedAt: now,
    lastSignInAt: null,
    passwordChangedAt: null,
    deletedAt: null,
    version: 1,
  };
}
