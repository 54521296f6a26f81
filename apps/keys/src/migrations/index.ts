import { Init1795305600000 } from './1795305600000-init.js';

/** Every migration of the keys schema, oldest first. */
export const keysMigrations = [Init1795305600000];
