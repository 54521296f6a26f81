import { Controller } from '@nestjs/common';
import type { CallContext, ReplyOf, RequestOf } from '@musubi/contracts';
import { Handles } from '@musubi/platform/bus';
import { TenantsService } from './tenants.service.js';

@Controller()
export class TenantsHandler {
  constructor(private readonly tenants: TenantsService) {}

  @Handles('musubi.directory.tenant.create.v1')
  create(req: RequestOf<'musubi.directory.tenant.create.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.directory.tenant.create.v1'>> {
    return this.tenants.create(req, ctx);
  }

  @Handles('musubi.directory.tenant.update.v1')
  update(req: RequestOf<'musubi.directory.tenant.update.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.directory.tenant.update.v1'>> {
    return this.tenants.update(req, ctx);
  }

  @Handles('musubi.directory.tenant.suspend.v1')
  suspend(req: RequestOf<'musubi.directory.tenant.suspend.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.directory.tenant.suspend.v1'>> {
    return this.tenants.suspend(req, ctx);
  }

  @Handles('musubi.directory.tenant.resume.v1')
  resume(req: RequestOf<'musubi.directory.tenant.resume.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.directory.tenant.resume.v1'>> {
    return this.tenants.resume(req, ctx);
  }

  @Handles('musubi.directory.tenant.terminate.v1')
  terminate(req: RequestOf<'musubi.directory.tenant.terminate.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.directory.tenant.terminate.v1'>> {
    return this.tenants.terminate(req, ctx);
  }

  @Handles('musubi.directory.tenant.get.v1')
  get(req: RequestOf<'musubi.directory.tenant.get.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.directory.tenant.get.v1'>> {
    return this.tenants.get(req.id, ctx);
  }

  @Handles('musubi.directory.tenant.get-by-slug.v1')
  getBySlug(req: RequestOf<'musubi.directory.tenant.get-by-slug.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.directory.tenant.get-by-slug.v1'>> {
    return this.tenants.getBySlug(req.slug, ctx);
  }

  @Handles('musubi.directory.tenant.list.v1')
  list(req: RequestOf<'musubi.directory.tenant.list.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.directory.tenant.list.v1'>> {
    return this.tenants.list(req, ctx);
  }
}
