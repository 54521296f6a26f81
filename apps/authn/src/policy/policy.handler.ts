import { Controller } from '@nestjs/common';
import type { CallContext, ReplyOf, RequestOf } from '@musubi/contracts';
import { Handles } from '@musubi/platform/bus';
import { MailService } from '../mail/mail.service.js';
import { PolicyService } from './policy.service.js';

@Controller()
export class PolicyHandler {
  constructor(
    private readonly policies: PolicyService,
    private readonly mail: MailService,
  ) {}

  @Handles('musubi.authn.policy.get.v1')
  get(req: RequestOf<'musubi.authn.policy.get.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.authn.policy.get.v1'>> {
    return this.policies.get(req, ctx);
  }

  @Handles('musubi.authn.policy.update.v1')
  update(req: RequestOf<'musubi.authn.policy.update.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.authn.policy.update.v1'>> {
    return this.policies.update(req, ctx);
  }

  @Handles('musubi.authn.policy.branding.v1')
  branding(req: RequestOf<'musubi.authn.policy.branding.v1'>): Promise<ReplyOf<'musubi.authn.policy.branding.v1'>> {
    return this.policies.branding(req);
  }

  @Handles('musubi.authn.mail-template.list.v1')
  templates(req: RequestOf<'musubi.authn.mail-template.list.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.authn.mail-template.list.v1'>> {
    return this.mail.list(req, ctx);
  }

  @Handles('musubi.authn.mail-template.put.v1')
  putTemplate(req: RequestOf<'musubi.authn.mail-template.put.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.authn.mail-template.put.v1'>> {
    return this.mail.put(req, ctx);
  }

  @Handles('musubi.authn.mail-template.reset.v1')
  resetTemplate(req: RequestOf<'musubi.authn.mail-template.reset.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.authn.mail-template.reset.v1'>> {
    return this.mail.reset(req, ctx);
  }
}
