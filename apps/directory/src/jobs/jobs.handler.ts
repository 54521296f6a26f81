import { Controller } from '@nestjs/common';
import type { CallContext, ReplyOf, RequestOf } from '@musubi/contracts';
import { Handles } from '@musubi/platform/bus';
import { JobsService } from './jobs.service.js';

@Controller()
export class JobsHandler {
  constructor(private readonly jobs: JobsService) {}

  @Handles('musubi.directory.job.import.v1')
  import(req: RequestOf<'musubi.directory.job.import.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.directory.job.import.v1'>> {
    return this.jobs.import(req, ctx);
  }

  @Handles('musubi.directory.job.export.v1')
  export(req: RequestOf<'musubi.directory.job.export.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.directory.job.export.v1'>> {
    return this.jobs.export(req, ctx);
  }

  @Handles('musubi.directory.job.preview.v1')
  preview(req: RequestOf<'musubi.directory.job.preview.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.directory.job.preview.v1'>> {
    return this.jobs.preview(req, ctx);
  }

  @Handles('musubi.directory.job.get.v1')
  get(req: RequestOf<'musubi.directory.job.get.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.directory.job.get.v1'>> {
    return this.jobs.get(req, ctx);
  }

  @Handles('musubi.directory.job.list.v1')
  list(req: RequestOf<'musubi.directory.job.list.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.directory.job.list.v1'>> {
    return this.jobs.list(req, ctx);
  }

  @Handles('musubi.directory.job.errors.v1')
  errors(req: RequestOf<'musubi.directory.job.errors.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.directory.job.errors.v1'>> {
    return this.jobs.errors(req, ctx);
  }

  @Handles('musubi.directory.job.result.v1')
  result(req: RequestOf<'musubi.directory.job.result.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.directory.job.result.v1'>> {
    return this.jobs.result(req, ctx);
  }
}
