import type { MailKind, MailLang } from '@musubi/contracts';

export interface Template {
  readonly subject: string;
  readonly body: string;
}

/** The placeholders each kind of mail may use, as `{{name}}`. */
export const PLACEHOLDERS: Readonly<Record<MailKind, readonly string[]>> = {
  account_issued: ['tenantName', 'displayName', 'loginId', 'loginUrl'],
  temporary_password: ['tenantName', 'displayName', 'loginId', 'loginUrl', 'expiresAt'],
  password_changed: ['tenantName', 'displayName', 'loginId', 'changedAt', 'resetUrl'],
  password_expiring: ['tenantName', 'displayName', 'loginId', 'expiresAt', 'loginUrl'],
  account_locked: ['tenantName', 'displayName', 'loginId', 'lockedUntil', 'resetUrl'],
  reset_requested: ['tenantName', 'displayName', 'loginId', 'resetLink', 'expiresMinutes'],
  api_token_expiring: ['tenantName', 'displayName', 'loginId', 'tokenName', 'expiresAt'],
};

/** The built-in texts, until a tenant edits its own. */
export const DEFAULT_TEMPLATES: Readonly<Record<MailKind, Readonly<Record<MailLang, Template>>>> = {
  account_issued: {
    ja: { subject: '【{{tenantName}}】アカウントが発行されました', body: '{{displayName}} 様\n\n{{tenantName}} のアカウントが発行されました。\nログインID: {{loginId}}\n\nサインイン: {{loginUrl}}\n' },
    en: { subject: '[{{tenantName}}] Your account is ready', body: 'Dear {{displayName}},\n\nAn account at {{tenantName}} has been issued to you.\nLogin ID: {{loginId}}\n\nSign in: {{loginUrl}}\n' },
  },
  temporary_password: {
    ja: { subject: '【{{tenantName}}】一時パスワードが発行されました', body: '{{displayName}} 様\n\n管理者が一時パスワードを発行しました。{{expiresAt}} までに下記からサインインし、新しいパスワードを設定してください。\n\n{{loginUrl}}\n' },
    en: { subject: '[{{tenantName}}] A one-time password was issued', body: 'Dear {{displayName}},\n\nAn administrator issued you a one-time password. Sign in before {{expiresAt}} and choose a new password:\n\n{{loginUrl}}\n' },
  },
  password_changed: {
    ja: { subject: '【{{tenantName}}】パスワードが変更されました', body: '{{displayName}} 様\n\n{{changedAt}} にパスワードが変更されました。\n心当たりがない場合は、すぐに次のページからパスワードを再設定し、管理者に連絡してください。\n\n{{resetUrl}}\n' },
    en: { subject: '[{{tenantName}}] Your password was changed', body: 'Dear {{displayName}},\n\nYour password was changed at {{changedAt}}.\nIf this was not you, reset your password at once and tell your administrator:\n\n{{resetUrl}}\n' },
  },
  password_expiring: {
    ja: { subject: '【{{tenantName}}】パスワードの有効期限が近づいています', body: '{{displayName}} 様\n\nパスワードの有効期限は {{expiresAt}} です。サインインして変更してください。\n\n{{loginUrl}}\n' },
    en: { subject: '[{{tenantName}}] Your password expires soon', body: 'Dear {{displayName}},\n\nYour password expires at {{expiresAt}}. Sign in and change it:\n\n{{loginUrl}}\n' },
  },
  account_locked: {
    ja: { subject: '【{{tenantName}}】アカウントがロックされました', body: '{{displayName}} 様\n\nサインインの失敗が続いたため、アカウント（{{loginId}}）を {{lockedUntil}} までロックしました。\n心当たりがない場合は、次のページからパスワードを再設定してください。\n\n{{resetUrl}}\n' },
    en: { subject: '[{{tenantName}}] Your account is locked', body: 'Dear {{displayName}},\n\nAfter repeated failed sign-ins, your account ({{loginId}}) is locked until {{lockedUntil}}.\nIf this was not you, reset your password:\n\n{{resetUrl}}\n' },
  },
  reset_requested: {
    ja: { subject: '【{{tenantName}}】パスワード再設定のご案内', body: '{{displayName}} 様\n\nパスワードの再設定を受け付けました。次のリンクから {{expiresMinutes}} 分以内に新しいパスワードを設定してください（一度だけ使えます）。\n\n{{resetLink}}\n\n心当たりがない場合は、このメールを無視してください。パスワードは変わりません。\n' },
    en: { subject: '[{{tenantName}}] Reset your password', body: 'Dear {{displayName}},\n\nWe received a request to reset your password. Use this link within {{expiresMinutes}} minutes (it works once):\n\n{{resetLink}}\n\nIf you did not ask for this, ignore this mail: your password stays as it is.\n' },
  },
  api_token_expiring: {
    ja: { subject: '【{{tenantName}}】APIトークンの有効期限が近づいています', body: '{{displayName}} 様\n\nAPIトークン「{{tokenName}}」の有効期限は {{expiresAt}} です。連携が止まらないよう、新しいトークンを発行して差し替えてください。\n' },
    en: { subject: '[{{tenantName}}] An API token expires soon', body: 'Dear {{displayName}},\n\nYour API token "{{tokenName}}" expires at {{expiresAt}}. Make a new one and replace it so the integration keeps working.\n' },
  },
};

/** Fills `{{name}}` placeholders; unknown ones stay as written. Values never add a line break to a subject. */
export function render(t: Template, values: Readonly<Record<string, string>>): Template {
  const fill = (s: string, oneLine: boolean) =>
    s.replace(/\{\{\s*([a-zA-Z]+)\s*\}\}/g, (m, name: string) => {
      const v = values[name];
      if (v === undefined) return m;
      return oneLine ? v.replace(/[\r\n]+/g, ' ') : v;
    });
  return { subject: fill(t.subject, true), body: fill(t.body, false) };
}
