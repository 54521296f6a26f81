import { Type, type Static } from '@sinclair/typebox';
import { AdminRole } from './roles.js';
import { SERVICE_NAMES } from './services.js';

/** NATS header names carrying the call context on every request and event. */
export const CONTEXT_HEADERS = {
  requestId: 'Musubi-Request-Id',
  tenantId: 'Musubi-Tenant-Id',
  caller: 'Musubi-Caller',
} as const;

export const Caller = Type.Union([
  Type.Object({ kind: Type.Literal('operator'), id: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false }),
  Type.Object(
    {
      kind: Type.Literal('user'),
      userId: Type.String({ format: 'uuid' }),
      tenantId: Type.String({ format: 'uuid' }),
      /** The user's administrative roles when the gateway authenticated the request. */
      roles: Type.Array(AdminRole, { uniqueItems: true, maxItems: 3 }),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    { kind: Type.Literal('service'), service: Type.Union(SERVICE_NAMES.map((s) => Type.Literal(s))) },
    { additionalProperties: false },
  ),
  Type.Object({ kind: Type.Literal('anonymous') }, { additionalProperties: false }),
]);
/** Who is asking: the platform operator, a signed-in user (with the roles they held), a service acting on its own, or nobody yet. */
export type Caller = Static<typeof Caller>;

/** Travels with every request and event; logs carry it too. */
export interface CallContext {
  readonly requestId: string;
  readonly tenantId: string | null;
  readonly caller: Caller;
}
