import { Module } from '@nestjs/common';
import { ClientCache } from './clients/client-cache.js';
import { ClientRepository } from './clients/client.repository.js';
import { ClientsHandler } from './clients/clients.handler.js';
import { ClientsService } from './clients/clients.service.js';
import { KeysHandler } from './keys/keys.handler.js';
import { SigningKeyRepository } from './keys/signing-key.repository.js';
import { SigningKeysService } from './keys/signing-keys.service.js';
import { AccessTokens } from './oauth/access-tokens.js';
import { AuthorizeService } from './oauth/authorize.service.js';
import { ClientAuthenticator } from './oauth/client-auth.js';
import { GrantRepository } from './oauth/grant.repository.js';
import { IdTokens } from './oauth/id-tokens.js';
import { IntrospectionFeedPublisher, IntrospectionStateHandler } from './oauth/introspection-feed.js';
import { IssuedEvents } from './oauth/issued-events.js';
import { LogoutService } from './oauth/logout.service.js';
import { MaintenanceJob } from './oauth/maintenance.job.js';
import { OAuthHandler } from './oauth/oauth.handler.js';
import { ChangeFeed } from './oauth/change-feed.js';
import { TokenService } from './oauth/token.service.js';
import { UserClaims } from './oauth/user-claims.js';

/** The OpenID provider: clients, signing keys, grants and the protocol endpoints' logic. */
@Module({
  controllers: [ClientsHandler, KeysHandler, OAuthHandler, IntrospectionStateHandler],
  providers: [
    ClientRepository,
    ClientCache,
    ClientsService,
    SigningKeyRepository,
    SigningKeysService,
    GrantRepository,
    ChangeFeed,
    ClientAuthenticator,
    AccessTokens,
    IdTokens,
    IssuedEvents,
    UserClaims,
    TokenService,
    AuthorizeService,
    LogoutService,
    MaintenanceJob,
    IntrospectionFeedPublisher,
  ],
})
export class OidcModule {}
