import { Controller } from '@nestjs/common';
import type { CallContext, ReplyOf, RequestOf } from '@musubi/contracts';
import { Handles } from '@musubi/platform/bus';
import { authorizeInternal } from '@musubi/platform/authz';
import { AuthorizeService } from './authorize.service.js';
import { LogoutService } from './logout.service.js';
import { TokenService } from './token.service.js';

/**
 * The protocol endpoints. Only the gateway calls them (it serves them on the
 * tenant's issuer URL and passes the client's credentials through); their
 * authentication is the client's, checked here.
 */
@Controller()
export class OAuthHandler {
  constructor(
    private readonly tokens: TokenService,
    private readonly authorizeService: AuthorizeService,
    private readonly logouts: LogoutService,
  ) {}

  @Handles('musubi.federation.token.issue.v1')
  token(req: RequestOf<'musubi.federation.token.issue.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.federation.token.issue.v1'>> {
    authorizeInternal(ctx);
    return this.tokens.token(req);
  }

  @Handles('musubi.federation.token.introspect.v1')
  introspect(req: RequestOf<'musubi.federation.token.introspect.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.federation.token.introspect.v1'>> {
    authorizeInternal(ctx);
    return this.tokens.introspect(req);
  }

  @Handles('musubi.federation.token.revoke.v1')
  revoke(req: RequestOf<'musubi.federation.token.revoke.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.federation.token.revoke.v1'>> {
    authorizeInternal(ctx);
    return this.tokens.revoke(req);
  }

  @Handles('musubi.federation.userinfo.get.v1')
  userinfo(req: RequestOf<'musubi.federation.userinfo.get.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.federation.userinfo.get.v1'>> {
    authorizeInternal(ctx);
    return this.tokens.userinfo(req);
  }

  @Handles('musubi.federation.authorization.push.v1')
  push(req: RequestOf<'musubi.federation.authorization.push.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.federation.authorization.push.v1'>> {
    authorizeInternal(ctx);
    return this.authorizeService.push(req);
  }

  @Handles('musubi.federation.authorization.start.v1')
  start(req: RequestOf<'musubi.federation.authorization.start.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.federation.authorization.start.v1'>> {
    authorizeInternal(ctx);
    return this.authorizeService.start(req);
  }

  @Handles('musubi.federation.authorization.continue.v1')
  continue(req: RequestOf<'musubi.federation.authorization.continue.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.federation.authorization.continue.v1'>> {
    authorizeInternal(ctx);
    return this.authorizeService.continue(req);
  }

  @Handles('musubi.federation.session.logout.v1')
  logout(req: RequestOf<'musubi.federation.session.logout.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.federation.session.logout.v1'>> {
    authorizeInternal(ctx);
    return this.logouts.logout(req);
  }
}
