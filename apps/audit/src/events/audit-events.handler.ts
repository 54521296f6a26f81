import { Controller } from '@nestjs/common';
import type { CallContext, ReplyOf, RequestOf } from '@musubi/contracts';
import { Handles } from '@musubi/platform/bus';
import { AuditEventsService } from './audit-events.service.js';

@Controller()
export class AuditEventsHandler {
  constructor(private readonly events: AuditEventsService) {}

  @Handles('musubi.audit.event.list.v1')
  list(req: RequestOf<'musubi.audit.event.list.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.audit.event.list.v1'>> {
    return this.events.list(req, ctx);
  }
}
