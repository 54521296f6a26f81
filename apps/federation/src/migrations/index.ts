import { Init1795305600000 } from './1795305600000-init.js';
import { OidcProvider1795564800000 } from './1795564800000-oidc-provider.js';

/** Every migration of the federation schema, oldest first. */
export const federationMigrations = [Init1795305600000, OidcProvider1795564800000];
