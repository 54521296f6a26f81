import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { AdminRole } from '../common/roles.js';
import { Timestamp, Uuid } from '../common/schemas.js';
import { event, rpc } from '../common/subject.js';
import { Locale } from './tenant.js';

/**
 * A user's lifecycle as clients see it. `pending_deletion` is a soft delete:
 * restorable until the tenant's retention has passed, when the user is purged
 * (personal data removed, only the id kept) and disappears from every read.
 */
export const UserStatus = Type.Union([Type.Literal('active'), Type.Literal('disabled'), Type.Literal('pending_deletion')]);
export type UserStatus = Static<typeof UserStatus>;

export const LoginId = Type.String({
  minLength: 3,
  maxLength: 254,
  format: 'email',
  description: 'Email form; its domain must be one of the tenant\'s domains',
});

/** Text a person typed: not blank, no control characters (it ends up in CSV files, mail headers and SAML attributes). */
const text = (maxLength: number, description?: string) =>
  Type.String({ minLength: 1, maxLength, pattern: '^[^\\u0000-\\u001f\\u007f]*[^\\s\\u0000-\\u001f\\u007f][^\\u0000-\\u001f\\u007f]*$', ...(description ? { description } : {}) });

const KANA_CHARS = '\\u30a1-\\u30ff\\uff65-\\uff9f';
/** A reading in katakana (full or half width; stored in full width). */
export const Kana = Type.String({
  minLength: 1,
  maxLength: 100,
  pattern: `^[${KANA_CHARS}\\u3000 ]*[${KANA_CHARS}][${KANA_CHARS}\\u3000 ]*$`,
  description: 'Katakana (ヤマダ); half-width katakana is accepted and stored in full width',
});

const Email = Type.String({ format: 'email', maxLength: 254 });

/** A global number in E.164 (`+81312345678`) or an RFC 3966 tel URI (`tel:+81-3-1234-5678`, `tel:1234;phone-context=example.com`). */
export const PhoneNumber = Type.String({
  minLength: 3,
  maxLength: 100,
  pattern:
    "^(?:\\+[1-9][0-9]{1,14}|tel:(?:\\+[0-9().-]*[0-9][0-9().-]*|(?=[^;]*(?:;[^;]*)*;phone-context=[^;]+)[0-9A-Fa-f*#().-]*[0-9A-Fa-f*#][0-9A-Fa-f*#().-]*)(?:;[A-Za-z0-9-]+(?:=[A-Za-z0-9_.!~*'()\\[\\]/:&+$%-]+)?)*)$",
  description: 'E.164 (+81312345678) or an RFC 3966 tel URI (tel:+81-3-1234-5678)',
});

export const PhoneType = Type.Union(['work', 'mobile', 'home', 'fax', 'pager', 'other'].map((t) => Type.Literal(t)));

const ImType = Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{0,31}$', description: 'The service, in lower case: slack, teams, line, xmpp, skype…' });
/** A label for a phone number or an IM address (代表, 直通, …). */
const ContactName = Type.Optional(Type.Union([text(100), Type.Null()]));

export const PhoneInput = Type.Object({ name: ContactName, value: PhoneNumber, type: PhoneType }, { additionalProperties: false });
export const ImInput = Type.Object({ name: ContactName, value: text(254), type: ImType }, { additionalProperties: false });

export const Phone = Type.Object({ name: Type.Union([Type.String(), Type.Null()]), value: Type.String(), type: PhoneType }, { additionalProperties: false });
export const Im = Type.Object({ name: Type.Union([Type.String(), Type.Null()]), value: Type.String(), type: Type.String() }, { additionalProperties: false });
export type Phone = Static<typeof Phone>;
export type Im = Static<typeof Im>;

export const MAX_EXTRA_EMAILS = 4;
export const MAX_PHONES = 10;
export const MAX_IMS = 10;
export const MAX_ENTITLEMENTS = 100;

const nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

/**
 * A user as the API shows it. The fields after `version` came with the full
 * record; they are optional in the schema so that v1 stays compatible with
 * replies and events written before them (the directory always sets them).
 */
export const UserView = Type.Object(
  {
    id: Uuid,
    tenantId: Uuid,
    loginId: Type.String(),
    displayName: Type.String(),
    familyName: nullable(Type.String()),
    givenName: nullable(Type.String()),
    /** The notification email. */
    email: nullable(Type.String()),
    roles: Type.Array(AdminRole),
    status: UserStatus,
    createdAt: Timestamp,
    updatedAt: Timestamp,
    version: Type.Integer({ minimum: 1 }),
    familyNameKana: Type.Optional(nullable(Type.String())),
    givenNameKana: Type.Optional(nullable(Type.String())),
    department: Type.Optional(nullable(Type.String())),
    title: Type.Optional(nullable(Type.String())),
    locale: Type.Optional(Locale),
    extraEmails: Type.Optional(Type.Array(Type.String(), { description: 'Further notification emails' })),
    phones: Type.Optional(Type.Array(Phone)),
    ims: Type.Optional(Type.Array(Im)),
    entitlements: Type.Optional(Type.Array(Type.String())),
    personalEmail: Type.Optional(nullable(Type.String())),
    personalMobile: Type.Optional(nullable(Type.String())),
    externalId: Type.Optional(nullable(Type.String({ description: 'Set by a directory sync; such users may be read-only for administrators' }))),
    appLinkingId: Type.Optional(nullable(Type.String({ description: 'The ID applications know the user by' }))),
    lastSignInAt: Type.Optional(nullable(Timestamp)),
    passwordChangedAt: Type.Optional(nullable(Timestamp)),
    deletedAt: Type.Optional(nullable(Timestamp)),
  },
  { additionalProperties: false },
);
export type UserView = Static<typeof UserView>;

const DisplayName = text(200, 'Default: family and given name, or the login ID');
const PersonName = text(100);
const OrgText = text(200);
const ExtraEmails = Type.Array(Email, { maxItems: MAX_EXTRA_EMAILS, uniqueItems: true });
const Phones = Type.Array(PhoneInput, { maxItems: MAX_PHONES });
const Ims = Type.Array(ImInput, { maxItems: MAX_IMS });
const Entitlements = Type.Array(text(200), { maxItems: MAX_ENTITLEMENTS, uniqueItems: true });
const ExternalId = text(255, 'The ID of the user in a synchronised directory');
const AppLinkingId = text(255, 'Unique in the tenant');
const Roles = Type.Array(AdminRole, { uniqueItems: true, maxItems: 3, description: 'Setting them needs the roles:write permission' });

/** The fields an administrator gives when creating a user (the tenant comes from the URL). */
export const UserCreateBody = Type.Object(
  {
    loginId: LoginId,
    displayName: Type.Optional(DisplayName),
    familyName: Type.Optional(PersonName),
    givenName: Type.Optional(PersonName),
    familyNameKana: Type.Optional(Kana),
    givenNameKana: Type.Optional(Kana),
    email: Type.Optional(Email),
    department: Type.Optional(OrgText),
    title: Type.Optional(OrgText),
    locale: Type.Optional(Locale),
    extraEmails: Type.Optional(ExtraEmails),
    phones: Type.Optional(Phones),
    ims: Type.Optional(Ims),
    entitlements: Type.Optional(Entitlements),
    personalEmail: Type.Optional(Email),
    personalMobile: Type.Optional(PhoneNumber),
    externalId: Type.Optional(ExternalId),
    appLinkingId: Type.Optional(AppLinkingId),
    roles: Type.Optional(Roles),
  },
  { additionalProperties: false },
);
export type UserCreateBody = Static<typeof UserCreateBody>;

export const UserCreateRequest = Type.Object({ tenantId: Uuid, ...UserCreateBody.properties }, { additionalProperties: false });
export type UserCreateRequest = Static<typeof UserCreateRequest>;

/** A PATCH: only the fields given change; null clears a field that may be empty, an array replaces the whole list. */
export const UserUpdateBody = Type.Object(
  {
    loginId: Type.Optional(LoginId),
    displayName: Type.Optional(DisplayName),
    familyName: Type.Optional(nullable(PersonName)),
    givenName: Type.Optional(nullable(PersonName)),
    familyNameKana: Type.Optional(nullable(Kana)),
    givenNameKana: Type.Optional(nullable(Kana)),
    email: Type.Optional(nullable(Email)),
    department: Type.Optional(nullable(OrgText)),
    title: Type.Optional(nullable(OrgText)),
    locale: Type.Optional(Locale),
    extraEmails: Type.Optional(ExtraEmails),
    phones: Type.Optional(Phones),
    ims: Type.Optional(Ims),
    entitlements: Type.Optional(Entitlements),
    personalEmail: Type.Optional(nullable(Email)),
    personalMobile: Type.Optional(nullable(PhoneNumber)),
    externalId: Type.Optional(nullable(ExternalId)),
    appLinkingId: Type.Optional(nullable(AppLinkingId)),
    roles: Type.Optional(Roles),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UserUpdateBody = Static<typeof UserUpdateBody>;

const ExpectedVersion = Type.Optional(Type.Integer({ minimum: 1, description: 'The version the caller last read (its ETag); a stale one is precondition_failed' }));

export const UserUpdateRequest = Type.Object({ tenantId: Uuid, userId: Uuid, expectedVersion: ExpectedVersion, changes: UserUpdateBody }, { additionalProperties: false });
export type UserUpdateRequest = Static<typeof UserUpdateRequest>;

/** Why a user is disabled, enabled, deleted or restored; kept in the audit trail. */
export const UserLifecycleBody = Type.Object({ reason: Type.Optional(Type.String({ maxLength: 500 })) }, { additionalProperties: false });
export type UserLifecycleBody = Static<typeof UserLifecycleBody>;

export const UserLifecycleRequest = Type.Object(
  { tenantId: Uuid, userId: Uuid, expectedVersion: ExpectedVersion, ...UserLifecycleBody.properties },
  { additionalProperties: false },
);
export type UserLifecycleRequest = Static<typeof UserLifecycleRequest>;

export const USER_SORTS = ['loginId', 'displayName', 'familyNameKana', 'createdAt', 'updatedAt'] as const;
export type UserSort = (typeof USER_SORTS)[number];

/** The list's parameters, as the admin API takes them in its query string. */
export const UserListQuery = Type.Object(
  {
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 2048, description: 'The `nextCursor` of the previous page (with the same sort and filters)' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50, description: 'Items per page (1-200, default 50)' })),
    sort: Type.Optional(Type.Union(USER_SORTS.map((s) => Type.Literal(s)), { description: 'Default loginId' })),
    order: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')], { description: 'Default asc' })),
    status: Type.Optional(UserStatus),
    domain: Type.Optional(Type.String({ minLength: 1, maxLength: 253, format: 'hostname', description: "The login ID's domain" })),
    groupId: Type.Optional(Type.String({ format: 'uuid', description: 'Users in this group, directly or through nested groups' })),
    q: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 100,
        description:
          'Words, each the start of a word of the login ID, the names, their kana (hiragana finds katakana), the display name, the emails, the external ID or the application-linking ID; `@acme` matches the start of the login ID\'s domain',
      }),
    ),
  },
  { additionalProperties: false },
);
export type UserListQuery = Static<typeof UserListQuery>;

export const UserListRequest = Type.Object({ tenantId: Uuid, ...UserListQuery.properties }, { additionalProperties: false });
export type UserListRequest = Static<typeof UserListRequest>;

export const UserPage = Type.Object(
  {
    items: Type.Array(UserView),
    nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass as `cursor` for the next page; null on the last page' }),
  },
  { additionalProperties: false },
);

export const UserGetRequest = Type.Object({ tenantId: Uuid, userId: Uuid }, { additionalProperties: false });
export const UserFindByLoginIdRequest = Type.Object(
  { tenantId: Uuid, loginId: Type.String({ minLength: 1, maxLength: 254 }) },
  { additionalProperties: false },
);
export const UserFindReply = Type.Object({ user: Type.Union([UserView, Type.Null()]) }, { additionalProperties: false });

export const UserCreatedEvent = Type.Object({ user: UserView }, { additionalProperties: false });

/** An administrative change, as the audit trail shows it: the user before and after, and why when the caller said. */
export const UserChangedEvent = Type.Object({ before: UserView, after: UserView, reason: Type.Union([Type.String(), Type.Null()]) }, { additionalProperties: false });

/** What is left of a purged user: its id and when it went. */
export const UserTombstone = Type.Object(
  { id: Uuid, status: Type.Literal('purged'), deletedAt: Timestamp, purgedAt: Timestamp },
  { additionalProperties: false },
);
export const UserPurgedEvent = Type.Object({ user: UserTombstone }, { additionalProperties: false });

export const directoryUserSubjects = {
  'musubi.directory.user.create.v1': rpc('directory', UserCreateRequest, UserView, 'Create a user in a tenant.'),
  'musubi.directory.user.get.v1': rpc('directory', UserGetRequest, UserView, 'Read a user by id.'),
  'musubi.directory.user.list.v1': rpc('directory', UserListRequest, UserPage, "List a tenant's users: sorted, filtered, searched, by keyset pages."),
  'musubi.directory.user.update.v1': rpc('directory', UserUpdateRequest, UserView, "Change a user's attributes (roles need roles:write)."),
  'musubi.directory.user.disable.v1': rpc('directory', UserLifecycleRequest, UserView, 'Disable a user: they cannot sign in until enabled.'),
  'musubi.directory.user.enable.v1': rpc('directory', UserLifecycleRequest, UserView, 'Enable a disabled user.'),
  'musubi.directory.user.delete.v1': rpc('directory', UserLifecycleRequest, UserView, "Delete a user: pending deletion, restorable until the tenant's retention has passed."),
  'musubi.directory.user.restore.v1': rpc('directory', UserLifecycleRequest, UserView, 'Restore a user pending deletion to the status it had.'),
  'musubi.directory.user.find-by-login-id.v1': rpc(
    'directory',
    UserFindByLoginIdRequest,
    UserFindReply,
    'Look a user up by login ID, case-insensitively (used by authn at sign-in); users pending deletion are not found.',
  ),
  'musubi.directory.user.created.v1': event('directory', UserCreatedEvent, 'A user was created.'),
  'musubi.directory.user.updated.v1': event('directory', UserChangedEvent, "A user's attributes or roles changed."),
  'musubi.directory.user.disabled.v1': event('directory', UserChangedEvent, 'A user was disabled.'),
  'musubi.directory.user.enabled.v1': event('directory', UserChangedEvent, 'A disabled user was enabled.'),
  'musubi.directory.user.deleted.v1': event('directory', UserChangedEvent, 'A user was deleted (pending deletion until purged).'),
  'musubi.directory.user.restored.v1': event('directory', UserChangedEvent, 'A user pending deletion was restored.'),
  'musubi.directory.user.purged.v1': event('directory', UserPurgedEvent, "A deleted user's personal data was removed for good."),
} as const;
