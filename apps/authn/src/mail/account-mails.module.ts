import { Module } from '@nestjs/common';
import { TenantCheck } from '../policy/tenant-check.js';
import { AccountMailsService } from './account-mails.service.js';
import { EventMailRepository } from './event-mail.repository.js';
import { MailTemplateRepository } from './mail-template.repository.js';
import { MailService } from './mail.service.js';

/** The mails that follow authn's own events ("account issued", "temporary password"). */
@Module({ providers: [AccountMailsService, EventMailRepository, MailService, MailTemplateRepository, TenantCheck] })
export class AccountMailsModule {}
