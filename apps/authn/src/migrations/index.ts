import { Init1795305600000 } from './1795305600000-init.js';

/** Every migration of the authn schema, oldest first. */
export const authnMigrations = [Init1795305600000];
