import { Init1795305600000 } from './1795305600000-init.js';

/** Every migration of the billing schema, oldest first. */
export const billingMigrations = [Init1795305600000];
