import { Init1795305600000 } from './1795305600000-init.js';
import { TamperEvidentTrail1795478400000 } from './1795478400000-tamper-evident-trail.js';
import { WeeklyPartitionsCoveringSearch1795564800000 } from './1795564800000-weekly-partitions-covering-search.js';

/** Every migration of the audit schema, oldest first. */
export const auditMigrations = [Init1795305600000, TamperEvidentTrail1795478400000, WeeklyPartitionsCoveringSearch1795564800000];
