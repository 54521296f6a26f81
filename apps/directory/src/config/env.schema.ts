import { isIP } from 'node:net';
import { databaseSettings, intSetting, listSetting, serviceSettings, stringSetting, type ConfigOf } from '@musubi/platform/config';

/** `192.0.2.53`, `192.0.2.53:5353`, `[2001:db8::53]:53` or `2001:db8::53`. */
function assertDnsServer(raw: string): void {
  const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(raw);
  const plain = /^([^:]+)(?::(\d{1,5}))?$/.exec(raw);
  const host = bracketed?.[1] ?? (isIP(raw) === 6 ? raw : plain?.[1]);
  const port = bracketed?.[2] ?? (isIP(raw) === 6 ? undefined : plain?.[2]);
  if (!host || isIP(host) === 0) throw new Error(`"${raw}" is not an IP address (with an optional port)`);
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) throw new Error(`"${raw}" has an invalid port`);
}

export const directorySettings = {
  ...serviceSettings({ httpPort: 3102 }),
  ...databaseSettings,
  PLATFORM_DOMAIN: stringSetting({
    doc: 'Every tenant gets <slug>.<PLATFORM_DOMAIN> as a domain of its own, usable for login IDs before its own domain is verified',
    default: 'musubi.localhost',
    pattern: /^(?=.{1,200}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/,
    patternDoc: 'a lower-case DNS name such as id.example.com',
  }),
  DNS_SERVERS: listSetting({
    doc: 'DNS servers (IP[:port], comma-separated) used to verify tenant domains; empty means the system resolver',
    default: '',
    item: assertDnsServer,
  }),
  DOMAIN_RECHECK_INTERVAL_MINUTES: intSetting({ doc: 'How often verified domains are checked again for their DNS record', default: '360', min: 1, max: 10080 }),
  PURGE_INTERVAL_MINUTES: intSetting({ doc: 'How often users past their deletion retention are purged', default: '60', min: 1, max: 1440 }),
} as const;

export type DirectoryConfig = ConfigOf<typeof directorySettings>;
