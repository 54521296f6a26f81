import { Type, type Static } from '@sinclair/typebox';
import { Page, PageQuery, Timestamp, Uuid } from '../common/schemas.js';
import { event, rpc } from '../common/subject.js';

export const TenantSlug = Type.String({
  minLength: 2,
  maxLength: 32,
  pattern: '^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$',
  description: 'Lower-case letters, digits and inner hyphens; used in URLs as /t/{slug}',
});

export const Locale = Type.Union([Type.Literal('ja-JP'), Type.Literal('en-US')]);

export const TenantStatus = Type.Union([Type.Literal('active'), Type.Literal('suspended'), Type.Literal('terminated')]);

export const TenantLimits = Type.Object(
  {
    users: Type.Integer({ minimum: 1, maximum: 10_000_000, description: 'Registered users, disabled and pending deletion included' }),
    groups: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
  },
  { additionalProperties: false },
);

export const TenantSettings = Type.Object(
  {
    deletionRetentionDays: Type.Integer({ minimum: 1, maximum: 365, description: 'Days a deleted user stays restorable before it is purged' }),
    syncedUsersReadOnly: Type.Boolean({ description: 'Users that came from a directory sync (with an external ID) cannot be edited by administrators' }),
  },
  { additionalProperties: false },
);
export type TenantSettings = Static<typeof TenantSettings>;

export const TenantView = Type.Object(
  {
    id: Uuid,
    slug: TenantSlug,
    displayName: Type.String(),
    status: TenantStatus,
    timeZone: Type.String(),
    defaultLocale: Locale,
    limits: TenantLimits,
    settings: TenantSettings,
    platformDomain: Type.String({ description: 'The sub-domain of the platform every tenant gets, usable for login IDs at once' }),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    version: Type.Integer({ minimum: 1 }),
  },
  { additionalProperties: false },
);
export type TenantView = Static<typeof TenantView>;

export const TenantCreateRequest = Type.Object(
  {
    slug: TenantSlug,
    displayName: Type.String({ minLength: 1, maxLength: 200 }),
    timeZone: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'IANA time zone; default Asia/Tokyo' })),
    defaultLocale: Type.Optional(Locale),
    limits: Type.Optional(Type.Partial(TenantLimits, { additionalProperties: false })),
  },
  { additionalProperties: false },
);
export type TenantCreateRequest = Static<typeof TenantCreateRequest>;

/** The fields a PATCH may change. Limits are the operator's; the rest the tenant's administrators may change too. */
export const TenantUpdateBody = Type.Object(
  {
    displayName: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    timeZone: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    defaultLocale: Type.Optional(Locale),
    limits: Type.Optional(Type.Partial(TenantLimits, { additionalProperties: false })),
    settings: Type.Optional(Type.Partial(TenantSettings, { additionalProperties: false })),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type TenantUpdateBody = Static<typeof TenantUpdateBody>;

export const TenantUpdateRequest = Type.Object(
  {
    id: Uuid,
    /** The version the caller last read (from its ETag); a stale one is precondition_failed. */
    expectedVersion: Type.Optional(Type.Integer({ minimum: 1 })),
    changes: TenantUpdateBody,
  },
  { additionalProperties: false },
);

/** Why a tenant is suspended, resumed or terminated; kept in the audit trail. */
export const TenantLifecycleBody = Type.Object({ reason: Type.Optional(Type.String({ maxLength: 500 })) }, { additionalProperties: false });
export type TenantLifecycleBody = Static<typeof TenantLifecycleBody>;

export const TenantLifecycleRequest = Type.Object(
  { id: Uuid, expectedVersion: Type.Optional(Type.Integer({ minimum: 1 })), ...TenantLifecycleBody.properties },
  { additionalProperties: false },
);

export const TenantGetRequest = Type.Object({ id: Uuid }, { additionalProperties: false });
export const TenantGetBySlugRequest = Type.Object({ slug: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false });
export const TenantListRequest = Type.Object({ ...PageQuery }, { additionalProperties: false });

export const TenantCreatedEvent = Type.Object({ tenant: TenantView }, { additionalProperties: false });
export type TenantCreatedEvent = Static<typeof TenantCreatedEvent>;

/** An administrative change, as the audit trail shows it: the resource before and after. */
export const TenantChangedEvent = Type.Object({ before: TenantView, after: TenantView, reason: Type.Union([Type.String(), Type.Null()]) }, { additionalProperties: false });

export const directoryTenantSubjects = {
  'musubi.directory.tenant.create.v1': rpc('directory', TenantCreateRequest, TenantView, 'Create a tenant (platform operator).'),
  'musubi.directory.tenant.get.v1': rpc('directory', TenantGetRequest, TenantView, 'Read a tenant by id.'),
  'musubi.directory.tenant.get-by-slug.v1': rpc('directory', TenantGetBySlugRequest, TenantView, 'Resolve a tenant from its URL slug.'),
  'musubi.directory.tenant.list.v1': rpc('directory', TenantListRequest, Page(TenantView), 'List tenants (platform operator).'),
  'musubi.directory.tenant.update.v1': rpc('directory', TenantUpdateRequest, TenantView, "Change a tenant's name, time zone, locale, settings (its administrators) or limits (the operator)."),
  'musubi.directory.tenant.suspend.v1': rpc('directory', TenantLifecycleRequest, TenantView, 'Suspend a tenant: nobody of it signs in until it is resumed (platform operator).'),
  'musubi.directory.tenant.resume.v1': rpc('directory', TenantLifecycleRequest, TenantView, 'Resume a suspended tenant (platform operator).'),
  'musubi.directory.tenant.terminate.v1': rpc('directory', TenantLifecycleRequest, TenantView, 'Terminate a tenant, for good (platform operator).'),
  'musubi.directory.tenant.created.v1': event('directory', TenantCreatedEvent, 'A tenant was created.'),
  'musubi.directory.tenant.updated.v1': event('directory', TenantChangedEvent, "A tenant's details, settings or limits changed."),
  'musubi.directory.tenant.suspended.v1': event('directory', TenantChangedEvent, 'A tenant was suspended.'),
  'musubi.directory.tenant.resumed.v1': event('directory', TenantChangedEvent, 'A suspended tenant was resumed.'),
  'musubi.directory.tenant.terminated.v1': event('directory', TenantChangedEvent, 'A tenant was terminated.'),
} as const;
