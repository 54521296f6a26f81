import { Type, type Static } from '@sinclair/typebox';
import { Empty, Timestamp, Uuid } from '../common/schemas.js';
import { event, rpc } from '../common/subject.js';
import { ClientInfo, Password } from './login.js';

export const MailLang = Type.Union([Type.Literal('ja'), Type.Literal('en')]);
export type MailLang = Static<typeof MailLang>;

/** The mails authn sends; each has a Japanese and an English template a tenant can edit. */
export const MAIL_KINDS = ['account_issued', 'temporary_password', 'password_changed', 'password_expiring', 'account_locked', 'reset_requested', 'api_token_expiring'] as const;
export type MailKind = (typeof MAIL_KINDS)[number];
export const MailKindSchema = Type.Union(MAIL_KINDS.map((k) => Type.Literal(k)));

/** A reset token as it travels in the link: 256 random bits, base64url. */
const ResetToken = Type.String({ minLength: 22, maxLength: 128, pattern: '^[A-Za-z0-9_-]+$' });

export const PasswordResetRequest = Type.Object(
  { tenantId: Uuid, loginId: Type.String({ minLength: 1, maxLength: 254 }), client: ClientInfo, lang: MailLang },
  { additionalProperties: false },
);
export const PasswordResetCheckRequest = Type.Object({ tenantId: Uuid, token: ResetToken }, { additionalProperties: false });
export const PasswordResetCheckReply = Type.Object({ valid: Type.Boolean(), expiresAt: Type.Union([Timestamp, Type.Null()]) }, { additionalProperties: false });
export const PasswordResetCompleteRequest = Type.Object(
  { tenantId: Uuid, token: ResetToken, newPassword: Password, endSessions: Type.Boolean(), client: ClientInfo },
  { additionalProperties: false },
);

export const PasswordResetRequestedEvent = Type.Object(
  {
    userId: Uuid,
    /** False when the per-user limit held the mail back. */
    mailed: Type.Boolean(),
    ip: Type.String(),
    userAgent: Type.String(),
    deviceFingerprint: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export const PasswordResetCompletedEvent = Type.Object(
  { userId: Uuid, sessionsEnded: Type.Integer({ minimum: 0 }), ip: Type.String(), userAgent: Type.String(), deviceFingerprint: Type.Optional(Type.String()) },
  { additionalProperties: false },
);

export const MailTemplateView = Type.Object(
  {
    kind: MailKindSchema,
    lang: MailLang,
    subject: Type.String(),
    body: Type.String(),
    /** False while the built-in text is used. */
    customized: Type.Boolean(),
    /** The placeholders the body and subject may use, `{{name}}`. */
    placeholders: Type.Array(Type.String()),
  },
  { additionalProperties: false },
);
export type MailTemplateView = Static<typeof MailTemplateView>;

export const MailTemplateBody = Type.Object(
  {
    subject: Type.String({ minLength: 1, maxLength: 200, pattern: '^[^\\r\\n]*$' }),
    body: Type.String({ minLength: 1, maxLength: 20_000 }),
  },
  { additionalProperties: false },
);
export type MailTemplateBody = Static<typeof MailTemplateBody>;

export const MailTemplateListRequest = Type.Object({ tenantId: Uuid }, { additionalProperties: false });
export const MailTemplateList = Type.Object({ items: Type.Array(MailTemplateView) }, { additionalProperties: false });
export const MailTemplatePutRequest = Type.Object({ tenantId: Uuid, kind: MailKindSchema, lang: MailLang, ...MailTemplateBody.properties }, { additionalProperties: false });
export const MailTemplateResetRequest = Type.Object({ tenantId: Uuid, kind: MailKindSchema, lang: MailLang }, { additionalProperties: false });
export const MailTemplateChangedEvent = Type.Object({ kind: MailKindSchema, lang: MailLang, customized: Type.Boolean() }, { additionalProperties: false });

export const authnResetSubjects = {
  'musubi.authn.password-reset.request.v1': rpc('authn', PasswordResetRequest, Empty, 'Ask for a reset link by mail (the same answer whether or not the account exists).'),
  'musubi.authn.password-reset.check.v1': rpc('authn', PasswordResetCheckRequest, PasswordResetCheckReply, 'Whether a reset link is still usable.'),
  'musubi.authn.password-reset.complete.v1': rpc('authn', PasswordResetCompleteRequest, Empty, 'Set a new password with a reset link (single use).'),
  'musubi.authn.password-reset.requested.v1': event('authn', PasswordResetRequestedEvent, 'A password reset was asked for an existing user.'),
  'musubi.authn.password-reset.completed.v1': event('authn', PasswordResetCompletedEvent, 'A password was reset through a mailed link.'),
  'musubi.authn.mail-template.list.v1': rpc('authn', MailTemplateListRequest, MailTemplateList, "A tenant's mail templates, built-in or edited (tenant:read)."),
  'musubi.authn.mail-template.put.v1': rpc('authn', MailTemplatePutRequest, MailTemplateView, 'Replace one mail template of a tenant (tenant:write).'),
  'musubi.authn.mail-template.reset.v1': rpc('authn', MailTemplateResetRequest, MailTemplateView, 'Go back to the built-in text of one mail template (tenant:write).'),
  'musubi.authn.mail-template.changed.v1': event('authn', MailTemplateChangedEvent, 'A mail template of a tenant was edited or reset.'),
} as const;
