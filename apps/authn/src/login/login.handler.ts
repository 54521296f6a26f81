import { Controller } from '@nestjs/common';
import type { CallContext, ReplyOf, RequestOf } from '@musubi/contracts';
import { Handles } from '@musubi/platform/bus';
import { LoginService } from './login.service.js';

@Controller()
export class LoginHandler {
  constructor(private readonly login: LoginService) {}

  @Handles('musubi.authn.login.start.v1')
  start(req: RequestOf<'musubi.authn.login.start.v1'>): Promise<ReplyOf<'musubi.authn.login.start.v1'>> {
    return this.login.start(req);
  }

  @Handles('musubi.authn.login.get.v1')
  transaction(req: RequestOf<'musubi.authn.login.get.v1'>): Promise<ReplyOf<'musubi.authn.login.get.v1'>> {
    return this.login.transaction(req);
  }

  @Handles('musubi.authn.login.password.v1')
  password(req: RequestOf<'musubi.authn.login.password.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.authn.login.password.v1'>> {
    return this.login.login(req, ctx);
  }

  @Handles('musubi.authn.session.get.v1')
  session(req: RequestOf<'musubi.authn.session.get.v1'>): Promise<ReplyOf<'musubi.authn.session.get.v1'>> {
    return this.login.session(req.sessionId);
  }

  @Handles('musubi.authn.session.end.v1')
  end(req: RequestOf<'musubi.authn.session.end.v1'>): Promise<ReplyOf<'musubi.authn.session.end.v1'>> {
    return this.login.logout(req.sessionId);
  }

  @Handles('musubi.authn.password.change.v1')
  changePassword(req: RequestOf<'musubi.authn.password.change.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.authn.password.change.v1'>> {
    return this.login.changePassword(req, ctx);
  }

  @Handles('musubi.authn.temporary-password.issue.v1')
  issueTemporary(req: RequestOf<'musubi.authn.temporary-password.issue.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.authn.temporary-password.issue.v1'>> {
    return this.login.issueTemporary(req, ctx);
  }
}
