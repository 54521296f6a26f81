import { Controller } from '@nestjs/common';
import type { CallContext, ReplyOf, RequestOf } from '@musubi/contracts';
import { Handles } from '@musubi/platform/bus';
import { ResetService } from './reset.service.js';

@Controller()
export class ResetHandler {
  constructor(private readonly resets: ResetService) {}

  @Handles('musubi.authn.password-reset.request.v1')
  request(req: RequestOf<'musubi.authn.password-reset.request.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.authn.password-reset.request.v1'>> {
    return this.resets.request(req, ctx);
  }

  @Handles('musubi.authn.password-reset.check.v1')
  check(req: RequestOf<'musubi.authn.password-reset.check.v1'>): Promise<ReplyOf<'musubi.authn.password-reset.check.v1'>> {
    return this.resets.check(req);
  }

  @Handles('musubi.authn.password-reset.complete.v1')
  complete(req: RequestOf<'musubi.authn.password-reset.complete.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.authn.password-reset.complete.v1'>> {
    return this.resets.complete(req, ctx);
  }
}
