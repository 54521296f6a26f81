import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { MAIL_KINDS, type CallContext, type MailKind, type MailLang, type MailTemplateView, type RequestOf, type UserView } from '@musubi/contracts';
import { authorize } from '@musubi/platform/authz';
import { OutboxWriter } from '@musubi/platform/bus';
import { UnitOfWork } from '@musubi/platform/db';
import type { Logger } from '@musubi/platform/logging';
import { createMailer, type Mailer } from '@musubi/platform/mail';
import { CONFIG, LOGGER } from '@musubi/platform/runtime';
import type { AuthnConfig } from '../config/env.schema.js';
import { DEFAULT_TEMPLATES, PLACEHOLDERS, render } from './default-templates.js';
import { TenantCheck } from '../policy/tenant-check.js';
import { MailTemplateRepository } from './mail-template.repository.js';

export const langOfUser = (user: Pick<UserView, 'locale'>, fallback: MailLang): MailLang =>
  user.locale === 'ja-JP' ? 'ja' : user.locale === 'en-US' ? 'en' : fallback;

/**
 * The mails authn sends to users, in Japanese or English, from the tenant's
 * templates (or the built-in ones), through nodemailer to SMTP_URL.
 */
@Injectable()
export class MailService implements OnModuleDestroy {
  private readonly mailer: Mailer;

  constructor(
    private readonly templates: MailTemplateRepository,
    private readonly uow: UnitOfWork,
    private readonly outbox: OutboxWriter,
    private readonly tenants: TenantCheck,
    @Inject(CONFIG) private readonly config: AuthnConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.mailer = createMailer(config, logger);
  }

  async onModuleDestroy(): Promise<void> {
    await this.mailer.close();
  }

  /** A link on the gateway, for mail bodies. */
  url(path: string): string {
    return `${this.config.PUBLIC_URL.replace(/\/$/, '')}${path}`;
  }

  /**
   * Sends one kind of mail to a user (their notification email, else their login ID).
   * Never throws: a mail that cannot be sent is logged (without its content) and dropped.
   */
  async sendTo(user: UserView, kind: MailKind, lang: MailLang, values: Record<string, string>): Promise<void> {
    try {
      const template = (await this.templates.find(user.tenantId, kind, lang)) ?? DEFAULT_TEMPLATES[kind][lang];
      const mail = render(template, { displayName: user.displayName, loginId: user.loginId, ...values });
      await this.mailer.send({ to: user.email ?? user.loginId, subject: mail.subject, text: mail.body });
    } catch (err) {
      this.logger.warn({ err: (err as Error).message, kind, tenantId: user.tenantId }, 'a mail to a user was not sent');
    }
  }

  private view(kind: MailKind, lang: MailLang, custom: { subject: string; body: string } | undefined): MailTemplateView {
    const t = custom ?? DEFAULT_TEMPLATES[kind][lang];
    return { kind, lang, subject: t.subject, body: t.body, customized: custom !== undefined, placeholders: [...PLACEHOLDERS[kind]] };
  }

  async list(req: RequestOf<'musubi.authn.mail-template.list.v1'>, ctx: CallContext): Promise<{ items: MailTemplateView[] }> {
    authorize(ctx, req.tenantId, 'tenant:read');
    await this.tenants.assertExists(req.tenantId, ctx);
    const custom = await this.templates.list(req.tenantId);
    const items: MailTemplateView[] = [];
    for (const kind of MAIL_KINDS) {
      for (const lang of ['ja', 'en'] as const) items.push(this.view(kind, lang, custom.find((c) => c.kind === kind && c.lang === lang)));
    }
    return { items };
  }

  async put(req: RequestOf<'musubi.authn.mail-template.put.v1'>, ctx: CallContext): Promise<MailTemplateView> {
    authorize(ctx, req.tenantId, 'tenant:write');
    await this.tenants.assertExists(req.tenantId, ctx);
    const t = { subject: req.subject, body: req.body };
    await this.uow.run(async (tx) => {
      await this.templates.put(tx, req.tenantId, req.kind, req.lang, t);
      await this.outbox.append(tx, 'musubi.authn.mail-template.changed.v1', { kind: req.kind, lang: req.lang, customized: true }, { tenantId: req.tenantId });
    });
    return this.view(req.kind, req.lang, t);
  }

  async reset(req: RequestOf<'musubi.authn.mail-template.reset.v1'>, ctx: CallContext): Promise<MailTemplateView> {
    authorize(ctx, req.tenantId, 'tenant:write');
    await this.tenants.assertExists(req.tenantId, ctx);
    await this.uow.run(async (tx) => {
      await this.templates.remove(tx, req.tenantId, req.kind, req.lang);
      await this.outbox.append(tx, 'musubi.authn.mail-template.changed.v1', { kind: req.kind, lang: req.lang, customized: false }, { tenantId: req.tenantId });
    });
    return this.view(req.kind, req.lang, undefined);
  }
}
