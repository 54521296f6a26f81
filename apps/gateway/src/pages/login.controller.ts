import { Body, Controller, Get, Param, Post, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CallContext, ReplyOf, TenantView } from '@musubi/contracts';
import { BusClient } from '@musubi/platform/bus';
import { DomainError } from '@musubi/platform/errors';
import { callContextOf } from '../http/request-context.js';
import { accountSections } from './account-sections.js';
import { errorBox, esc, page, pageCsp, STYLESHEET } from './html.js';
import { messagesFor, pickLang, type Lang, type Messages } from './i18n.js';
import { TenantResolver } from './tenant-resolver.js';
import {
  clearLoginCookie,
  clearSessionCookie,
  clientInfo,
  csrfToken,
  csrfValid,
  LOGIN_COOKIE,
  readCookie,
  SESSION_COOKIE,
  setLoginCookie,
  setSessionCookie,
  WebSessions,
  type HostedSession,
} from './web-session.js';

type Form = Record<string, unknown>;
type Branding = ReplyOf<'musubi.authn.policy.branding.v1'>;
const field = (form: Form | undefined, name: string): string => {
  const v = form?.[name];
  return typeof v === 'string' ? v : '';
};
const HSTS = 'max-age=63072000; includeSubDomains';
/** Branding and landing page change rarely; every page needs them, so they are kept five seconds. */
const BRANDING_TTL_MS = 5_000;
const RESET_TOKEN = /^[A-Za-z0-9_-]{22,128}$/;
/** A local path to return to after sign-in (never another origin). */
const safeReturnTo = (v: unknown, slug: string): string | undefined =>
  typeof v === 'string' && v.length <= 2048 && v.startsWith(`/t/${slug}/`) && !/[\\\s]/.test(v) ? v : undefined;

interface PageCtx {
  readonly tenant: TenantView;
  readonly lang: Lang;
  readonly m: Messages;
  readonly branding: Branding;
  readonly ctx: CallContext;
}

/**
 * The hosted pages of a tenant: identifier-first sign-in, the password step,
 * forced and voluntary password change, the account page with the user's
 * sessions, sign-out and its landing page, and password reset by mail.
 * Every page: the tenant's language (ja/en by Accept-Language), logo and
 * colour; strict CSP, HSTS, no framing, no caching; CSRF-checked forms.
 */
@Controller()
export class LoginPagesController {
  private readonly branding = new Map<string, { value: Branding; until: number }>();

  constructor(
    private readonly bus: BusClient,
    private readonly tenants: TenantResolver,
    private readonly sessions: WebSessions,
  ) {}

  private async pageCtx(slug: string, req: FastifyRequest): Promise<PageCtx> {
    const tenant = await this.tenants.bySlug(slug);
    const lang = pickLang(req.headers['accept-language'], tenant.defaultLocale === 'en-US' ? 'en' : 'ja');
    const ctx = callContextOf(req, tenant.id);
    let hit = this.branding.get(tenant.id);
    if (!hit || hit.until <= Date.now()) {
      const value = await this.bus.request('musubi.authn.policy.branding.v1', { tenantId: tenant.id }, { ...ctx, caller: { kind: 'service', service: 'gateway' } });
      if (this.branding.size > 10_000) this.branding.clear();
      hit = { value, until: Date.now() + BRANDING_TTL_MS };
      this.branding.set(tenant.id, hit);
    }
    return { tenant, lang, m: messagesFor(lang), branding: hit.value, ctx };
  }

  private send(reply: FastifyReply, p: PageCtx, status: number, title: string, body: string): void {
    const html = page({
      lang: p.lang,
      title,
      tenantName: p.tenant.displayName,
      body,
      themeHref: p.branding.primaryColor ? `/t/${p.tenant.slug}/theme.css` : undefined,
      logoUrl: p.branding.logoUrl,
    });
    reply
      .code(status)
      .header('content-type', 'text/html; charset=utf-8')
      .header('content-security-policy', pageCsp(p.branding.logoUrl, p.branding.logoutUrl))
      .header('strict-transport-security', HSTS)
      .header('cache-control', 'no-store')
      .send(html);
  }

  private identifierForm(p: PageCtx, csrf: string, loginId: string, error?: string, returnTo?: string): string {
    const slug = esc(p.tenant.slug);
    return `${errorBox(error)}
<form method="post" action="/t/${slug}/login" novalidate>
<input type="hidden" name="csrf" value="${esc(csrf)}">${returnTo ? `\n<input type="hidden" name="returnTo" value="${esc(returnTo)}">` : ''}
<label for="loginId">${esc(p.m.loginId)}</label>
<input id="loginId" name="loginId" type="email" autocomplete="username" required value="${esc(loginId)}" autofocus>
<button type="submit">${esc(p.m.next)}</button>
</form>
<p class="links"><a href="/t/${slug}/password-reset">${esc(p.m.forgot)}</a></p>`;
  }

  private passwordStepForm(p: PageCtx, csrf: string, loginId: string, error?: string): string {
    const slug = esc(p.tenant.slug);
    return `${errorBox(error)}
<form method="post" action="/t/${slug}/login/password" novalidate>
<input type="hidden" name="csrf" value="${esc(csrf)}">
<p>${esc(p.m.signingInAs)}: <strong id="signing-in-as">${esc(loginId)}</strong></p>
<input type="email" name="loginId" autocomplete="username" value="${esc(loginId)}" hidden readonly>
<label for="password">${esc(p.m.password)}</label>
<input id="password" name="password" type="password" autocomplete="current-password" required autofocus>
<button type="submit">${esc(p.m.submit)}</button>
</form>
<p class="links"><a href="/t/${slug}/login">${esc(p.m.otherAccount)}</a> · <a href="/t/${slug}/password-reset">${esc(p.m.forgot)}</a></p>`;
  }

  private newPasswordFields(p: PageCtx): string {
    return `<label for="newPassword">${esc(p.m.newPassword)}</label>
<input id="newPassword" name="newPassword" type="password" autocomplete="new-password" required aria-describedby="newPasswordHint">
<p class="hint" id="newPasswordHint">${esc(p.m.passwordHint.replace('{n}', String(p.branding.passwordMinLength)))}</p>
<label for="confirmPassword">${esc(p.m.confirmPassword)}</label>
<input id="confirmPassword" name="confirmPassword" type="password" autocomplete="new-password" required>`;
  }

  private passwordForm(p: PageCtx, csrf: string, s: HostedSession, reason: string | null, errors: string[]): string {
    const notice = reason === 'expired' ? p.m.expiredPassword : s.mustChangePassword ? p.m.mustChange : null;
    return `${notice ? `<p class="notice">${esc(notice)}</p>` : ''}${errors.map((e) => errorBox(e)).join('')}
<form method="post" action="/t/${esc(p.tenant.slug)}/password" novalidate>
<input type="hidden" name="csrf" value="${esc(csrf)}">
<input type="text" name="username" autocomplete="username" hidden>
<label for="currentPassword">${esc(p.m.currentPassword)}</label>
<input id="currentPassword" name="currentPassword" type="password" autocomplete="current-password" required>
${this.newPasswordFields(p)}
<button type="submit">${esc(p.m.save)}</button>
</form>`;
  }

  private failure(err: unknown): 'failed' | 'expired' | 'throttled' | 'unavailable' | null {
    if (!(err instanceof DomainError)) return null;
    switch (err.code) {
      case 'unauthenticated':
      case 'validation_failed':
        return 'failed';
      case 'not_found':
        return 'expired';
      case 'rate_limited':
        return 'throttled';
      case 'service_unavailable':
        return 'unavailable';
      default:
        return null;
    }
  }

  /** After a successful password: a new session id (no fixation), a new CSRF token, and on to where the user goes. */
  private signedIn(reply: FastifyReply, req: FastifyRequest, slug: string, result: ReplyOf<'musubi.authn.login.password.v1'>, returnTo?: string): void {
    setSessionCookie(reply, result.sessionId);
    clearLoginCookie(reply);
    csrfToken(req, reply, true);
    const next = result.session.mustChangePassword ? `/t/${slug}/password` : (safeReturnTo(result.returnTo ?? returnTo, slug) ?? `/t/${slug}/account`);
    reply.redirect(next, 303);
  }

  @Get('assets/musubi.css')
  stylesheet(@Res() reply: FastifyReply): void {
    reply.header('content-type', 'text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(STYLESHEET);
  }

  @Get('t/:slug/theme.css')
  async theme(@Param('slug') slug: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const p = await this.pageCtx(slug, req);
    const color = /^#[0-9a-fA-F]{6}$/.test(p.branding.primaryColor ?? '') ? p.branding.primaryColor : '#2f5d8a';
    reply.header('content-type', 'text/css; charset=utf-8').header('cache-control', 'public, max-age=60').send(`:root { --accent: ${color}; }\n`);
  }

  @Get('t/:slug/login')
  async loginPage(@Param('slug') slug: string, @Query('return_to') returnTo: unknown, @Query('login_hint') loginHint: unknown, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const p = await this.pageCtx(slug, req);
    // login_hint: an OIDC client's suggestion of the login ID (apps/gateway/src/oidc passes it on); only pre-fills the field.
    const hint = typeof loginHint === 'string' ? loginHint.trim().slice(0, 254) : '';
    this.send(reply, p, 200, p.m.signIn, this.identifierForm(p, csrfToken(req, reply), hint, undefined, safeReturnTo(returnTo, slug)));
  }

  /**
   * The identifier step (a login transaction is started whether or not the
   * account exists). A form that also carries the password signs in at once
   * (clients without the two-step pages, and the benchmark).
   */
  @Post('t/:slug/login')
  async login(@Param('slug') slug: string, @Body() form: Form | undefined, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const p = await this.pageCtx(slug, req);
    const loginId = field(form, 'loginId').trim().slice(0, 254);
    const returnTo = safeReturnTo(form?.['returnTo'], slug);
    const render = (status: number, error: string) => this.send(reply, p, status, p.m.signIn, this.identifierForm(p, csrfToken(req, reply), loginId, error, returnTo));
    if (!csrfValid(req, form?.['csrf'])) return render(403, p.m.csrf);
    if (!loginId) return render(400, p.m.failed);
    const password = field(form, 'password');
    try {
      if (password) {
        if (password.length > 1024) return render(401, p.m.failed);
        const result = await this.bus.request('musubi.authn.login.password.v1', { tenantId: p.tenant.id, loginId, password, client: clientInfo(req) }, p.ctx);
        return this.signedIn(reply, req, slug, result, returnTo);
      }
      const started = await this.bus.request('musubi.authn.login.start.v1', { tenantId: p.tenant.id, loginId, client: clientInfo(req), ...(returnTo ? { returnTo } : {}) }, p.ctx);
      setLoginCookie(reply, started.transactionId);
      reply.redirect(`/t/${slug}/login/password`, 303);
    } catch (err) {
      const f = this.failure(err);
      if (f === 'failed') return render(401, p.m.failed);
      if (f === 'throttled') return render(429, p.m.throttled);
      if (f === 'unavailable') return render(503, p.m.unavailable);
      throw err;
    }
  }

  private async transaction(req: FastifyRequest, p: PageCtx): Promise<{ id: string; loginId: string } | null> {
    const id = readCookie(req, LOGIN_COOKIE);
    if (!id) return null;
    try {
      const t = await this.bus.request('musubi.authn.login.get.v1', { tenantId: p.tenant.id, transactionId: id }, p.ctx);
      return { id, loginId: t.loginId };
    } catch (err) {
      if (err instanceof DomainError && err.code === 'not_found') return null;
      throw err;
    }
  }

  @Get('t/:slug/login/password')
  async passwordStep(@Param('slug') slug: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const p = await this.pageCtx(slug, req);
    const t = await this.transaction(req, p);
    if (!t) return void reply.redirect(`/t/${slug}/login`, 303);
    this.send(reply, p, 200, p.m.signIn, this.passwordStepForm(p, csrfToken(req, reply), t.loginId));
  }

  @Post('t/:slug/login/password')
  async passwordLogin(@Param('slug') slug: string, @Body() form: Form | undefined, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const p = await this.pageCtx(slug, req);
    const t = await this.transaction(req, p);
    if (!t) return void reply.redirect(`/t/${slug}/login`, 303);
    const render = (status: number, error: string) => this.send(reply, p, status, p.m.signIn, this.passwordStepForm(p, csrfToken(req, reply), t.loginId, error));
    if (!csrfValid(req, form?.['csrf'])) return render(403, p.m.csrf);
    const password = field(form, 'password');
    if (!password || password.length > 1024) return render(401, p.m.failed);
    try {
      const result = await this.bus.request('musubi.authn.login.password.v1', { tenantId: p.tenant.id, loginId: t.loginId, password, client: clientInfo(req), transactionId: t.id }, p.ctx);
      this.signedIn(reply, req, slug, result);
    } catch (err) {
      const f = this.failure(err);
      if (f === 'failed') return render(401, p.m.failed);
      if (f === 'expired') {
        clearLoginCookie(reply);
        return this.send(reply, p, 401, p.m.signIn, this.identifierForm(p, csrfToken(req, reply), '', p.m.expired));
      }
      if (f === 'throttled') return render(429, p.m.throttled);
      if (f === 'unavailable') return render(503, p.m.unavailable);
      throw err;
    }
  }

  @Get('t/:slug/account')
  async account(@Param('slug') slug: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const p = await this.pageCtx(slug, req);
    const s = await this.sessions.current(req, p.tenant.id, p.ctx);
    if (!s) return void reply.redirect(`/t/${slug}/login`, 303);
    if (s.mustChangePassword) return void reply.redirect(`/t/${slug}/password`, 303);
    // The signed-in user's own record, read on the gateway's authority.
    const internal: CallContext = { ...p.ctx, caller: { kind: 'service', service: 'gateway' } };
    const [user, list] = await Promise.all([
      this.bus.request('musubi.directory.user.get.v1', { tenantId: p.tenant.id, userId: s.userId }, internal),
      this.bus.request('musubi.authn.session.list.v1', { sessionId: s.sessionId }, internal),
    ]);
    const csrf = csrfToken(req, reply);
    const more = await accountSections(this.bus, { tenantId: p.tenant.id, userId: s.userId, slug, lang: p.lang, timeZone: p.tenant.timeZone, csrf, ctx: p.ctx });
    const fmt = (iso: string) => new Date(iso).toLocaleString(p.lang === 'ja' ? 'ja-JP' : 'en-US', { timeZone: p.tenant.timeZone });
    const sessions = list.items
      .map(
        (x) => `<li data-handle="${esc(x.handle)}"${x.current ? ' class="current"' : ''}>
<div>${x.current ? `<strong>${esc(p.m.thisDevice)}</strong> · ` : ''}${esc(x.userAgent.slice(0, 120))}</div>
<div class="hint">${esc(p.m.startedAt)} ${esc(fmt(x.createdAt))} · ${esc(p.m.lastSeen)} ${esc(fmt(x.lastSeenAt))} · ${esc(p.m.from)} ${esc(x.ip)}</div>
${x.current ? '' : `<form method="post" action="/t/${esc(slug)}/account/sessions/revoke"><input type="hidden" name="csrf" value="${esc(csrf)}"><input type="hidden" name="handle" value="${esc(x.handle)}"><button type="submit">${esc(p.m.revoke)}</button></form>`}
</li>`,
      )
      .join('\n');
    const warning = s.passwordExpiresSoon ? `<p class="notice" id="password-expiry">${esc(p.m.expiresSoon.replace('{date}', fmt(s.passwordExpiresSoon)))}</p>` : '';
    const body = `${warning}<dl><dt>${esc(p.m.signedInAs)}</dt><dd id="display-name">${esc(user.displayName)}</dd><dt>${esc(p.m.loginId)}</dt><dd id="login-id">${esc(user.loginId)}</dd></dl>
<p><a href="/t/${esc(slug)}/password">${esc(p.m.changePassword)}</a></p>
<h2>${esc(p.m.sessions)}</h2>
<ul class="sessions">
${sessions}
</ul>
${more}
<form method="post" action="/t/${esc(slug)}/logout"><input type="hidden" name="csrf" value="${esc(csrf)}"><button type="submit">${esc(p.m.signOut)}</button></form>`;
    this.send(reply, p, 200, p.m.account, body);
  }

  @Post('t/:slug/account/sessions/revoke')
  async revokeSession(@Param('slug') slug: string, @Body() form: Form | undefined, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const p = await this.pageCtx(slug, req);
    const s = await this.sessions.current(req, p.tenant.id, p.ctx);
    if (!s) return void reply.redirect(`/t/${slug}/login`, 303);
    if (!csrfValid(req, form?.['csrf'])) return this.send(reply, p, 403, p.m.account, errorBox(p.m.csrf));
    const handle = field(form, 'handle');
    if (/^[A-Za-z0-9_-]{16,64}$/.test(handle)) {
      try {
        await this.bus.request('musubi.authn.session.revoke.v1', { sessionId: s.sessionId, handle }, p.ctx);
      } catch (err) {
        if (!(err instanceof DomainError && err.code === 'not_found')) throw err;
      }
    }
    reply.redirect(`/t/${slug}/account`, 303);
  }

  @Get('t/:slug/password')
  async passwordPage(@Param('slug') slug: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const p = await this.pageCtx(slug, req);
    const s = await this.sessions.current(req, p.tenant.id, p.ctx);
    if (!s) return void reply.redirect(`/t/${slug}/login`, 303);
    const reason = await this.changeReason(s, p);
    this.send(reply, p, 200, p.m.changePassword, this.passwordForm(p, csrfToken(req, reply), s, reason, []));
  }

  private async changeReason(s: HostedSession, p: PageCtx): Promise<string | null> {
    if (!s.mustChangePassword) return null;
    const v = await this.bus.request('musubi.authn.session.get.v1', { sessionId: s.sessionId }, p.ctx);
    return v.passwordChangeReason;
  }

  @Post('t/:slug/password')
  async changePassword(@Param('slug') slug: string, @Body() form: Form | undefined, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const p = await this.pageCtx(slug, req);
    const s = await this.sessions.current(req, p.tenant.id, p.ctx);
    if (!s) return void reply.redirect(`/t/${slug}/login`, 303);
    const reason = await this.changeReason(s, p);
    const render = (status: number, errors: string[]) => this.send(reply, p, status, p.m.changePassword, this.passwordForm(p, csrfToken(req, reply), s, reason, errors));
    if (!csrfValid(req, form?.['csrf'])) return render(403, [p.m.csrf]);
    const currentPassword = field(form, 'currentPassword');
    const newPassword = field(form, 'newPassword');
    if (newPassword !== field(form, 'confirmPassword')) return render(400, [p.m.mismatch]);
    try {
      const result = await this.bus.request(
        'musubi.authn.password.change.v1',
        { sessionId: s.sessionId, currentPassword: currentPassword || ' ', newPassword: newPassword || ' ', client: clientInfo(req) },
        p.ctx,
      );
      setSessionCookie(reply, result.sessionId);
      reply.redirect(`/t/${slug}/account`, 303);
    } catch (err) {
      if (err instanceof DomainError && err.code === 'validation_failed') {
        const details = err.details.length > 0 ? err.details.map((d) => `${d.pointer === '/currentPassword' ? p.m.currentPassword : p.m.newPassword}: ${d.detail}`) : [err.message];
        return render(400, details);
      }
      if (err instanceof DomainError && err.code === 'unauthenticated') return void reply.redirect(`/t/${slug}/login`, 303);
      throw err;
    }
  }

  /** Ends the session and lands where the tenant said (its own https page), or on the tenant's signed-out page. */
  @Post('t/:slug/logout')
  async logout(@Param('slug') slug: string, @Body() form: Form | undefined, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const p = await this.pageCtx(slug, req);
    if (!csrfValid(req, form?.['csrf'])) return void reply.redirect(`/t/${slug}/account`, 303);
    const id = readCookie(req, SESSION_COOKIE);
    if (id) await this.bus.request('musubi.authn.session.end.v1', { sessionId: id }, p.ctx);
    clearSessionCookie(reply);
    csrfToken(req, reply, true);
    reply.redirect(p.branding.logoutUrl ?? `/t/${slug}/logged-out`, 303);
  }

  @Get('t/:slug/logged-out')
  async loggedOut(@Param('slug') slug: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const p = await this.pageCtx(slug, req);
    this.send(reply, p, 200, p.m.loggedOut, `<p>${esc(p.m.loggedOutText)}</p>\n<p class="links"><a href="/t/${esc(slug)}/login">${esc(p.m.signInAgain)}</a></p>`);
  }

  private resetRequestForm(p: PageCtx, csrf: string, message?: { kind: 'notice' | 'error'; text: string }): string {
    const slug = esc(p.tenant.slug);
    const box = message ? (message.kind === 'error' ? errorBox(message.text) : `<p class="notice" role="status">${esc(message.text)}</p>`) : '';
    return `${box}<p>${esc(p.m.resetIntro)}</p>
<form method="post" action="/t/${slug}/password-reset" novalidate>
<input type="hidden" name="csrf" value="${esc(csrf)}">
<label for="loginId">${esc(p.m.loginId)}</label>
<input id="loginId" name="loginId" type="email" autocomplete="username" required>
<button type="submit">${esc(p.m.send)}</button>
</form>
<p class="links"><a href="/t/${slug}/login">${esc(p.m.backToSignIn)}</a></p>`;
  }

  @Get('t/:slug/password-reset')
  async resetPage(@Param('slug') slug: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const p = await this.pageCtx(slug, req);
    this.send(reply, p, 200, p.m.resetTitle, this.resetRequestForm(p, csrfToken(req, reply)));
  }

  /** The same page whether or not the account exists. */
  @Post('t/:slug/password-reset')
  async resetRequest(@Param('slug') slug: string, @Body() form: Form | undefined, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const p = await this.pageCtx(slug, req);
    if (!csrfValid(req, form?.['csrf'])) return this.send(reply, p, 403, p.m.resetTitle, this.resetRequestForm(p, csrfToken(req, reply), { kind: 'error', text: p.m.csrf }));
    const loginId = field(form, 'loginId').trim().slice(0, 254);
    if (loginId) {
      try {
        await this.bus.request('musubi.authn.password-reset.request.v1', { tenantId: p.tenant.id, loginId, client: clientInfo(req), lang: p.lang }, p.ctx);
      } catch (err) {
        if (err instanceof DomainError && err.code === 'rate_limited') return this.send(reply, p, 429, p.m.resetTitle, this.resetRequestForm(p, csrfToken(req, reply), { kind: 'error', text: p.m.tooMany }));
        throw err;
      }
    }
    this.send(reply, p, 200, p.m.resetTitle, this.resetRequestForm(p, csrfToken(req, reply), { kind: 'notice', text: p.m.resetSent }));
  }

  private resetForm(p: PageCtx, csrf: string, token: string, errors: string[]): string {
    return `${errors.map((e) => errorBox(e)).join('')}
<form method="post" action="/t/${esc(p.tenant.slug)}/password-reset/${esc(token)}" novalidate>
<input type="hidden" name="csrf" value="${esc(csrf)}">
<input type="text" name="username" autocomplete="username" hidden>
${this.newPasswordFields(p)}
<label class="check"><input type="checkbox" name="endSessions" value="yes" checked> ${esc(p.m.endSessions)}</label>
<button type="submit">${esc(p.m.save)}</button>
</form>`;
  }

  private invalidLink(reply: FastifyReply, p: PageCtx): void {
    this.send(reply, p, 404, p.m.resetTitle, `${errorBox(p.m.resetInvalid)}\n<p class="links"><a href="/t/${esc(p.tenant.slug)}/password-reset">${esc(p.m.resetTitle)}</a></p>`);
  }

  @Get('t/:slug/password-reset/:token')
  async resetLink(@Param('slug') slug: string, @Param('token') token: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const p = await this.pageCtx(slug, req);
    if (!RESET_TOKEN.test(token)) return this.invalidLink(reply, p);
    const check = await this.bus.request('musubi.authn.password-reset.check.v1', { tenantId: p.tenant.id, token }, p.ctx);
    if (!check.valid) return this.invalidLink(reply, p);
    this.send(reply, p, 200, p.m.resetTitle, this.resetForm(p, csrfToken(req, reply), token, []));
  }

  @Post('t/:slug/password-reset/:token')
  async resetComplete(@Param('slug') slug: string, @Param('token') token: string, @Body() form: Form | undefined, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const p = await this.pageCtx(slug, req);
    if (!RESET_TOKEN.test(token)) return this.invalidLink(reply, p);
    const render = (status: number, errors: string[]) => this.send(reply, p, status, p.m.resetTitle, this.resetForm(p, csrfToken(req, reply), token, errors));
    if (!csrfValid(req, form?.['csrf'])) return render(403, [p.m.csrf]);
    const newPassword = field(form, 'newPassword');
    if (newPassword !== field(form, 'confirmPassword')) return render(400, [p.m.mismatch]);
    try {
      await this.bus.request(
        'musubi.authn.password-reset.complete.v1',
        { tenantId: p.tenant.id, token, newPassword: newPassword || ' ', endSessions: field(form, 'endSessions') === 'yes', client: clientInfo(req) },
        p.ctx,
      );
    } catch (err) {
      if (err instanceof DomainError && err.code === 'validation_failed') return render(400, err.details.map((d) => `${p.m.newPassword}: ${d.detail}`));
      if (err instanceof DomainError && err.code === 'not_found') return this.invalidLink(reply, p);
      throw err;
    }
    clearSessionCookie(reply);
    this.send(reply, p, 200, p.m.resetTitle, `<p class="notice" role="status">${esc(p.m.resetDone)}</p>\n<p class="links"><a href="/t/${esc(slug)}/login">${esc(p.m.signInAgain)}</a></p>`);
  }
}
