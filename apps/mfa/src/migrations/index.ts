import { Init1795305600000 } from './1795305600000-init.js';

/** Every migration of the mfa schema, oldest first. */
export const mfaMigrations = [Init1795305600000];
