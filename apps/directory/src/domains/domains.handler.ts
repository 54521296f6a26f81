import { Controller } from '@nestjs/common';
import type { CallContext, ReplyOf, RequestOf } from '@musubi/contracts';
import { Handles } from '@musubi/platform/bus';
import { DomainsService } from './domains.service.js';

@Controller()
export class DomainsHandler {
  constructor(private readonly domains: DomainsService) {}

  @Handles('musubi.directory.domain.register.v1')
  register(req: RequestOf<'musubi.directory.domain.register.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.directory.domain.register.v1'>> {
    return this.domains.register(req, ctx);
  }

  @Handles('musubi.directory.domain.get.v1')
  get(req: RequestOf<'musubi.directory.domain.get.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.directory.domain.get.v1'>> {
    return this.domains.get(req, ctx);
  }

  @Handles('musubi.directory.domain.list.v1')
  list(req: RequestOf<'musubi.directory.domain.list.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.directory.domain.list.v1'>> {
    return this.domains.list(req, ctx);
  }

  @Handles('musubi.directory.domain.verify.v1')
  verify(req: RequestOf<'musubi.directory.domain.verify.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.directory.domain.verify.v1'>> {
    return this.domains.verify(req, ctx);
  }

  @Handles('musubi.directory.domain.remove.v1')
  remove(req: RequestOf<'musubi.directory.domain.remove.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.directory.domain.remove.v1'>> {
    return this.domains.remove(req, ctx);
  }
}
