import { Type, type Static } from '@sinclair/typebox';
import { Empty, Page, PageQuery, Timestamp, Uuid } from '../common/schemas.js';
import { event, rpc, type SubjectDefinition } from '../common/subject.js';

/** What a group is for: access decisions, a mailing list, or a unit of the organisation chart. */
export const GroupType = Type.Union([Type.Literal('security'), Type.Literal('distribution'), Type.Literal('organization')]);
export type GroupType = Static<typeof GroupType>;

export const GroupName = Type.String({
  minLength: 1,
  maxLength: 200,
  // No control characters: names end up in CSV files, mail headers and SAML attributes.
  pattern: '^[^\\u0000-\\u001f\\u007f]*$',
  description: 'Unique in the tenant, whatever its case',
});

export const GroupView = Type.Object(
  {
    id: Uuid,
    tenantId: Uuid,
    name: Type.String(),
    email: Type.Union([Type.String(), Type.Null()]),
    description: Type.Union([Type.String(), Type.Null()]),
    type: GroupType,
    createdAt: Timestamp,
    updatedAt: Timestamp,
    version: Type.Integer({ minimum: 1 }),
  },
  { additionalProperties: false },
);
export type GroupView = Static<typeof GroupView>;

const GroupEmail = Type.String({ format: 'email', maxLength: 254 });
const GroupDescription = Type.String({ maxLength: 1000 });

/** The fields an administrator gives when creating a group (the tenant comes from the URL). */
export const GroupCreateBody = Type.Object(
  {
    name: GroupName,
    email: Type.Optional(GroupEmail),
    description: Type.Optional(GroupDescription),
    /** Default security. */
    type: Type.Optional(GroupType),
  },
  { additionalProperties: false },
);
export type GroupCreateBody = Static<typeof GroupCreateBody>;

export const GroupCreateRequest = Type.Object({ tenantId: Uuid, ...GroupCreateBody.properties }, { additionalProperties: false });
export type GroupCreateRequest = Static<typeof GroupCreateRequest>;

/** The fields a PATCH may change; `null` clears the email or description. */
export const GroupUpdateBody = Type.Object(
  {
    name: Type.Optional(GroupName),
    email: Type.Optional(Type.Union([GroupEmail, Type.Null()])),
    description: Type.Optional(Type.Union([GroupDescription, Type.Null()])),
    type: Type.Optional(GroupType),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type GroupUpdateBody = Static<typeof GroupUpdateBody>;

export const GroupUpdateRequest = Type.Object(
  {
    tenantId: Uuid,
    groupId: Uuid,
    /** The version the caller last read (from its ETag); a stale one is precondition_failed. */
    expectedVersion: Type.Optional(Type.Integer({ minimum: 1 })),
    changes: GroupUpdateBody,
  },
  { additionalProperties: false },
);

export const GroupGetRequest = Type.Object({ tenantId: Uuid, groupId: Uuid }, { additionalProperties: false });
export const GroupDeleteRequest = Type.Object(
  { tenantId: Uuid, groupId: Uuid, expectedVersion: Type.Optional(Type.Integer({ minimum: 1 })) },
  { additionalProperties: false },
);

export const GroupSort = Type.Union([Type.Literal('name'), Type.Literal('-name'), Type.Literal('createdAt'), Type.Literal('-createdAt')], {
  description: 'Order of the list; `-` for descending. Default name',
});
export type GroupSort = Static<typeof GroupSort>;

/** Filters and order of a group list (also the gateway's query string, after `limit` is read as a number). */
export const GroupListQuery = Type.Object(
  {
    ...PageQuery,
    sort: Type.Optional(GroupSort),
    q: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Groups whose name contains this, whatever its case' })),
    prefix: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Groups whose name starts with this, whatever its case' })),
    type: Type.Optional(GroupType),
  },
  { additionalProperties: false },
);
export type GroupListQuery = Static<typeof GroupListQuery>;

export const GroupListRequest = Type.Object({ tenantId: Uuid, ...GroupListQuery.properties }, { additionalProperties: false });

export const GroupMemberKind = Type.Union([Type.Literal('user'), Type.Literal('group')]);
export type GroupMemberKind = Static<typeof GroupMemberKind>;

/** A member of a group: a user, or a group nested in it. */
export const GroupMemberRef = Type.Object({ kind: GroupMemberKind, id: Uuid }, { additionalProperties: false });
export type GroupMemberRef = Static<typeof GroupMemberRef>;

export const GroupMembersAddBody = Type.Object(
  { members: Type.Array(GroupMemberRef, { minItems: 1, maxItems: 1000, uniqueItems: true }) },
  { additionalProperties: false },
);
export type GroupMembersAddBody = Static<typeof GroupMembersAddBody>;

export const GroupMembersAddRequest = Type.Object({ tenantId: Uuid, groupId: Uuid, ...GroupMembersAddBody.properties }, { additionalProperties: false });

/** What an addition did: the members it added, and those that were members already (left as they were). */
export const GroupMembersAddReply = Type.Object(
  { added: Type.Array(GroupMemberRef), alreadyMembers: Type.Array(GroupMemberRef) },
  { additionalProperties: false },
);

export const GroupMemberRemoveRequest = Type.Object({ tenantId: Uuid, groupId: Uuid, member: GroupMemberRef }, { additionalProperties: false });

/** A direct member, with what an administrator needs to recognise it. */
export const GroupMemberView = Type.Object(
  {
    kind: GroupMemberKind,
    id: Uuid,
    /** The user's display name or the group's name. */
    name: Type.String(),
    /** Users only. */
    loginId: Type.Union([Type.String(), Type.Null()]),
    /** Users only: the user's status. */
    status: Type.Union([Type.String(), Type.Null()]),
    addedAt: Timestamp,
  },
  { additionalProperties: false },
);
export type GroupMemberView = Static<typeof GroupMemberView>;

export const GroupMemberListQuery = Type.Object({ ...PageQuery, kind: Type.Optional(GroupMemberKind) }, { additionalProperties: false });
export type GroupMemberListQuery = Static<typeof GroupMemberListQuery>;
export const GroupMemberListRequest = Type.Object({ tenantId: Uuid, groupId: Uuid, ...GroupMemberListQuery.properties }, { additionalProperties: false });

/** A user who belongs to a group directly or through groups nested in it. */
export const GroupEffectiveUserView = Type.Object(
  {
    id: Uuid,
    loginId: Type.String(),
    displayName: Type.String(),
    status: Type.String(),
    /** 0 when a direct member; n when through n levels of nested groups (the shortest way). */
    depth: Type.Integer({ minimum: 0 }),
    direct: Type.Boolean(),
  },
  { additionalProperties: false },
);
export type GroupEffectiveUserView = Static<typeof GroupEffectiveUserView>;

export const GroupEffectiveUsersRequest = Type.Object({ tenantId: Uuid, groupId: Uuid, ...PageQuery }, { additionalProperties: false });

/** A group a user belongs to, directly (depth 0) or through nested groups. */
export const UserGroupMembershipView = Type.Object(
  {
    group: GroupView,
    /** 0 when the user is a direct member; n when through n levels of nested groups (the shortest way). */
    depth: Type.Integer({ minimum: 0 }),
    direct: Type.Boolean(),
  },
  { additionalProperties: false },
);
export type UserGroupMembershipView = Static<typeof UserGroupMembershipView>;

export const UserGroupMembershipsRequest = Type.Object({ tenantId: Uuid, userId: Uuid, ...PageQuery }, { additionalProperties: false });

export const GroupCreatedEvent = Type.Object({ group: GroupView }, { additionalProperties: false });
export const GroupChangedEvent = Type.Object({ before: GroupView, after: GroupView }, { additionalProperties: false });
export const GroupDeletedEvent = Type.Object(
  {
    group: GroupView,
    /** How many direct members it had (they remain, outside it). */
    memberCount: Type.Integer({ minimum: 0 }),
    /** The groups it was a member of, and no longer is. */
    removedFrom: Type.Array(Uuid),
  },
  { additionalProperties: false },
);
const GroupRef = Type.Object({ id: Uuid, name: Type.String() }, { additionalProperties: false });
export const GroupMembersChangedEvent = Type.Object({ group: GroupRef, members: Type.Array(GroupMemberRef) }, { additionalProperties: false });

export const directoryGroupSubjects = {
  'musubi.directory.group.create.v1': rpc('directory', GroupCreateRequest, GroupView, 'Create a group in a tenant.'),
  'musubi.directory.group.get.v1': rpc('directory', GroupGetRequest, GroupView, 'Read a group by id.'),
  'musubi.directory.group.list.v1': rpc('directory', GroupListRequest, Page(GroupView), "List a tenant's groups, by name or creation, filtered by name and type."),
  'musubi.directory.group.update.v1': rpc('directory', GroupUpdateRequest, GroupView, "Change a group's name, email, description or type."),
  'musubi.directory.group.delete.v1': rpc('directory', GroupDeleteRequest, Empty, 'Delete a group, with its memberships in both directions.'),
  'musubi.directory.group.members-add.v1': rpc(
    'directory',
    GroupMembersAddRequest,
    GroupMembersAddReply,
    'Add users and groups to a group, all or none; a group that would contain itself is group_cycle.',
  ),
  'musubi.directory.group.member-remove.v1': rpc('directory', GroupMemberRemoveRequest, Empty, 'Remove one direct member of a group.'),
  'musubi.directory.group.members-list.v1': rpc('directory', GroupMemberListRequest, Page(GroupMemberView), "List a group's direct members."),
  'musubi.directory.group.effective-users-list.v1': rpc(
    'directory',
    GroupEffectiveUsersRequest,
    Page(GroupEffectiveUserView),
    'List the users in a group directly or through nested groups, by user id.',
  ),
  'musubi.directory.group.user-groups-list.v1': rpc('directory', UserGroupMembershipsRequest, Page(UserGroupMembershipView), "List a user's groups, direct and through nesting, by name."),
  'musubi.directory.group.created.v1': event('directory', GroupCreatedEvent, 'A group was created.'),
  'musubi.directory.group.updated.v1': event('directory', GroupChangedEvent, "A group's name, email, description or type changed."),
  'musubi.directory.group.deleted.v1': event('directory', GroupDeletedEvent, 'A group was deleted, with its memberships.'),
  'musubi.directory.group.members-added.v1': event('directory', GroupMembersChangedEvent, 'Users or groups were added to a group.'),
  'musubi.directory.group.members-removed.v1': event('directory', GroupMembersChangedEvent, 'Users or groups were removed from a group.'),
} as const satisfies Record<string, SubjectDefinition>;
