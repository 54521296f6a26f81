import { Controller } from '@nestjs/common';
import type { CallContext, ReplyOf, RequestOf } from '@musubi/contracts';
import { Handles } from '@musubi/platform/bus';
import { SigningKeysService } from './signing-keys.service.js';

@Controller()
export class KeysHandler {
  constructor(private readonly keys: SigningKeysService) {}

  /** Public keys: anyone may read them (the gateway serves them unauthenticated). */
  @Handles('musubi.federation.jwks.get.v1')
  jwks(req: RequestOf<'musubi.federation.jwks.get.v1'>): Promise<ReplyOf<'musubi.federation.jwks.get.v1'>> {
    return this.keys.jwks(req.tenantId);
  }

  @Handles('musubi.federation.signing-key.list.v1')
  list(req: RequestOf<'musubi.federation.signing-key.list.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.federation.signing-key.list.v1'>> {
    return this.keys.list(req.tenantId, ctx);
  }

  @Handles('musubi.federation.signing-key.rotate.v1')
  rotate(req: RequestOf<'musubi.federation.signing-key.rotate.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.federation.signing-key.rotate.v1'>> {
    return this.keys.rotate(req.tenantId, req.alg, ctx);
  }
}
