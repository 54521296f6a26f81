import { Inject, Injectable } from '@nestjs/common';
import type { CallContext, Caller, EventEnvelope } from '@musubi/contracts';
import { uuidv7 } from '@musubi/platform/bus';
import { UnitOfWork, type Tx } from '@musubi/platform/db';
import type { Logger } from '@musubi/platform/logging';
import { CONFIG, LOGGER } from '@musubi/platform/runtime';
import { CHAIN_FORMAT, recordHash, type ChainRecord, type ChainedRecord, type Json } from '../chain/offline-verifier.js';
import type { AuditConfig } from '../config/env.schema.js';
import { classify, type Classified } from './classify.js';
import { cleanString, redact } from './redact.js';
import { addDays, isTimeZone, utcDay } from './time.js';
import { isMissingPartition, TrailRepository, type LockedHead, type SettingsRow } from './trail.repository.js';

/** The chain of events that belong to no tenant (platform-level events). */
export const PLATFORM_CHAIN = '00000000-0000-0000-0000-000000000000';

export const tenantKey = (tenantId: string | null): string => (tenantId ?? PLATFORM_CHAIN).toLowerCase();

/** An event made ready for the chain: everything but its place in it (seq, times, hashes). */
interface Prepared {
  readonly tenantId: string;
  readonly id: string;
  readonly type: string;
  readonly occurredAt: string;
  readonly requestId: string | null;
  readonly actor: Caller;
  readonly payload: unknown;
  readonly derived: Classified;
  /** A time zone this event tells about its tenant (directory's tenant events). */
  readonly timeZone: string | null;
}

/** Work done under the chain locks, in the same transaction as the append. */
export type UnderLock = (tx: Tx, heads: ReadonlyMap<string, LockedHead>) => Promise<void>;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** directory's tenant events carry the tenant (created) or its state before and after (changes). */
function timeZoneIn(subject: string, payload: unknown): string | null {
  if (!subject.startsWith('musubi.directory.tenant.') || !isObj(payload)) return null;
  const tenant = isObj(payload['after']) ? payload['after'] : isObj(payload['tenant']) ? payload['tenant'] : null;
  const tz = tenant?.['timeZone'];
  return typeof tz === 'string' && isTimeZone(tz) ? tz : null;
}

function prepare(e: EventEnvelope): Prepared {
  return {
    tenantId: tenantKey(e.tenantId),
    id: e.id.toLowerCase(),
    type: e.subject,
    occurredAt: new Date(e.occurredAt).toISOString(),
    requestId: e.requestId === null ? null : cleanString(e.requestId),
    actor: redact(e.actor) as Caller,
    payload: redact(e.payload),
    derived: classify(e.subject, e.payload, e.actor),
    timeZone: timeZoneIn(e.subject, e.payload),
  };
}

/**
 * Appends events to their tenants' hash chains, exactly once each.
 *
 * One transaction per batch: claim the event ids (a redelivered one is already
 * claimed and skipped), lock the chain heads of the tenants involved (in one
 * order, so replicas take turns per tenant and never deadlock), chain the new
 * records after each head — seq + 1, hash over the previous hash and the
 * canonical record — and append them through `audit.append`, which checks
 * they continue their chains. Records get the database's clock as recordedAt
 * (never earlier than the head's) and expire `retention` days after it (never
 * earlier than the head, so the purge always removes a chain's oldest records).
 */
@Injectable()
export class AuditTrail {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly repo: TrailRepository,
    @Inject(CONFIG) private readonly config: AuditConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Records a batch of events (stream order); returns how many were new. */
  async record(events: readonly EventEnvelope[], underLock?: UnderLock): Promise<number> {
    const seen = new Set<string>();
    const prepared: Prepared[] = [];
    for (const e of events) {
      const p = prepare(e);
      if (seen.has(p.id)) continue;
      seen.add(p.id);
      prepared.push(p);
    }
    if (prepared.length === 0) return 0;
    for (let attempt = 0; ; attempt++) {
      const days = new Set<string>();
      try {
        return await this.uow.run((tx) => this.appendIn(tx, prepared, days, underLock));
      } catch (err) {
        if (!isMissingPartition(err) || attempt >= 2) throw err;
        for (const day of days) await this.repo.ensurePartition(day);
        this.logger.info({ days: [...days] }, 'created missing audit partitions');
      }
    }
  }

  /** A record audit makes itself (an operator's read, a settings change), appended at once. */
  async recordOwn(type: string, tenantId: string, ctx: CallContext, payload: Record<string, unknown>, underLock?: UnderLock): Promise<void> {
    const envelope: EventEnvelope = { id: uuidv7(), subject: type, occurredAt: new Date().toISOString(), tenantId, requestId: ctx.requestId, actor: ctx.caller, payload };
    await this.record([envelope], underLock);
  }

  private async appendIn(tx: Tx, prepared: readonly Prepared[], days: Set<string>, underLock?: UnderLock): Promise<number> {
    const fresh = await this.repo.claim(
      tx,
      prepared.map((p) => p.id),
    );
    const todo = prepared.filter((p) => fresh.has(p.id));
    if (todo.length === 0 && !underLock) return 0;
    const tenants = [...new Set(todo.map((p) => p.tenantId))].sort();
    const heads = await this.repo.lockHeads(tx, tenants);
    const chained: ChainedRecord[] = [];
    const cursor = new Map<string, { seq: number; hash: Buffer; recordedAt: string; expiresOn: string; timeZone: string | null }>();
    const settings: SettingsRow[] = [];
    for (const p of todo) {
      const head = heads.get(p.tenantId);
      if (!head) throw new Error(`no chain head for tenant ${p.tenantId}`);
      let at = cursor.get(p.tenantId);
      if (!at) {
        const now = Math.max(head.clock.getTime(), head.recordedAt.getTime());
        const recordedAt = new Date(now).toISOString();
        const retention = head.retentionDays ?? this.config.AUDIT_RETENTION_DAYS;
        const byRetention = addDays(utcDay(new Date(now)), retention);
        const expiresOn = byRetention > head.expiresOn ? byRetention : head.expiresOn;
        at = { seq: head.seq, hash: head.hash, recordedAt, expiresOn, timeZone: head.timeZone };
        cursor.set(p.tenantId, at);
        days.add(expiresOn);
      }
      const record: ChainRecord = {
        v: CHAIN_FORMAT,
        tenantId: p.tenantId,
        seq: at.seq + 1,
        id: p.id,
        type: p.type,
        category: p.derived.category,
        occurredAt: p.occurredAt,
        recordedAt: at.recordedAt,
        expiresOn: at.expiresOn,
        requestId: p.requestId,
        actor: p.actor,
        actorId: p.derived.actorId,
        targetType: p.derived.targetType,
        targetId: p.derived.targetId,
        targetUserId: p.derived.targetUserId,
        result: p.derived.result,
        method: p.derived.method,
        ip: p.derived.ip,
        userAgent: p.derived.userAgent,
        device: p.derived.device,
        application: p.derived.application,
        changes: (p.derived.changes as Json) ?? null,
        payload: p.payload as Json,
      };
      const hash = recordHash(at.hash, record);
      chained.push({ record, prevHash: at.hash, hash });
      at.seq = record.seq;
      at.hash = hash;
      if (p.timeZone && p.timeZone !== at.timeZone) {
        settings.push({ tenantId: p.tenantId, timeZone: p.timeZone, retentionDays: null, source: p.id });
        at.timeZone = p.timeZone;
      }
    }
    // Within the same lock: a settings change and the record of it commit together.
    if (underLock) await underLock(tx, heads);
    const stored = chained.length > 0 ? await this.repo.append(tx, chained) : 0;
    await this.repo.insertSettings(tx, settings);
    return stored;
  }
}
