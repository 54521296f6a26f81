import { Body, Controller, Get, Param, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CallContext, TenantView } from '@musubi/contracts';
import { BusClient } from '@musubi/platform/bus';
import { DomainError } from '@musubi/platform/errors';
import { callContextOf } from '../http/request-context.js';
import { PAGE_CSP, errorBox, esc, page, STYLESHEET } from './html.js';
import { messagesFor, pickLang, type Lang, type Messages } from './i18n.js';
import { TenantResolver } from './tenant-resolver.js';
import { clearSessionCookie, csrfToken, csrfValid, readCookie, SESSION_COOKIE, setSessionCookie } from './web-session.js';

type Form = Record<string, unknown>;
const field = (form: Form | undefined, name: string): string => {
  const v = form?.[name];
  return typeof v === 'string' ? v : '';
};

/**
 * The hosted sign-in pages of a tenant: sign in, forced change of a one-time
 * password, the signed-in account page, sign out.
 */
@Controller()
export class LoginPagesController {
  constructor(
    private readonly bus: BusClient,
    private readonly tenants: TenantResolver,
  ) {}

  private lang(req: FastifyRequest, tenant: TenantView): Lang {
    return pickLang(req.headers['accept-language'], tenant.defaultLocale === 'en-US' ? 'en' : 'ja');
  }

  private send(reply: FastifyReply, status: number, html: string): void {
    reply.code(status).header('content-type', 'text/html; charset=utf-8').header('content-security-policy', PAGE_CSP).header('cache-control', 'no-store').send(html);
  }

  private ctx(req: FastifyRequest, tenant: TenantView): CallContext {
    return callContextOf(req, tenant.id);
  }

  private loginForm(m: Messages, slug: string, csrf: string, loginId: string, error?: string): string {
    return `${errorBox(error)}
<form method="post" action="/t/${esc(slug)}/login" novalidate>
<input type="hidden" name="csrf" value="${esc(csrf)}">
<label for="loginId">${esc(m.loginId)}</label>
<input id="loginId" name="loginId" type="email" autocomplete="username" required value="${esc(loginId)}" autofocus>
<label for="password">${esc(m.password)}</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">${esc(m.submit)}</button>
</form>`;
  }

  private passwordForm(m: Messages, slug: string, csrf: string, mustChange: boolean, errors: string[]): string {
    return `${mustChange ? `<p class="notice">${esc(m.mustChange)}</p>` : ''}${errors.map((e) => errorBox(e)).join('')}
<form method="post" action="/t/${esc(slug)}/password" novalidate>
<input type="hidden" name="csrf" value="${esc(csrf)}">
<input type="text" name="username" autocomplete="username" hidden>
<label for="currentPassword">${esc(m.currentPassword)}</label>
<input id="currentPassword" name="currentPassword" type="password" autocomplete="current-password" required>
<label for="newPassword">${esc(m.newPassword)}</label>
<input id="newPassword" name="newPassword" type="password" autocomplete="new-password" required aria-describedby="newPasswordHint">
<p class="hint" id="newPasswordHint">${esc(m.passwordHint)}</p>
<label for="confirmPassword">${esc(m.confirmPassword)}</label>
<input id="confirmPassword" name="confirmPassword" type="password" autocomplete="new-password" required>
<button type="submit">${esc(m.save)}</button>
</form>`;
  }

  @Get('assets/musubi.css')
  stylesheet(@Res() reply: FastifyReply): void {
    reply.header('content-type', 'text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(STYLESHEET);
  }

  @Get('t/:slug/login')
  async loginPage(@Param('slug') slug: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const tenant = await this.tenants.bySlug(slug);
    const lang = this.lang(req, tenant);
    const m = messagesFor(lang);
    this.send(reply, 200, page({ lang, title: m.signIn, tenantName: tenant.displayName, body: this.loginForm(m, slug, csrfToken(req, reply), '') }));
  }

  @Post('t/:slug/login')
  async login(@Param('slug') slug: string, @Body() form: Form | undefined, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const tenant = await this.tenants.bySlug(slug);
    const lang = this.lang(req, tenant);
    const m = messagesFor(lang);
    const loginId = field(form, 'loginId').trim().slice(0, 254);
    const render = (status: number, error: string) =>
      this.send(reply, status, page({ lang, title: m.signIn, tenantName: tenant.displayName, body: this.loginForm(m, slug, csrfToken(req, reply), loginId, error) }));
    if (!csrfValid(req, form?.['csrf'])) return render(403, m.csrf);
    const password = field(form, 'password');
    if (!loginId || !password || password.length > 1024) return render(401, m.failed);
    try {
      const result = await this.bus.request(
        'musubi.authn.login.password.v1',
        { tenantId: tenant.id, loginId, password, client: { ip: req.ip, userAgent: String(req.headers['user-agent'] ?? '').slice(0, 1024) } },
        this.ctx(req, tenant),
      );
      // A new session id at sign-in (no fixation) and a new CSRF token with it.
      setSessionCookie(reply, result.sessionId);
      csrfToken(req, reply, true);
      reply.redirect(`/t/${slug}/${result.session.mustChangePassword ? 'password' : 'account'}`, 303);
    } catch (err) {
      if (err instanceof DomainError && (err.code === 'unauthenticated' || err.code === 'validation_failed')) return render(401, m.failed);
      if (err instanceof DomainError && err.code === 'service_unavailable') return render(503, m.unavailable);
      throw err;
    }
  }

  /** The session behind the cookie, if it is live and belongs to this tenant. */
  private async session(req: FastifyRequest, tenant: TenantView) {
    const id = readCookie(req, SESSION_COOKIE);
    if (!id) return null;
    try {
      const s = await this.bus.request('musubi.authn.session.get.v1', { sessionId: id }, this.ctx(req, tenant));
      return s.tenantId === tenant.id ? { id, ...s } : null;
    } catch (err) {
      if (err instanceof DomainError && err.code === 'unauthenticated') return null;
      throw err;
    }
  }

  @Get('t/:slug/account')
  async account(@Param('slug') slug: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const tenant = await this.tenants.bySlug(slug);
    const s = await this.session(req, tenant);
    if (!s) return void reply.redirect(`/t/${slug}/login`, 303);
    if (s.mustChangePassword) return void reply.redirect(`/t/${slug}/password`, 303);
    const lang = this.lang(req, tenant);
    const m = messagesFor(lang);
    // The signed-in user's own record, read on the gateway's authority.
    const user = await this.bus.request('musubi.directory.user.get.v1', { tenantId: tenant.id, userId: s.userId }, { ...this.ctx(req, tenant), caller: { kind: 'service', service: 'gateway' } });
    const body = `<dl><dt>${esc(m.signedInAs)}</dt><dd id="display-name">${esc(user.displayName)}</dd><dt>${esc(m.loginId)}</dt><dd id="login-id">${esc(user.loginId)}</dd></dl>
<p><a href="/t/${esc(slug)}/password">${esc(m.changePassword)}</a></p>
<form method="post" action="/t/${esc(slug)}/logout"><input type="hidden" name="csrf" value="${esc(csrfToken(req, reply))}"><button type="submit">${esc(m.signOut)}</button></form>`;
    this.send(reply, 200, page({ lang, title: m.account, tenantName: tenant.displayName, body }));
  }

  @Get('t/:slug/password')
  async passwordPage(@Param('slug') slug: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const tenant = await this.tenants.bySlug(slug);
    const s = await this.session(req, tenant);
    if (!s) return void reply.redirect(`/t/${slug}/login`, 303);
    const lang = this.lang(req, tenant);
    const m = messagesFor(lang);
    this.send(reply, 200, page({ lang, title: m.changePassword, tenantName: tenant.displayName, body: this.passwordForm(m, slug, csrfToken(req, reply), s.mustChangePassword, []) }));
  }

  @Post('t/:slug/password')
  async changePassword(@Param('slug') slug: string, @Body() form: Form | undefined, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const tenant = await this.tenants.bySlug(slug);
    const s = await this.session(req, tenant);
    if (!s) return void reply.redirect(`/t/${slug}/login`, 303);
    const lang = this.lang(req, tenant);
    const m = messagesFor(lang);
    const render = (status: number, errors: string[]) =>
      this.send(reply, status, page({ lang, title: m.changePassword, tenantName: tenant.displayName, body: this.passwordForm(m, slug, csrfToken(req, reply), s.mustChangePassword, errors) }));
    if (!csrfValid(req, form?.['csrf'])) return render(403, [m.csrf]);
    const currentPassword = field(form, 'currentPassword');
    const newPassword = field(form, 'newPassword');
    if (newPassword !== field(form, 'confirmPassword')) return render(400, [m.mismatch]);
    try {
      const result = await this.bus.request(
        'musubi.authn.password.change.v1',
        { sessionId: s.id, currentPassword: currentPassword || ' ', newPassword: newPassword || ' ', client: { ip: req.ip, userAgent: String(req.headers['user-agent'] ?? '').slice(0, 1024) } },
        this.ctx(req, tenant),
      );
      setSessionCookie(reply, result.sessionId);
      reply.redirect(`/t/${slug}/account`, 303);
    } catch (err) {
      if (err instanceof DomainError && err.code === 'validation_failed') {
        const details = err.details.length > 0 ? err.details.map((d) => `${d.pointer === '/currentPassword' ? m.currentPassword : m.newPassword}: ${d.detail}`) : [err.message];
        return render(400, details);
      }
      if (err instanceof DomainError && err.code === 'unauthenticated') return void reply.redirect(`/t/${slug}/login`, 303);
      throw err;
    }
  }

  @Post('t/:slug/logout')
  async logout(@Param('slug') slug: string, @Body() form: Form | undefined, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const tenant = await this.tenants.bySlug(slug);
    if (!csrfValid(req, form?.['csrf'])) return void reply.redirect(`/t/${slug}/account`, 303);
    const id = readCookie(req, SESSION_COOKIE);
    if (id) await this.bus.request('musubi.authn.session.end.v1', { sessionId: id }, this.ctx(req, tenant));
    clearSessionCookie(reply);
    reply.redirect(`/t/${slug}/login`, 303);
  }
}
