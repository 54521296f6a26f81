import { createHash, randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { LoginMethod } from '@musubi/contracts';
import { REDIS } from '@musubi/platform/runtime';

export interface SessionRecord {
  readonly tenantId: string;
  readonly userId: string;
  readonly createdAt: number;
  readonly absoluteExpiresAt: number;
  /** The tenant's idle timeout when the session began. */
  readonly idleMs: number;
  readonly mustChangePassword: boolean;
  readonly passwordChangeReason: 'temporary' | 'expired' | null;
  readonly passwordExpiresSoon: number | null;
  readonly method: LoginMethod;
  /** Last authentication (OIDC auth_time), ms. */
  readonly authTime: number;
  readonly amr: readonly string[];
  readonly ip: string;
  readonly userAgent: string;
  readonly lastSeenAt: number;
}

export type NewSession = Omit<SessionRecord, 'createdAt' | 'absoluteExpiresAt' | 'lastSeenAt' | 'authTime'> & { readonly absoluteMs: number };

/** The public handle of a session: the digest its Redis key is made of. Naming it does not let anyone use it. */
export const handleOf = (id: string): string => createHash('sha256').update(id).digest('base64url');
const keyOfHandle = (handle: string) => `authn:session:${handle}`;
const userIndexOf = (tenantId: string, userId: string) => `authn:user-sessions:${tenantId}:${userId}`;
/** 256 random bits. */
const newId = () => randomBytes(32).toString('base64url');

/** The longest absolute session a tenant may set (720 hours), and a day more. */
const INDEX_TTL_MS = 721 * 3_600_000;
/** lastSeenAt is rewritten at most this often (a read is not a write on every request). */
const TOUCH_MS = 60_000;

/**
 * Opaque sessions in Redis: 256-bit random ids, stored under a digest (a dump
 * of Redis gives nobody a usable session); idle timeout as the key's TTL
 * (renewed on use), absolute timeout inside the record. Each user's sessions
 * are indexed so they can be listed and ended together.
 */
@Injectable()
export class SessionStore {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async create(fields: NewSession, now = Date.now()): Promise<{ id: string; record: SessionRecord }> {
    const id = newId();
    const { absoluteMs, ...rest } = fields;
    const record: SessionRecord = { ...rest, createdAt: now, absoluteExpiresAt: now + absoluteMs, lastSeenAt: now, authTime: now };
    await this.write(handleOf(id), record, now);
    return { id, record };
  }

  private async write(handle: string, record: SessionRecord, now: number, dropHandle?: string): Promise<void> {
    const index = userIndexOf(record.tenantId, record.userId);
    const ttl = Math.max(1, Math.min(record.idleMs, record.absoluteExpiresAt - now));
    const m = this.redis.multi();
    if (dropHandle) m.del(keyOfHandle(dropHandle)).srem(index, dropHandle);
    await m
      .set(keyOfHandle(handle), JSON.stringify(record), 'PX', ttl)
      .sadd(index, handle)
      // Outlives every session in it (no policy allows longer); dead entries are pruned when listed.
      .pexpire(index, INDEX_TTL_MS)
      .exec();
  }

  private async read(handle: string, now: number): Promise<SessionRecord | null> {
    const raw = await this.redis.get(keyOfHandle(handle));
    if (!raw) return null;
    const record = JSON.parse(raw) as SessionRecord;
    if (record.absoluteExpiresAt <= now) {
      await this.redis.multi().del(keyOfHandle(handle)).srem(userIndexOf(record.tenantId, record.userId), handle).exec();
      return null;
    }
    return record;
  }

  /** The live session for an id, its idle timer renewed; null when unknown, idle too long or past its absolute end. */
  async get(id: string, now = Date.now()): Promise<SessionRecord | null> {
    const handle = handleOf(id);
    const record = await this.read(handle, now);
    if (!record) return null;
    const ttl = Math.max(1, Math.min(record.idleMs, record.absoluteExpiresAt - now));
    if (now - record.lastSeenAt > TOUCH_MS) {
      const touched = { ...record, lastSeenAt: now };
      await this.redis.set(keyOfHandle(handle), JSON.stringify(touched), 'PX', ttl);
      return touched;
    }
    await this.redis.pexpire(keyOfHandle(handle), ttl);
    return record;
  }

  /** When the session really ends (the earlier of idle and absolute limits, from now). */
  expiresAt(record: SessionRecord, now = Date.now()): number {
    return Math.min(now + record.idleMs, record.absoluteExpiresAt);
  }

  async delete(id: string): Promise<void> {
    await this.deleteByHandle(handleOf(id));
  }

  async deleteByHandle(handle: string): Promise<void> {
    const raw = await this.redis.get(keyOfHandle(handle));
    const m = this.redis.multi().del(keyOfHandle(handle));
    if (raw) {
      const r = JSON.parse(raw) as SessionRecord;
      m.srem(userIndexOf(r.tenantId, r.userId), handle);
    }
    await m.exec();
  }

  /**
   * A new id for the same session (after a password change or a step-up), the
   * old id dead at once. `reauthenticated` renews auth_time and adds to amr.
   */
  async rotate(
    id: string,
    patch: Partial<Pick<SessionRecord, 'mustChangePassword' | 'passwordChangeReason' | 'passwordExpiresSoon'>>,
    reauthenticated?: string,
    now = Date.now(),
  ): Promise<{ id: string; record: SessionRecord } | null> {
    const oldHandle = handleOf(id);
    const current = await this.read(oldHandle, now);
    if (!current) return null;
    const nextId = newId();
    const record: SessionRecord = {
      ...current,
      ...patch,
      lastSeenAt: now,
      ...(reauthenticated ? { authTime: now, amr: current.amr.includes(reauthenticated) ? current.amr : [...current.amr, reauthenticated] } : {}),
    };
    await this.write(handleOf(nextId), record, now, oldHandle);
    return { id: nextId, record };
  }

  /** A user's live sessions with their handles, oldest first; dead index entries are dropped. */
  async list(tenantId: string, userId: string, now = Date.now()): Promise<Array<{ handle: string; record: SessionRecord }>> {
    const index = userIndexOf(tenantId, userId);
    const handles = await this.redis.smembers(index);
    if (handles.length === 0) return [];
    const raws = await this.redis.mget(handles.map(keyOfHandle));
    const live: Array<{ handle: string; record: SessionRecord }> = [];
    const dead: string[] = [];
    handles.forEach((h, i) => {
      const raw = raws[i];
      const record = raw ? (JSON.parse(raw) as SessionRecord) : null;
      if (record && record.absoluteExpiresAt > now) live.push({ handle: h, record });
      else dead.push(h);
    });
    if (dead.length > 0) await this.redis.srem(index, ...dead);
    return live.sort((a, b) => a.record.createdAt - b.record.createdAt);
  }

  /** Ends every session of a user; returns how many were live. */
  async deleteAll(tenantId: string, userId: string): Promise<number> {
    const index = userIndexOf(tenantId, userId);
    const handles = await this.redis.smembers(index);
    if (handles.length === 0) return 0;
    const results = await this.redis.multi().del(...handles.map(keyOfHandle)).del(index).exec();
    const deleted = results?.[0]?.[1];
    return typeof deleted === 'number' ? deleted : 0;
  }
}
