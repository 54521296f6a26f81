import { Init1795305600000 } from './1795305600000-init.js';

/** Every migration of the audit schema, oldest first. */
export const auditMigrations = [Init1795305600000];
