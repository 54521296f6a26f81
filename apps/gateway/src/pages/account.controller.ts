import { Body, Controller, Param, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CallContext } from '@musubi/contracts';
import { BusClient } from '@musubi/platform/bus';
import { DomainError } from '@musubi/platform/errors';
import { callContextOf } from '../http/request-context.js';
import { TenantResolver } from './tenant-resolver.js';
import { csrfValid, WebSessions } from './web-session.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * What the account page's own forms post to, beyond sessions (see
 * login.controller.ts for the page and its sessions): revoking one of the
 * user's own API tokens. Always back to the account page; a token that is
 * not the user's is as if it did not exist.
 */
@Controller()
export class AccountPagesController {
  constructor(
    private readonly bus: BusClient,
    private readonly tenants: TenantResolver,
    private readonly sessions: WebSessions,
  ) {}

  @Post('t/:slug/account/api-tokens/revoke')
  async revokeToken(@Param('slug') slug: string, @Body() form: Record<string, unknown> | undefined, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const tenant = await this.tenants.bySlug(slug);
    const ctx = callContextOf(req, tenant.id);
    const s = await this.sessions.current(req, tenant.id, ctx);
    if (!s) return void reply.redirect(`/t/${slug}/login`, 303);
    if (s.mustChangePassword) return void reply.redirect(`/t/${slug}/password`, 303);
    const tokenId = form?.['tokenId'];
    if (csrfValid(req, form?.['csrf']) && typeof tokenId === 'string' && UUID.test(tokenId)) {
      // As the user themselves, with no roles: authn lets anyone revoke their own tokens, and only those.
      const self: CallContext = { ...ctx, caller: { kind: 'user', userId: s.userId, tenantId: tenant.id, roles: [] } };
      try {
        await this.bus.request('musubi.authn.api-token.revoke.v1', { tenantId: tenant.id, tokenId: tokenId.toLowerCase() }, self);
      } catch (err) {
        if (!(err instanceof DomainError && (err.code === 'not_found' || err.code === 'forbidden'))) throw err;
      }
    }
    reply.header('cache-control', 'no-store').redirect(`/t/${slug}/account`, 303);
  }
}
