import { createPublicKey, type KeyObject } from 'node:crypto';
import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import {
  INTROSPECTION_FEED_HEARTBEAT_MS,
  INTROSPECTION_FEED_SUBJECT,
  IntrospectionFeedMessage,
  type CallContext,
  type ClientCredentialReply,
  type IntrospectionChange,
  type IntrospectionState as Snapshot,
  type RevocationReply,
  type SigningAlg,
} from '@musubi/contracts';
import { BusClient } from '@musubi/platform/bus';
import type { Logger } from '@musubi/platform/logging';
import { LOGGER, NATS } from '@musubi/platform/runtime';
import { validate } from '@musubi/platform/validation';

/** A replica unheard for this long may have said something we missed: the copy is not trusted until a new snapshot. */
export const FEED_SILENCE_MS = INTROSPECTION_FEED_HEARTBEAT_MS * 4;
const FORGET_SOURCE_MS = 30_000;

/**
 * Whether the gateway's copy of federation's revocations and client/key
 * changes is current, from the feed's messages alone (no I/O: unit-tested).
 *
 * Current means: a snapshot was taken after every source we hear from was
 * first heard (so nothing a source said before we heard it is missing), no
 * source skipped a number or fell silent since, and at least one source
 * whose own index is live was heard within FEED_SILENCE_MS. Anything else
 * starts a new epoch: the copy is untrusted until a snapshot asked for in that
 * epoch comes back.
 */
export class FeedTracker {
  private readonly sources = new Map<string, { seq: number; heard: number; ready: boolean }>();
  private epoch = 0;
  private synced = false;

  /** Takes one feed message; true when the copy just stopped being trusted (ask for a snapshot, drop caches). */
  onMessage(m: { source: string; seq: number; ready: boolean; change?: unknown }, now: number): boolean {
    const s = this.sources.get(m.source);
    let broken = false;
    if (!s) broken = true;
    else if (now - s.heard > FEED_SILENCE_MS) broken = true;
    else if (m.change === undefined ? m.seq !== s.seq : m.seq !== s.seq + 1) broken = true;
    this.sources.set(m.source, { seq: m.seq, heard: now, ready: m.ready });
    return broken ? this.invalidate() : false;
  }

  /** The copy can no longer be trusted (gap, new source, lost connection); true if it was trusted until now. */
  invalidate(): boolean {
    this.epoch += 1;
    const was = this.synced;
    this.synced = false;
    return was;
  }

  /** The epoch to hand back with the snapshot asked for now. */
  snapshotStarted(): number {
    return this.epoch;
  }

  /** A snapshot asked for in `epoch` arrived; it makes the copy current only if nothing broke since it was asked for. */
  snapshotApplied(epoch: number): boolean {
    if (epoch !== this.epoch) return false;
    this.synced = true;
    return true;
  }

  get needsSnapshot(): boolean {
    return !this.synced;
  }

  current(now: number): boolean {
    if (!this.synced) return false;
    let live = false;
    for (const [id, s] of this.sources) {
      const age = now - s.heard;
      if (age > FORGET_SOURCE_MS) this.sources.delete(id);
      else if (s.ready && age <= FEED_SILENCE_MS) live = true;
    }
    return live;
  }
}

export interface ClientRecord {
  readonly clientId: string;
  readonly tokenEndpointAuthMethod: NonNullable<ClientCredentialReply['client']>['tokenEndpointAuthMethod'];
  readonly secretHash: Buffer | null;
}

export interface VerificationKey {
  readonly alg: SigningAlg;
  readonly key: KeyObject;
}

const CLIENT_TTL_MS = 60_000;
const MISSING_CLIENT_TTL_MS = 5_000;
const KEYS_TTL_MS = 300_000;
const MAX_ENTRIES = 20_000;

const AS_GATEWAY: CallContext = { requestId: 'introspection-state', tenantId: null, caller: { kind: 'service', service: 'gateway' } };

/**
 * The gateway's copy of what token introspection needs from federation:
 * revoked access tokens and grants (a snapshot, kept up to date by
 * federation's live feed), client authentication records and each tenant's
 * verification keys (read on first use, dropped when the feed says they
 * changed). `current()` says whether the copy may be trusted right now; when
 * not, callers ask federation instead.
 */
@Injectable()
export class IntrospectionState implements OnApplicationBootstrap, OnModuleDestroy {
  readonly tracker = new FeedTracker();
  private readonly jtis = new Map<string, number>();
  private readonly grants = new Map<string, number>();
  private ttlMs = 0;
  private readonly clients = new Map<string, { record: ClientRecord | null; until: number }>();
  private readonly keys = new Map<string, { byKid: Map<string, VerificationKey>; until: number }>();
  /** Bumped by every change notice and every loss of trust: a read started before it is not cached. */
  private generation = 0;
  /** Bumped whenever keys may have changed: signatures checked before do not count any more. */
  keysGeneration = 0;
  private sub: Subscription | null = null;
  private syncing = false;
  private stopped = false;
  private sweep: NodeJS.Timeout | null = null;

  constructor(
    private readonly bus: BusClient,
    @Inject(NATS) private readonly nc: NatsConnection,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.sub = this.nc.subscribe(INTROSPECTION_FEED_SUBJECT, { callback: (err, msg) => (err ? this.lost() : this.onFeed(msg.data)) });
    this.sweep = setInterval(() => this.dropExpired(), 60_000);
    this.sweep.unref();
    // Subscribed first, then the snapshot: nothing said in between is missed.
    void this.sync();
  }

  onModuleDestroy(): void {
    this.stopped = true;
    if (this.sweep) clearInterval(this.sweep);
    this.sub?.unsubscribe();
    this.sub = null;
  }

  current(): boolean {
    return this.tracker.current(Date.now());
  }

  isRevoked(jti: string, grantId: string | null): boolean {
    return this.jtis.has(jti) || (grantId !== null && this.grants.has(grantId));
  }

  /** Marks what federation just said it revoked (this gateway passed the revocation on): read-your-writes without waiting for the feed. */
  revoked(reply: Record<string, unknown>): void {
    const { accessToken, grantId } = reply as Partial<Extract<RevocationReply, { kind: 'revoked' }>>;
    if (accessToken && typeof accessToken.jti === 'string' && typeof accessToken.exp === 'number') this.jtis.set(accessToken.jti, accessToken.exp);
    if (typeof grantId === 'string') this.grants.set(grantId, Date.now() + Math.max(this.ttlMs, 3_600_000));
  }

  /** A tenant's client's authentication record; null when it has none by that id. */
  async client(tenantId: string, clientId: string): Promise<ClientRecord | null> {
    const key = `${tenantId}/${clientId}`;
    const hit = this.clients.get(key);
    const now = Date.now();
    if (hit && hit.until > now) return hit.record;
    const gen = this.generation;
    const reply = await this.bus.request('musubi.federation.client-credential.get.v1', { tenantId, clientId }, { ...AS_GATEWAY, tenantId });
    const c = reply.client;
    const record = c ? { clientId: c.clientId, tokenEndpointAuthMethod: c.tokenEndpointAuthMethod, secretHash: c.secretHash === null ? null : Buffer.from(c.secretHash, 'base64url') } : null;
    if (gen === this.generation) {
      if (this.clients.size >= MAX_ENTRIES) this.clients.clear();
      this.clients.set(key, { record, until: now + (record ? CLIENT_TTL_MS : MISSING_CLIENT_TTL_MS) });
    }
    return record;
  }

  /** One of the tenant's published verification keys; null when the JWKS has no such kid (federation may know a newer one). */
  async key(tenantId: string, kid: string): Promise<VerificationKey | null> {
    const now = Date.now();
    let entry = this.keys.get(tenantId);
    if (!entry || entry.until <= now) {
      const gen = this.generation;
      const set = await this.bus.request('musubi.federation.jwks.get.v1', { tenantId }, { ...AS_GATEWAY, tenantId });
      const byKid = new Map<string, VerificationKey>();
      for (const jwk of set.keys) {
        const alg = jwk['alg'];
        const id = jwk['kid'];
        if ((alg !== 'ES256' && alg !== 'RS256') || typeof id !== 'string') continue;
        try {
          byKid.set(id, { alg, key: createPublicKey({ key: jwk as never, format: 'jwk' }) });
        } catch {
          // A key this gateway cannot read verifies nothing here; federation is asked for tokens it signed.
        }
      }
      entry = { byKid, until: now + KEYS_TTL_MS };
      if (gen === this.generation) {
        if (this.keys.size >= MAX_ENTRIES) this.keys.clear();
        this.keys.set(tenantId, entry);
      }
    }
    return entry.byKid.get(kid) ?? null;
  }

  private onFeed(data: Uint8Array): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(data).toString('utf8'));
    } catch {
      parsed = undefined;
    }
    const checked = validate(IntrospectionFeedMessage, parsed);
    if (!checked.ok) {
      this.logger.warn({ details: checked.details }, 'introspection feed: unreadable message; asking federation until a new snapshot');
      this.lost();
      return;
    }
    const msg = checked.value;
    // The change first (always safe to apply), then the bookkeeping.
    if (msg.change) this.apply(msg.change);
    if (this.tracker.onMessage(msg, Date.now()) || this.tracker.needsSnapshot) this.resync();
  }

  private apply(c: IntrospectionChange): void {
    switch (c.k) {
      case 'j':
        this.jtis.set(c.jti, c.exp);
        return;
      case 'g':
        this.grants.set(c.id, Date.now() + this.ttlMs);
        return;
      case 'c':
        this.generation += 1;
        this.clients.delete(`${c.tenantId}/${c.clientId}`);
        return;
      case 'k':
        this.generation += 1;
        this.keysGeneration += 1;
        this.keys.delete(c.tenantId);
        return;
    }
  }

  private lost(): void {
    this.tracker.invalidate();
    this.resync();
  }

  /** Trust is gone: client and key changes may have been missed too, so those caches go as well; then a new snapshot. */
  private resync(): void {
    this.generation += 1;
    this.keysGeneration += 1;
    this.clients.clear();
    this.keys.clear();
    void this.sync();
  }

  private async sync(): Promise<void> {
    if (this.syncing) return;
    this.syncing = true;
    try {
      while (!this.stopped && this.tracker.needsSnapshot) {
        const epoch = this.tracker.snapshotStarted();
        let snap: Snapshot | null = null;
        try {
          snap = await this.bus.request('musubi.federation.introspection-state.get.v1', {}, AS_GATEWAY);
        } catch (err) {
          this.logger.debug({ err: (err as Error).message }, 'introspection snapshot not available yet');
        }
        if (snap?.ready) {
          this.ttlMs = snap.accessTokenTtlSeconds * 1000;
          for (const t of snap.revokedTokens) this.jtis.set(t.jti, t.exp);
          for (const g of snap.revokedGrants) this.grants.set(g.id, g.until);
          if (this.tracker.snapshotApplied(epoch)) break;
        }
        await new Promise((r) => setTimeout(r, snap?.ready ? 20 : 500).unref());
      }
    } finally {
      this.syncing = false;
    }
  }

  private dropExpired(): void {
    const now = Date.now();
    for (const [k, until] of this.jtis) if (until <= now) this.jtis.delete(k);
    for (const [k, until] of this.grants) if (until <= now) this.grants.delete(k);
  }
}
