import { Type, type Static } from '@sinclair/typebox';
import { Empty, Page, PageQuery, Timestamp, Uuid } from '../common/schemas.js';
import { event, rpc, type SubjectDefinition } from '../common/subject.js';

export const DomainStatus = Type.Union([Type.Literal('pending'), Type.Literal('verified'), Type.Literal('lost')], {
  description:
    'pending: registered, its DNS proof not found yet; verified: proved, usable for login IDs; lost: the proof was gone or wrong on two consecutive re-checks — existing users stay, no new login IDs, still held against other tenants until verified again or removed',
});
export type DomainStatus = Static<typeof DomainStatus>;

export const DomainCheckOutcome = Type.Union(
  [Type.Literal('matched'), Type.Literal('record_missing'), Type.Literal('wrong_value'), Type.Literal('dns_error'), Type.Literal('timeout')],
  { description: 'record_missing and wrong_value count against a verified domain; dns_error and timeout change nothing' },
);

export const DomainView = Type.Object(
  {
    id: Uuid,
    tenantId: Uuid,
    name: Type.String({ description: 'Lower case; an internationalised name as punycode (A-labels), as login IDs use it' }),
    unicodeName: Type.String({ description: 'The name as people read it (例え.jp for xn--r8jz45g.jp)' }),
    status: DomainStatus,
    challenge: Type.Object(
      {
        recordName: Type.String({ description: 'Where to publish the TXT record: _musubi-challenge.<name>' }),
        recordType: Type.Literal('TXT'),
        recordValue: Type.String({ description: 'The exact value to publish: musubi-domain-verification=<token>' }),
      },
      { additionalProperties: false },
    ),
    lastCheck: Type.Union([
      Type.Object({ at: Timestamp, outcome: DomainCheckOutcome, message: Type.String() }, { additionalProperties: false }),
      Type.Null(),
    ]),
    verifiedAt: Type.Union([Timestamp, Type.Null()]),
    lostAt: Type.Union([Timestamp, Type.Null()]),
    nextCheckAt: Type.Union([Timestamp, Type.Null()], { description: 'When a verified or lost domain is checked again' }),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    version: Type.Integer({ minimum: 1 }),
  },
  { additionalProperties: false },
);
export type DomainView = Static<typeof DomainView>;

export const DomainRegisterBody = Type.Object(
  {
    name: Type.String({
      minLength: 1,
      maxLength: 300,
      description: 'A domain the tenant owns, such as acme.co.jp (any case, IDN allowed); not a public suffix, an IP address or the platform domain',
    }),
  },
  { additionalProperties: false },
);
export type DomainRegisterBody = Static<typeof DomainRegisterBody>;

export const DomainRegisterRequest = Type.Object({ tenantId: Uuid, ...DomainRegisterBody.properties }, { additionalProperties: false });
export const DomainRef = Type.Object({ tenantId: Uuid, domainId: Uuid }, { additionalProperties: false });
export const DomainListRequest = Type.Object({ tenantId: Uuid, ...PageQuery }, { additionalProperties: false });

export const DomainEvent = Type.Object({ domain: DomainView }, { additionalProperties: false });
export const DomainVerifiedEvent = Type.Object(
  { domain: DomainView, previousStatus: Type.Union([Type.Literal('pending'), Type.Literal('lost')]) },
  { additionalProperties: false },
);

export const directoryDomainSubjects = {
  'musubi.directory.domain.register.v1': rpc('directory', DomainRegisterRequest, DomainView, 'Register a domain of the tenant; the reply says which TXT record proves it.'),
  'musubi.directory.domain.get.v1': rpc('directory', DomainRef, DomainView, "Read one of the tenant's domains."),
  'musubi.directory.domain.list.v1': rpc('directory', DomainListRequest, Page(DomainView), "List the tenant's domains."),
  'musubi.directory.domain.verify.v1': rpc(
    'directory',
    DomainRef,
    DomainView,
    'Look the TXT record up now: verified when found; otherwise the status stays and lastCheck says why.',
  ),
  'musubi.directory.domain.remove.v1': rpc('directory', DomainRef, Empty, 'Remove a domain; refused while users have login IDs in it.'),
  'musubi.directory.domain.registered.v1': event('directory', DomainEvent, 'A tenant registered a domain.'),
  'musubi.directory.domain.verified.v1': event('directory', DomainVerifiedEvent, "A domain's DNS proof was found: verified, or restored after it was lost."),
  'musubi.directory.domain.lapsed.v1': event(
    'directory',
    DomainEvent,
    "A verified domain's DNS proof was gone or wrong on two consecutive checks: it is flagged lost.",
  ),
  'musubi.directory.domain.removed.v1': event('directory', DomainEvent, 'A tenant removed a domain.'),
} as const satisfies Record<string, SubjectDefinition>;
