import type { FastifyReply } from 'fastify';
import { esc, page, PAGE_CSP } from '../pages/html.js';
import type { Lang } from '../pages/i18n.js';

const TEXT = {
  ja: {
    errorTitle: 'このアプリケーションにサインインできません',
    errorLead: 'アプリケーションからのリクエストに問題があります。アプリケーションの管理者にお問い合わせください。',
    consentTitle: 'アクセスの許可',
    consentLead: '{app} が次の情報へのアクセスを求めています。',
    allow: '許可する',
    deny: '拒否する',
    logoutTitle: 'サインアウト',
    logoutLead: 'サインアウトしますか？',
    logoutApp: '{app} からのサインアウト要求です。',
    logoutButton: 'サインアウトする',
    loggedOut: 'サインアウトしました。',
    scopes: { openid: 'あなたのID', profile: '氏名などのプロフィール', email: 'メールアドレス', phone: '電話番号', groups: '所属グループ', offline_access: 'サインインしていない間のアクセス' } as Record<string, string>,
  },
  en: {
    errorTitle: 'Cannot sign in to this application',
    errorLead: "The application's request is not valid. Please contact the application's administrator.",
    consentTitle: 'Allow access',
    consentLead: '{app} asks for access to:',
    allow: 'Allow',
    deny: 'Deny',
    logoutTitle: 'Sign out',
    logoutLead: 'Do you want to sign out?',
    logoutApp: '{app} asks you to sign out.',
    logoutButton: 'Sign out',
    loggedOut: 'You have signed out.',
    scopes: { openid: 'Your identity', profile: 'Your profile (name)', email: 'Your email address', phone: 'Your phone number', groups: 'Your groups', offline_access: 'Access while you are signed out' } as Record<string, string>,
  },
} as const;

export const textsFor = (lang: Lang) => TEXT[lang];

/** A provider page: the hosted pages' look, no caching, no framing; `formTo` widens form-action for a form whose answer redirects to a client. */
export function sendPage(reply: FastifyReply, o: { lang: Lang; tenantName: string; status: number; title: string; body: string; formTo?: string | null }): void {
  let csp = PAGE_CSP;
  // Only a URI's own origin or scheme (from federation), never anything that could end the directive.
  if (o.formTo && /^[A-Za-z][A-Za-z0-9+.-]*:(\/\/[A-Za-z0-9.:[\]-]+)?$/.test(o.formTo)) csp = csp.replace("form-action 'self'", `form-action 'self' ${o.formTo}`);
  reply
    .code(o.status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('content-security-policy', csp)
    .header('cache-control', 'no-store')
    .send(page({ lang: o.lang, title: o.title, tenantName: o.tenantName, body: o.body }));
}

export function errorPageBody(lang: Lang, error: string, description: string): string {
  const t = textsFor(lang);
  return `<p class="error" role="alert">${esc(t.errorLead)}</p>
<dl><dt>error</dt><dd id="oauth-error">${esc(error)}</dd><dt>error_description</dt><dd id="oauth-error-description">${esc(description)}</dd></dl>`;
}

export function consentBody(lang: Lang, action: string, csrf: string, rid: string, clientName: string, scopes: readonly string[]): string {
  const t = textsFor(lang);
  const items = scopes.map((s) => `<li data-scope="${esc(s)}">${esc(t.scopes[s] ?? s)}</li>`).join('');
  return `<p>${esc(t.consentLead.replace('{app}', clientName))}</p>
<ul class="scopes">${items}</ul>
<form method="post" action="${esc(action)}">
<input type="hidden" name="csrf" value="${esc(csrf)}">
<input type="hidden" name="rid" value="${esc(rid)}">
<button type="submit" name="decision" value="granted" id="allow">${esc(t.allow)}</button>
<button type="submit" name="decision" value="denied" id="deny" class="secondary">${esc(t.deny)}</button>
</form>`;
}

export function logoutConfirmBody(lang: Lang, action: string, csrf: string, params: Record<string, string>, clientName: string | null): string {
  const t = textsFor(lang);
  const hidden = Object.entries(params)
    .map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v)}">`)
    .join('\n');
  return `${clientName ? `<p>${esc(t.logoutApp.replace('{app}', clientName))}</p>` : ''}<p>${esc(t.logoutLead)}</p>
<form method="post" action="${esc(action)}">
<input type="hidden" name="csrf" value="${esc(csrf)}">
${hidden}
<button type="submit" id="logout">${esc(t.logoutButton)}</button>
</form>`;
}

/**
 * Sends the browser on to a client by a page of our own (meta refresh, and a
 * link), for answers reached through a form submission's redirects: browsers
 * apply the submitting page's CSP form-action to every redirect of the
 * submission, and the hosted login's pages allow only their own origin.
 */
export function sendOnward(reply: FastifyReply, location: string): void {
  const href = esc(location);
  reply
    .code(200)
    .header('content-type', 'text/html; charset=utf-8')
    .header('content-security-policy', "default-src 'none'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
    .header('cache-control', 'no-store')
    .header('referrer-policy', 'no-referrer')
    .send(`<!doctype html>
<html><head><meta charset="utf-8"><meta name="referrer" content="no-referrer"><meta http-equiv="refresh" content="0;url=${href}"><title>…</title><link rel="stylesheet" href="/assets/musubi.css"></head>
<body><main class="card"><p><a id="continue" href="${href}">Continue / 続行</a></p></main></body></html>`);
}
