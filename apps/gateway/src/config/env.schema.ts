import { isIP } from 'node:net';
import { intSetting, listSetting, portSetting, redisSettings, serviceSettings, stringSetting, urlSetting, type ConfigOf } from '@musubi/platform/config';

/** Accepts `10.0.0.0/8`, `2001:db8::/32` or a single address. */
export function assertCidr(raw: string): void {
  const [addr, bits, ...rest] = raw.split('/');
  const family = isIP(addr ?? '');
  if (rest.length > 0 || family === 0) throw new Error(`"${raw}" is not an IP address or CIDR block`);
  if (bits !== undefined) {
    const n = Number(bits);
    if (!/^\d+$/.test(bits) || n > (family === 4 ? 32 : 128)) throw new Error(`"${raw}" has an invalid prefix length`);
  }
}

export const gatewaySettings = {
  ...serviceSettings({ httpPort: 9080 }),
  ...redisSettings,
  PORT: portSetting({ doc: 'Public HTTP port of the gateway', default: '8080' }),
  PUBLIC_URL: urlSetting({ doc: 'The URL users and applications reach the gateway at (issuers and links are built from it)', default: 'http://localhost:8080', protocols: ['http:', 'https:'] }),
  MUSUBI_OPERATOR_TOKEN: stringSetting({
    doc: "The platform operator's bootstrap bearer token for /api/v1 (at least 32 characters)",
    secret: true,
    minLength: 32,
  }),
  TRUSTED_PROXIES: listSetting({
    doc: 'Comma-separated proxy addresses or CIDR blocks allowed to set X-Forwarded-For; empty means none is trusted',
    default: '',
    item: assertCidr,
  }),
  BODY_LIMIT_BYTES: intSetting({ doc: 'Largest request body accepted, in bytes', default: '1048576', min: 1024, max: 64 * 1024 * 1024 }),
} as const;

export type GatewayConfig = ConfigOf<typeof gatewaySettings>;
