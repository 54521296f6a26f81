import { Type, type Static } from '@sinclair/typebox';
import { AdminRole } from './roles.js';
import { Uuid } from './schemas.js';

/** Who the admin API sees behind a session, and the CSRF token its unsafe calls must echo in `X-CSRF-Token`. */
export const MeView = Type.Object(
  {
    kind: Type.Literal('user'),
    tenantId: Uuid,
    userId: Uuid,
    roles: Type.Array(AdminRole),
    csrfToken: Type.String(),
  },
  { additionalProperties: false },
);
export type MeView = Static<typeof MeView>;
