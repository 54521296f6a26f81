import { Init1795305600000 } from './1795305600000-init.js';
import { Authentication1795651200000 } from './1795651200000-authentication.js';
import { ApiApps1795824000000 } from './1795824000000-api-apps.js';

/** Every migration of the authn schema, oldest first. */
export const authnMigrations = [Init1795305600000, Authentication1795651200000, ApiApps1795824000000];
