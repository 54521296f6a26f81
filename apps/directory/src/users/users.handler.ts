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

  @Handles('musubi.directory.user.find-by-login-id.v1')
  findByLoginId(
    req: RequestOf<'musubi.directory.user.find-by-login-id.v1'>,
    ctx: CallContext,
  ): Promise<ReplyOf<'musubi.directory.user.find-by-login-id.v1'>> {
    return this.users.findByLoginId(req, ctx);
  }
}
