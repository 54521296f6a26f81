import { Controller } from '@nestjs/common';
import type { CallContext, ReplyOf, RequestOf } from '@musubi/contracts';
import { Handles } from '@musubi/platform/bus';
import { ChainApiService } from './chain-api.service.js';

@Controller()
export class ChainHandler {
  constructor(private readonly chain: ChainApiService) {}

  @Handles('musubi.audit.chain.verify.v1')
  verify(req: RequestOf<'musubi.audit.chain.verify.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.audit.chain.verify.v1'>> {
    return this.chain.verify(req, ctx);
  }

  @Handles('musubi.audit.checkpoint.list.v1')
  checkpoints(req: RequestOf<'musubi.audit.checkpoint.list.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.audit.checkpoint.list.v1'>> {
    return this.chain.checkpointPage(req, ctx);
  }

  @Handles('musubi.audit.signing-key.list.v1')
  signingKeys(req: RequestOf<'musubi.audit.signing-key.list.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.audit.signing-key.list.v1'>> {
    return this.chain.signingKeys(req, ctx);
  }
}
