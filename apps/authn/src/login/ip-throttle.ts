import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { REDIS } from '@musubi/platform/runtime';

/**
 * Fixed-window counters per source IP in Redis (losing them to a flush only
 * forgives some failures; account lockout itself is in Postgres). Keys carry
 * a digest of the address, not the address.
 */
@Injectable()
export class IpThrottle {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  private key(kind: string, ip: string, windowMs: number, now: number): string {
    const window = Math.floor(now / windowMs);
    return `authn:throttle:${kind}:${createHash('sha256').update(ip).digest('base64url').slice(0, 22)}:${window}`;
  }

  /** How many were counted in the current window. */
  async count(kind: string, ip: string, windowMs: number, now = Date.now()): Promise<number> {
    return Number((await this.redis.get(this.key(kind, ip, windowMs, now))) ?? 0);
  }

  /** Counts one more; returns the count including it. */
  async hit(kind: string, ip: string, windowMs: number, now = Date.now()): Promise<number> {
    const key = this.key(kind, ip, windowMs, now);
    const res = await this.redis.multi().incr(key).pexpire(key, windowMs).exec();
    const n = res?.[0]?.[1];
    return typeof n === 'number' ? n : 0;
  }
}
