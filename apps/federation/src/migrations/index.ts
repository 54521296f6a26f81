import { Init1795305600000 } from './1795305600000-init.js';

/** Every migration of the federation schema, oldest first. */
export const federationMigrations = [Init1795305600000];
