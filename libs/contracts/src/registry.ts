import type { Static } from '@sinclair/typebox';
import type { EventDefinition, RpcDefinition, SubjectDefinition } from './common/subject.js';
import type { ServiceName } from './common/services.js';
import { auditEventSubjects } from './audit/event.js';
import { authnSubjects } from './authn/login.js';
import { authnPolicySubjects } from './authn/policy.js';
import { authnSessionSubjects } from './authn/sessions.js';
import { authnLockoutSubjects } from './authn/lockout.js';
import { authnResetSubjects } from './authn/reset.js';
import { authnApiTokenSubjects } from './authn/api-token.js';
import { authnApiAppSubjects } from './authn/api-app.js';
import { directoryTenantSubjects } from './directory/tenant.js';
import { directoryUserSubjects } from './directory/user.js';
import { directoryGroupSubjects } from './directory/group.js';
import { directoryDomainSubjects } from './directory/domain.js';
import { directoryJobSubjects } from './directory/job.js';
import { federationClientSubjects } from './federation/client.js';
import { federationOidcSubjects } from './federation/oidc.js';
import { federationIntrospectionSubjects } from './federation/introspection-state.js';

/**
 * Every group of subjects, as written. Kept as a list (not only merged) so a test
 * can prove that no two groups define the same subject: a spread would silently
 * let the later one win.
 */
export const SUBJECT_GROUPS = [directoryTenantSubjects, directoryUserSubjects, directoryGroupSubjects, directoryDomainSubjects, directoryJobSubjects, authnSubjects, authnPolicySubjects, authnSessionSubjects, authnLockoutSubjects, authnResetSubjects, authnApiTokenSubjects, authnApiAppSubjects, auditEventSubjects, federationClientSubjects, federationOidcSubjects, federationIntrospectionSubjects] as const;

/** Every subject of the fleet and its definition. */
export const SUBJECTS = {
  ...directoryTenantSubjects,
  ...directoryUserSubjects,
  ...directoryGroupSubjects,
  ...directoryDomainSubjects,
  ...directoryJobSubjects,
  ...authnSubjects,
  ...authnPolicySubjects,
  ...authnSessionSubjects,
  ...authnLockoutSubjects,
  ...authnResetSubjects,
  ...authnApiTokenSubjects,
  ...authnApiAppSubjects,
  ...auditEventSubjects,
  ...federationClientSubjects,
  ...federationOidcSubjects,
  ...federationIntrospectionSubjects,
} as const satisfies Record<string, SubjectDefinition>;

type Subjects = typeof SUBJECTS;
export type Subject = keyof Subjects;

export type RpcSubject = { [K in Subject]: Subjects[K] extends RpcDefinition ? K : never }[Subject];
export type EventSubject = { [K in Subject]: Subjects[K] extends EventDefinition ? K : never }[Subject];

export type RequestOf<S extends RpcSubject> = Subjects[S] extends RpcDefinition<infer Req> ? Static<Req> : never;
export type ReplyOf<S extends RpcSubject> = Subjects[S] extends RpcDefinition<infer _Req, infer Rep> ? Static<Rep> : never;
export type EventPayloadOf<S extends EventSubject> = Subjects[S] extends EventDefinition<infer P> ? Static<P> : never;

/**
 * The one map binding each subject to its wire types: request and reply for
 * request/reply subjects, the payload for events.
 */
export type SubjectMap = {
  [K in RpcSubject]: { kind: 'rpc'; request: RequestOf<K>; reply: ReplyOf<K> };
} & {
  [K in EventSubject]: { kind: 'event'; payload: EventPayloadOf<K> };
};

/** Subjects owned by a service, of one kind. */
export type OwnedBy<S extends Subject, O extends ServiceName> = S extends Subject
  ? Subjects[S]['owner'] extends O
    ? S
    : never
  : never;

export const subjectDefinition = (subject: string): SubjectDefinition | undefined =>
  Object.prototype.hasOwnProperty.call(SUBJECTS, subject) ? (SUBJECTS as Record<string, SubjectDefinition>)[subject] : undefined;
