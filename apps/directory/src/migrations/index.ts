import { Init1795305600000 } from './1795305600000-init.js';
import { TenantLifecycle1795392000000 } from './1795392000000-tenant-lifecycle.js';
import { UsersProfile1795392000001 } from './1795392000001-users-profile.js';
import { Groups1795392000002 } from './1795392000002-groups.js';
import { Domains1795392000003 } from './1795392000003-domains.js';
import { Jobs1795392000004 } from './1795392000004-jobs.js';
import { UsersSearchIds1795478400100 } from './1795478400100-users-search-ids.js';
import { UsersCoveringSortIndexes1795478400200 } from './1795478400200-users-covering-sort-indexes.js';
import { UsersSearchTerms1795478400300 } from './1795478400300-users-search-terms.js';

/** Every migration of the directory schema, oldest first. */
export const directoryMigrations = [Init1795305600000, TenantLifecycle1795392000000, UsersProfile1795392000001, Groups1795392000002, Domains1795392000003, Jobs1795392000004, UsersSearchIds1795478400100, UsersCoveringSortIndexes1795478400200, UsersSearchTerms1795478400300];
