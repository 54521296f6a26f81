import { Controller } from '@nestjs/common';
import type { CallContext, ReplyOf, RequestOf } from '@musubi/contracts';
import { Handles } from '@musubi/platform/bus';
import { ApiAppService } from './api-app.service.js';

@Controller()
export class ApiAppHandler {
  constructor(private readonly apps: ApiAppService) {}

  @Handles('musubi.authn.api-app.create.v1')
  create(req: RequestOf<'musubi.authn.api-app.create.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.authn.api-app.create.v1'>> {
    return this.apps.create(req, ctx);
  }

  @Handles('musubi.authn.api-app.list.v1')
  list(req: RequestOf<'musubi.authn.api-app.list.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.authn.api-app.list.v1'>> {
    return this.apps.list(req, ctx);
  }

  @Handles('musubi.authn.api-app.delete.v1')
  remove(req: RequestOf<'musubi.authn.api-app.delete.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.authn.api-app.delete.v1'>> {
    return this.apps.remove(req, ctx);
  }

  @Handles('musubi.authn.refresh-token.issue.v1')
  issue(req: RequestOf<'musubi.authn.refresh-token.issue.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.authn.refresh-token.issue.v1'>> {
    return this.apps.issue(req, ctx);
  }

  @Handles('musubi.authn.refresh-token.list.v1')
  listTokens(req: RequestOf<'musubi.authn.refresh-token.list.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.authn.refresh-token.list.v1'>> {
    return this.apps.listTokens(req, ctx);
  }

  @Handles('musubi.authn.refresh-token.revoke.v1')
  revoke(req: RequestOf<'musubi.authn.refresh-token.revoke.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.authn.refresh-token.revoke.v1'>> {
    return this.apps.revoke(req, ctx);
  }

  @Handles('musubi.authn.app-token.grant.v1')
  grant(req: RequestOf<'musubi.authn.app-token.grant.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.authn.app-token.grant.v1'>> {
    return this.apps.grant(req, ctx);
  }

  @Handles('musubi.authn.app-token.verify.v1')
  verify(req: RequestOf<'musubi.authn.app-token.verify.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.authn.app-token.verify.v1'>> {
    return this.apps.verify(req, ctx);
  }
}
