import { Controller } from '@nestjs/common';
import type { CallContext, ReplyOf, RequestOf } from '@musubi/contracts';
import { Handles } from '@musubi/platform/bus';
import { ClientsService } from './clients.service.js';

@Controller()
export class ClientsHandler {
  constructor(private readonly clients: ClientsService) {}

  @Handles('musubi.federation.client.create.v1')
  create(req: RequestOf<'musubi.federation.client.create.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.federation.client.create.v1'>> {
    return this.clients.create(req, ctx);
  }

  @Handles('musubi.federation.client.get.v1')
  get(req: RequestOf<'musubi.federation.client.get.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.federation.client.get.v1'>> {
    return this.clients.get(req, ctx);
  }

  @Handles('musubi.federation.client.list.v1')
  list(req: RequestOf<'musubi.federation.client.list.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.federation.client.list.v1'>> {
    return this.clients.list(req, ctx);
  }

  @Handles('musubi.federation.client.update.v1')
  update(req: RequestOf<'musubi.federation.client.update.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.federation.client.update.v1'>> {
    return this.clients.update(req, ctx);
  }

  @Handles('musubi.federation.client.delete.v1')
  delete(req: RequestOf<'musubi.federation.client.delete.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.federation.client.delete.v1'>> {
    return this.clients.delete(req, ctx);
  }

  @Handles('musubi.federation.client.secret-rotate.v1')
  rotateSecret(req: RequestOf<'musubi.federation.client.secret-rotate.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.federation.client.secret-rotate.v1'>> {
    return this.clients.rotateSecret(req, ctx);
  }
}
