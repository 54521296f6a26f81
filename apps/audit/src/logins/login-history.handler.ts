import { Controller } from '@nestjs/common';
import type { CallContext, ReplyOf, RequestOf } from '@musubi/contracts';
import { Handles } from '@musubi/platform/bus';
import { LoginHistoryService } from './login-history.service.js';

@Controller()
export class LoginHistoryHandler {
  constructor(private readonly history: LoginHistoryService) {}

  @Handles('musubi.audit.login-history.list.v1')
  list(req: RequestOf<'musubi.audit.login-history.list.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.audit.login-history.list.v1'>> {
    return this.history.list(req, ctx);
  }
}
