import { Controller } from '@nestjs/common';
import type { CallContext, ReplyOf, RequestOf } from '@musubi/contracts';
import { Handles } from '@musubi/platform/bus';
import { SettingsService } from './settings.service.js';

@Controller()
export class SettingsHandler {
  constructor(private readonly settings: SettingsService) {}

  @Handles('musubi.audit.settings.get.v1')
  get(req: RequestOf<'musubi.audit.settings.get.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.audit.settings.get.v1'>> {
    return this.settings.get(req, ctx);
  }

  @Handles('musubi.audit.settings.update.v1')
  update(req: RequestOf<'musubi.audit.settings.update.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.audit.settings.update.v1'>> {
    return this.settings.update(req, ctx);
  }
}
