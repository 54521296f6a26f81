import { Controller, Get, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { MeView, type MeView as MeViewT } from '@musubi/contracts';
import { DomainError } from '@musubi/platform/errors';
import { SessionAuthenticator } from '../auth/session-authenticator.js';
import { callContextOf } from '../http/request-context.js';
import { ApiDoc } from '../openapi/api-doc.decorator.js';
import { csrfToken, readCookie, SESSION_COOKIE } from '../pages/web-session.js';

/** The admin console's first call: who is signed in, their roles, and the CSRF token for its unsafe calls. */
@Controller('api/v1/me')
export class MeController {
  constructor(private readonly sessions: SessionAuthenticator) {}

  @Get()
  @ApiDoc({ summary: 'The signed-in user behind the session cookie, and the CSRF token', tag: 'Session', status: 200, response: MeView, errors: [401] })
  async me(@Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<MeViewT> {
    const sessionId = readCookie(req, SESSION_COOKIE);
    if (!sessionId) throw new DomainError('unauthenticated', 'Sign in first.');
    const caller = await this.sessions.callerFor(sessionId, callContextOf(req));
    return { kind: 'user', tenantId: caller.tenantId, userId: caller.userId, roles: caller.roles, csrfToken: csrfToken(req, reply) };
  }
}
