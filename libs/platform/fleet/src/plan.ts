import { join } from 'node:path';
import type { ServiceName } from '@musubi/contracts';
import type { ConfigSpec } from '@musubi/platform/config';
import type { ServiceProcess } from './fleet.js';

/** What the fleet runner needs to know of a service: its name, its declared settings and its schema. */
export interface ServiceEntry {
  readonly name: ServiceName;
  readonly settings: ConfigSpec;
  readonly database?: { readonly schema: string };
}

export interface FleetEnvironment {
  /** The checkout's root: entries are `<root>/apps/<name>/dist/main.js`. */
  readonly root: string;
  readonly natsUrl: string;
  readonly redisUrl: string;
  /** Admin URL of the fleet's database (used by `migrate` only). */
  readonly databaseAdminUrl: string;
  /** The URL each service connects with: its own role and password. */
  readonly databaseUrlFor: (schema: string) => string;
  readonly operatorToken: string;
  readonly publicUrl: string;
  /** Ports to use instead of the declared defaults (tests run fleets side by side). */
  readonly ports?: Partial<Record<ServiceName, { readonly management: number; readonly public?: number }>>;
  /** Further settings, given only to services that declare them (LOG_LEVEL, SMTP_URL, …). */
  readonly extra?: Readonly<Record<string, string>>;
}

const defaultOf = (settings: ConfigSpec, name: string): string | undefined => settings[name]?.default;

/**
 * The processes of the fleet with their environment, derived from each
 * service's own declared settings: a service only ever gets the settings it
 * declares, so a typo or a stale name cannot hide here.
 */
export function fleetProcesses(entries: readonly ServiceEntry[], env: FleetEnvironment, mode: 'run' | 'migrate' = 'run'): ServiceProcess[] {
  return entries
    .filter((e) => mode === 'run' || e.database)
    .map((e) => {
      const has = (k: string) => Object.prototype.hasOwnProperty.call(e.settings, k);
      const out: Record<string, string> = {};
      const put = (k: string, v: string | undefined) => {
        if (v !== undefined && has(k)) out[k] = v;
      };
      const ports = env.ports?.[e.name];
      const management = ports?.management ?? Number(defaultOf(e.settings, 'HTTP_PORT'));
      put('HTTP_PORT', String(management));
      put('PORT', ports?.public !== undefined ? String(ports.public) : undefined);
      put('NATS_URL', env.natsUrl);
      put('REDIS_URL', env.redisUrl);
      if (e.database) put('DATABASE_URL', env.databaseUrlFor(e.database.schema));
      if (mode === 'migrate') put('DATABASE_ADMIN_URL', env.databaseAdminUrl);
      put('MUSUBI_OPERATOR_TOKEN', env.operatorToken);
      put('PUBLIC_URL', env.publicUrl);
      for (const [k, v] of Object.entries(env.extra ?? {})) put(k, v);
      return { name: e.name, entry: join(env.root, 'apps', e.name, 'dist', 'main.js'), env: out, managementPort: management };
    });
}
