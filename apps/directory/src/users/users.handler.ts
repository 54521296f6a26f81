import { Controller } from '@nestjs/common';
import type { CallContext, ReplyOf, RequestOf } from '@musubi/contracts';
import { Handles } from '@musubi/platform/bus';
import { UsersService } from './users.service.js';

@Controller()
export class UsersHandler {
  constructor(private readonly users: UsersService) {}

  @Handles('musubi.directory.user.create.v1')
  create(req: RequestOf<'musubi.directory.user.create.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.directory.user.create.v1'>> {
    return this.users.create(req, ctx);
  }

  @Handles('musubi.directory.user.get.v1')
  get(req: RequestOf<'musubi.directory.user.get.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.directory.user.get.v1'>> {
    return this.users.get(req, ctx);
  }

  @Handles('musubi.directory.user.list.v1')
  list(req: RequestOf<'musubi.directory.user.list.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.directory.user.list.v1'>> {
    return this.users.list(req, ctx);
  }

  @Handles('musubi.directory.user.update.v1')
  update(req: RequestOf<'musubi.directory.user.update.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.directory.user.update.v1'>> {
    return this.users.update(req, ctx);
  }

  @Handles('musubi.directory.user.disable.v1')
  disable(req: RequestOf<'musubi.directory.user.disable.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.directory.user.disable.v1'>> {
    return this.users.disable(req, ctx);
  }

  @Handles('musubi.directory.user.enable.v1')
  enable(req: RequestOf<'musubi.directory.user.enable.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.directory.user.enable.v1'>> {
    return this.users.enable(req, ctx);
  }

  @Handles('musubi.directory.user.delete.v1')
  delete(req: RequestOf<'musubi.directory.user.delete.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.directory.user.delete.v1'>> {
    return this.users.delete(req, ctx);
  }

  @Handles('musubi.directory.user.restore.v1')
  restore(req: RequestOf<'musubi.directory.user.restore.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.directory.user.restore.v1'>> {
    return this.users.restore(req, ctx);
  }

  @Handles('musubi.directory.user.find-by-login-id.v1')
  findByLoginId(
    req: RequestOf<'musubi.directory.user.find-by-login-id.v1'>,
    ctx: CallContext,
  ): Promise<ReplyOf<'musubi.directory.user.find-by-login-id.v1'>> {
    return this.users.findByLoginId(req, ctx);
  }
}
