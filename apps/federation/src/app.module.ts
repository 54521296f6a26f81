import { Module } from '@nestjs/common';
import { OidcModule } from './oidc.module.js';

/** OIDC provider (now), SAML IdP, SCIM protocol layer, outbound provisioning (with their own issues). */
@Module({ imports: [OidcModule] })
export class AppModule {}
