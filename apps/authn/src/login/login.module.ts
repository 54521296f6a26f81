import { Module } from '@nestjs/common';
import { CredentialRepository } from '../credentials/credential.repository.js';
import { PasswordHasher } from '../credentials/password-hasher.js';
import { LockoutRepository } from '../lockout/lockout.repository.js';
import { LockoutService } from '../lockout/lockout.service.js';
import { AccountMailsService } from '../mail/account-mails.service.js';
import { EventMailRepository } from '../mail/event-mail.repository.js';
import { MailTemplateRepository } from '../mail/mail-template.repository.js';
import { MailService } from '../mail/mail.service.js';
import { ExpiryNoticesRepository } from '../notices/expiry-notices.repository.js';
import { ExpiryNoticesService } from '../notices/expiry-notices.service.js';
import { PolicyHandler } from '../policy/policy.handler.js';
import { PolicyRepository } from '../policy/policy.repository.js';
import { PolicyService } from '../policy/policy.service.js';
import { TenantCheck } from '../policy/tenant-check.js';
import { ResetHandler } from '../reset/reset.handler.js';
import { ResetRepository } from '../reset/reset.repository.js';
import { ResetService } from '../reset/reset.service.js';
import { SessionStore } from '../sessions/session.store.js';
import { SessionsHandler } from '../sessions/sessions.handler.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { ApiTokenHandler } from '../tokens/api-token.handler.js';
import { ApiTokenRepository } from '../tokens/api-token.repository.js';
import { ApiTokenService } from '../tokens/api-token.service.js';
import { IpThrottle } from './ip-throttle.js';
import { LoginTransactionStore } from './login-transaction.store.js';
import { LoginHandler } from './login.handler.js';
import { LoginService } from './login.service.js';

/** Everything authn does shares credentials, policy, sessions and mail, so it is one module of small feature folders. */
@Module({
  controllers: [LoginHandler, PolicyHandler, SessionsHandler, ResetHandler, ApiTokenHandler],
  providers: [
    LoginService,
    LoginTransactionStore,
    IpThrottle,
    CredentialRepository,
    PasswordHasher,
    SessionStore,
    SessionsService,
    PolicyRepository,
    PolicyService,
    TenantCheck,
    LockoutRepository,
    LockoutService,
    MailTemplateRepository,
    MailService,
    // The mails that follow authn's own events ("account issued", "temporary password"), through the same transport.
    AccountMailsService,
    EventMailRepository,
    ResetRepository,
    ResetService,
    ApiTokenRepository,
    ApiTokenService,
    ExpiryNoticesRepository,
    ExpiryNoticesService,
  ],
  exports: [TenantCheck],
})
export class LoginModule {}
