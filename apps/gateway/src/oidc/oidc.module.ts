import { Module } from '@nestjs/common';
import { ClientsController } from '../api/clients.controller.js';
import { TenantResolver } from '../pages/tenant-resolver.js';
import { WebSessions } from '../pages/web-session.js';
import { OidcAuthorizeController } from './authorize.controller.js';
import { OAuthClientEndpoints } from './client-endpoints.js';
import { IntrospectionState } from './introspection-state.js';
import { LocalIntrospection } from './local-introspection.js';
import { OidcProtocolController } from './protocol.controller.js';

/** Each tenant's OpenID provider endpoints under /t/{slug} (federation decides; this speaks HTTP). */
@Module({
  controllers: [ClientsController, OidcProtocolController, OidcAuthorizeController],
  providers: [TenantResolver, WebSessions, IntrospectionState, LocalIntrospection, OAuthClientEndpoints],
})
export class OidcGatewayModule {}
