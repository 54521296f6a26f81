import { Controller } from '@nestjs/common';
import type { CallContext, ReplyOf, RequestOf } from '@musubi/contracts';
import { Handles } from '@musubi/platform/bus';
import { ExportService } from './export.service.js';

@Controller()
export class ExportHandler {
  constructor(private readonly exports: ExportService) {}

  @Handles('musubi.audit.event.export.v1')
  page(req: RequestOf<'musubi.audit.event.export.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.audit.event.export.v1'>> {
    return this.exports.page(req, ctx);
  }
}
