import { Module } from '@nestjs/common';

/** OIDC provider, SAML IdP, SCIM protocol layer, outbound provisioning. Its features arrive with their own issues; the service already runs, migrates, reports health and drains. */
@Module({})
export class AppModule {}
