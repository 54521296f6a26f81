import { Controller } from '@nestjs/common';
import type { CallContext, ReplyOf, RequestOf } from '@musubi/contracts';
import { Handles } from '@musubi/platform/bus';
import { LockoutService } from '../lockout/lockout.service.js';
import { SessionsService } from './sessions.service.js';

@Controller()
export class SessionsHandler {
  constructor(
    private readonly sessions: SessionsService,
    private readonly lockout: LockoutService,
  ) {}

  @Handles('musubi.authn.session.list.v1')
  list(req: RequestOf<'musubi.authn.session.list.v1'>): Promise<ReplyOf<'musubi.authn.session.list.v1'>> {
    return this.sessions.list(req);
  }

  @Handles('musubi.authn.session.revoke.v1')
  revoke(req: RequestOf<'musubi.authn.session.revoke.v1'>): Promise<ReplyOf<'musubi.authn.session.revoke.v1'>> {
    return this.sessions.revoke(req);
  }

  @Handles('musubi.authn.session.revoke-all.v1')
  revokeAll(req: RequestOf<'musubi.authn.session.revoke-all.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.authn.session.revoke-all.v1'>> {
    return this.sessions.revokeAll(req, ctx);
  }

  @Handles('musubi.authn.lockout.get.v1')
  lockoutGet(req: RequestOf<'musubi.authn.lockout.get.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.authn.lockout.get.v1'>> {
    return this.lockout.get(req, ctx);
  }

  @Handles('musubi.authn.lockout.clear.v1')
  lockoutClear(req: RequestOf<'musubi.authn.lockout.clear.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.authn.lockout.clear.v1'>> {
    return this.lockout.clear(req, ctx);
  }
}
