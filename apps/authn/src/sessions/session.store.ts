import { createHash, randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { CONFIG, REDIS } from '@musubi/platform/runtime';
import type { AuthnConfig } from '../config/env.schema.js';

export interface SessionRecord {
  readonly tenantId: string;
  readonly userId: string;
  readonly createdAt: number;
  readonly absoluteExpiresAt: number;
  readonly mustChangePassword: boolean;
  readonly method: 'pwd' | 'temp_pwd';
}

/** Redis keys hold a digest of the session id, so a dump of Redis gives nobody a usable session. */
const keyOf = (id: string) => `authn:session:${createHash('sha256').update(id).digest('base64url')}`;
const userIndexOf = (tenantId: string, userId: string) => `authn:user-sessions:${tenantId}:${userId}`;

/**
 * Opaque sessions: 256-bit random ids, idle timeout as the key's TTL (renewed on
 * use), absolute timeout inside the record. Each user's sessions are indexed so
 * an administrator (or a disabled account) can end them all.
 */
@Injectable()
export class SessionStore {
  private readonly idleMs: number;
  private readonly absoluteMs: number;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(CONFIG) config: AuthnConfig,
  ) {
    this.idleMs = config.SESSION_IDLE_MINUTES * 60_000;
    this.absoluteMs = config.SESSION_ABSOLUTE_HOURS * 3_600_000;
  }

  async create(fields: Omit<SessionRecord, 'createdAt' | 'absoluteExpiresAt'>, now = Date.now()): Promise<{ id: string; record: SessionRecord }> {
    const id = randomBytes(32).toString('base64url');
    const record: SessionRecord = { ...fields, createdAt: now, absoluteExpiresAt: now + this.absoluteMs };
    const key = keyOf(id);
    const index = userIndexOf(record.tenantId, record.userId);
    await this.redis.multi().set(key, JSON.stringify(record), 'PX', Math.min(this.idleMs, this.absoluteMs)).sadd(index, key).pexpire(index, this.absoluteMs).exec();
    return { id, record };
  }

  /** The live session for an id, its idle timer renewed; null when unknown, idle too long or past its absolute end. */
  async get(id: string, now = Date.now()): Promise<SessionRecord | null> {
    const key = keyOf(id);
    const raw = await this.redis.get(key);
    if (!raw) return null;
    const record = JSON.parse(raw) as SessionRecord;
    if (record.absoluteExpiresAt <= now) {
      await this.redis.del(key);
      return null;
    }
    await this.redis.pexpire(key, Math.min(this.idleMs, record.absoluteExpiresAt - now));
    return record;
  }

  /** When the session really ends (the earlier of idle and absolute limits, from now). */
  expiresAt(record: SessionRecord, now = Date.now()): number {
    return Math.min(now + this.idleMs, record.absoluteExpiresAt);
  }

  async delete(id: string): Promise<void> {
    await this.redis.del(keyOf(id));
  }

  /** A new id for the same session (after a password change or a step-up), the old id dead at once. */
  async rotate(id: string, patch: Partial<Pick<SessionRecord, 'mustChangePassword'>>, now = Date.now()): Promise<{ id: string; record: SessionRecord } | null> {
    const current = await this.get(id, now);
    if (!current) return null;
    const nextId = randomBytes(32).toString('base64url');
    const record: SessionRecord = { ...current, ...patch };
    const ttl = Math.max(1, Math.min(this.idleMs, record.absoluteExpiresAt - now));
    await this.redis
      .multi()
      .del(keyOf(id))
      .set(keyOf(nextId), JSON.stringify(record), 'PX', ttl)
      .sadd(userIndexOf(record.tenantId, record.userId), keyOf(nextId))
      .exec();
    return { id: nextId, record };
  }
}
