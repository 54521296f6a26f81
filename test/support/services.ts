import type { ServiceEntry } from '@musubi/platform/fleet';
import type { SchemaSpec } from '@musubi/platform/testing';
import { auditService } from '../../apps/audit/src/service.js';
import { authnService } from '../../apps/authn/src/service.js';
import { billingService } from '../../apps/billing/src/service.js';
import { directoryService } from '../../apps/directory/src/service.js';
import { federationService } from '../../apps/federation/src/service.js';
import { gatewayService } from '../../apps/gateway/src/service.js';
import { keysService } from '../../apps/keys/src/service.js';
import { mfaService } from '../../apps/mfa/src/service.js';

/** The eight services, as their own code defines them. */
export const SERVICES = [gatewayService, authnService, directoryService, federationService, mfaService, keysService, auditService, billingService] as const;

export const serviceEntries: ServiceEntry[] = SERVICES.map((s) => ({
  name: s.name,
  settings: s.settings,
  ...('database' in s && s.database ? { database: { schema: s.database.schema } } : {}),
}));

export const schemaSpecs: SchemaSpec[] = SERVICES.flatMap((s) => ('database' in s && s.database ? [{ schema: s.database.schema, migrations: s.database.migrations }] : []));
