import { Body, Controller, Get, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { BrowserSession, CallContext, TenantView } from '@musubi/contracts';
import { BusClient } from '@musubi/platform/bus';
import { CONFIG } from '@musubi/platform/runtime';
import type { GatewayConfig } from '../config/env.schema.js';
import { callContextOf } from '../http/request-context.js';
import { esc } from '../pages/html.js';
import { pickLang, type Lang } from '../pages/i18n.js';
import { TenantResolver } from '../pages/tenant-resolver.js';
import { clearSessionCookie, csrfToken, csrfValid, WebSessions, type HostedSession } from '../pages/web-session.js';
import { asGateway, issuerFor } from './issuer.js';
import { isForm, singleParams, type Params } from './oauth-http.js';
import { consentBody, errorPageBody, logoutConfirmBody, sendOnward, sendPage, textsFor } from './oidc-pages.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface Ctx {
  readonly tenant: TenantView;
  readonly issuer: string;
  readonly lang: Lang;
  readonly call: CallContext;
}

const browserSession = (s: HostedSession | null): BrowserSession =>
  s && !s.mustChangePassword ? { sessionId: s.sessionId, userId: s.userId, authTime: s.authTime, amr: [...s.amr].slice(0, 5) } : null;

/**
 * The browser-facing OIDC endpoints: authorization (GET and POST, and the
 * resumption after sign-in), the consent page, and RP-initiated logout. The
 * hosted login (pages/) keeps the session; this reads it through WebSessions
 * and sends the user to `/t/{slug}/login?return_to=…` when federation asks for
 * a sign-in.
 */
@Controller()
export class OidcAuthorizeController {
  private readonly publicUrl: string;

  constructor(
    private readonly bus: BusClient,
    private readonly tenants: TenantResolver,
    private readonly sessions: WebSessions,
    @Inject(CONFIG) config: GatewayConfig,
  ) {
    this.publicUrl = config.PUBLIC_URL;
  }

  private async ctx(slug: string, req: FastifyRequest): Promise<Ctx> {
    const tenant = await this.tenants.bySlug(slug);
    return {
      tenant,
      issuer: issuerFor(this.publicUrl, slug),
      lang: pickLang(req.headers['accept-language'], tenant.defaultLocale === 'en-US' ? 'en' : 'ja'),
      call: asGateway(callContextOf(req, tenant.id)),
    };
  }

  private errorPage(reply: FastifyReply, c: Ctx, error: string, description: string): void {
    sendPage(reply, { lang: c.lang, tenantName: c.tenant.displayName, status: 400, title: textsFor(c.lang).errorTitle, body: errorPageBody(c.lang, error, description) });
  }

  @Get('t/:slug/oauth2/authorize')
  authorizeGet(@Param('slug') slug: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    return this.authorize(slug, req.query, req, reply);
  }

  @Post('t/:slug/oauth2/authorize')
  async authorizePost(@Param('slug') slug: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    if (!isForm(req)) return this.errorPage(reply, await this.ctx(slug, req), 'invalid_request', 'The body must be application/x-www-form-urlencoded.');
    return this.authorize(slug, req.body, req, reply);
  }

  private async authorize(slug: string, source: unknown, req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const c = await this.ctx(slug, req);
    const params = singleParams(source);
    // Nothing is trusted in a request with a repeated parameter, not even its redirect URI.
    if (!params) return this.errorPage(reply, c, 'invalid_request', 'A parameter is repeated, too long, or not text.');
    const start = await this.bus.request('musubi.federation.authorization.start.v1', { tenantId: c.tenant.id, issuer: c.issuer, params }, c.call);
    switch (start.kind) {
      case 'error_page':
        return this.errorPage(reply, c, start.error, start.errorDescription);
      case 'redirect':
        return void reply.redirect(start.location, 303);
      case 'pending':
        return this.proceed(c, start.requestId, req, reply);
    }
  }

  /** Carries a held request on: to the login page, the consent page, or back to the client. */
  private async proceed(c: Ctx, rid: string, req: FastifyRequest, reply: FastifyReply, consent?: 'granted' | 'denied', fromForm = false): Promise<void> {
    const hosted = await this.sessions.current(req, c.tenant.id, c.call);
    const next = await this.bus.request(
      'musubi.federation.authorization.continue.v1',
      { tenantId: c.tenant.id, issuer: c.issuer, requestId: rid, session: browserSession(hosted), ...(consent ? { consent } : {}) },
      c.call,
    );
    const slug = c.tenant.slug;
    switch (next.kind) {
      case 'error_page':
        return this.errorPage(reply, c, next.error, next.errorDescription);
      case 'redirect':
        // After the sign-in form, a redirect to the client would be blocked by that page's CSP form-action: leave by a page of our own.
        return fromForm ? sendOnward(reply, next.location) : void reply.redirect(next.location, 303);
      case 'login': {
        // A session that must change its password first goes there; the user comes back through the application.
        if (hosted?.mustChangePassword) return void reply.redirect(`/t/${slug}/password`, 303);
        const back = `/t/${slug}/oauth2/authorize/resume?rid=${rid}`;
        const hint = next.loginHint ? `&login_hint=${encodeURIComponent(next.loginHint)}` : '';
        return void reply.redirect(`/t/${slug}/login?return_to=${encodeURIComponent(back)}${hint}`, 303);
      }
      case 'consent': {
        const action = `/t/${slug}/oauth2/authorize/consent`;
        return sendPage(reply, {
          lang: c.lang,
          tenantName: c.tenant.displayName,
          status: 200,
          title: textsFor(c.lang).consentTitle,
          body: consentBody(c.lang, action, csrfToken(req, reply), rid, next.clientName, next.scopes),
          formTo: next.formActionSource,
        });
      }
    }
  }

  @Get('t/:slug/oauth2/authorize/resume')
  async resume(@Param('slug') slug: string, @Query('rid') rid: unknown, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const c = await this.ctx(slug, req);
    if (typeof rid !== 'string' || !UUID.test(rid)) return this.errorPage(reply, c, 'invalid_request', 'This sign-in request is not known.');
    return this.proceed(c, rid, req, reply, undefined, true);
  }

  @Post('t/:slug/oauth2/authorize/consent')
  async consent(@Param('slug') slug: string, @Body() form: Record<string, unknown> | undefined, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const c = await this.ctx(slug, req);
    const rid = form?.['rid'];
    const decision = form?.['decision'];
    if (typeof rid !== 'string' || !UUID.test(rid) || (decision !== 'granted' && decision !== 'denied')) return this.errorPage(reply, c, 'invalid_request', 'The consent form is incomplete.');
    if (!csrfValid(req, form?.['csrf'])) return this.errorPage(reply, c, 'invalid_request', 'The page has expired; go back to the application and try again.');
    return this.proceed(c, rid, req, reply, decision);
  }

  @Get('t/:slug/oauth2/logout')
  logoutGet(@Param('slug') slug: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    return this.logout(slug, req.query, false, req, reply);
  }

  @Post('t/:slug/oauth2/logout')
  logoutPost(@Param('slug') slug: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    return this.logout(slug, isForm(req) ? req.body : undefined, false, req, reply);
  }

  /** The user's answer on the confirmation page (CSRF-checked). */
  @Post('t/:slug/oauth2/logout/confirm')
  async logoutConfirm(@Param('slug') slug: string, @Body() form: Record<string, unknown> | undefined, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    if (!csrfValid(req, form?.['csrf'])) return this.errorPage(reply, await this.ctx(slug, req), 'invalid_request', 'The page has expired; sign out again.');
    const { csrf: _csrf, ...rest } = form ?? {};
    return this.logout(slug, rest, true, req, reply);
  }

  private async logout(slug: string, source: unknown, userConfirmed: boolean, req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const c = await this.ctx(slug, req);
    const params: Params | null = singleParams(source);
    if (!params) return this.errorPage(reply, c, 'invalid_request', 'A parameter is repeated, too long, or not text.');
    const hosted = await this.sessions.current(req, c.tenant.id, c.call);
    const session: BrowserSession = hosted ? { sessionId: hosted.sessionId, userId: hosted.userId, authTime: hosted.authTime, amr: [...hosted.amr].slice(0, 5) } : null;
    const r = await this.bus.request('musubi.federation.session.logout.v1', { tenantId: c.tenant.id, issuer: c.issuer, params, session, userConfirmed }, c.call);
    const t = textsFor(c.lang);
    switch (r.kind) {
      case 'error_page':
        return this.errorPage(reply, c, r.error, r.errorDescription);
      case 'confirm':
        return sendPage(reply, {
          lang: c.lang,
          tenantName: c.tenant.displayName,
          status: 200,
          title: t.logoutTitle,
          body: logoutConfirmBody(c.lang, `/t/${slug}/oauth2/logout/confirm`, csrfToken(req, reply), params, r.clientName),
          formTo: r.formActionSource,
        });
      case 'logged_out':
        if (hosted) await this.bus.request('musubi.authn.session.end.v1', { sessionId: hosted.sessionId }, c.call);
        clearSessionCookie(reply);
        if (r.location) return void reply.redirect(r.location, 303);
        return sendPage(reply, { lang: c.lang, tenantName: c.tenant.displayName, status: 200, title: t.logoutTitle, body: `<p class="notice" role="status" id="logged-out">${esc(t.loggedOut)}</p>` });
    }
  }
}
