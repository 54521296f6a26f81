import { Controller } from '@nestjs/common';
import type { CallContext, ReplyOf, RequestOf } from '@musubi/contracts';
import { Handles } from '@musubi/platform/bus';
import { ApiTokenService } from './api-token.service.js';

@Controller()
export class ApiTokenHandler {
  constructor(private readonly tokens: ApiTokenService) {}

  @Handles('musubi.authn.api-token.create.v1')
  create(req: RequestOf<'musubi.authn.api-token.create.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.authn.api-token.create.v1'>> {
    return this.tokens.create(req, ctx);
  }

  @Handles('musubi.authn.api-token.list.v1')
  list(req: RequestOf<'musubi.authn.api-token.list.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.authn.api-token.list.v1'>> {
    return this.tokens.list(req, ctx);
  }

  @Handles('musubi.authn.api-token.revoke.v1')
  revoke(req: RequestOf<'musubi.authn.api-token.revoke.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.authn.api-token.revoke.v1'>> {
    return this.tokens.revoke(req, ctx);
  }

  @Handles('musubi.authn.api-token.verify.v1')
  verify(req: RequestOf<'musubi.authn.api-token.verify.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.authn.api-token.verify.v1'>> {
    return this.tokens.verify(req, ctx);
  }
}
