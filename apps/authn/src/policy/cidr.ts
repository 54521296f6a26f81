import { isIP } from 'node:net';

/** Parses `203.0.113.0/24`, `2001:db8::/32` or one address; throws with the reason. */
export function parseCidr(raw: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } {
  const [address = '', bits, ...rest] = raw.split('/');
  const v = isIP(address);
  if (rest.length > 0 || v === 0) throw new Error('is not an IP address or CIDR block');
  const family = v === 4 ? 'ipv4' : 'ipv6';
  const max = v === 4 ? 32 : 128;
  if (bits === undefined) return { address, prefix: max, family };
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) throw new Error('has an invalid prefix length');
  return { address, prefix: Number(bits), family };
}
