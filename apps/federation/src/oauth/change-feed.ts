import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { runSql, type Tx } from '@musubi/platform/db';
import type { Logger } from '@musubi/platform/logging';
import { CONFIG, LOGGER } from '@musubi/platform/runtime';
import type { FederationConfig } from '../config/env.schema.js';

export const REVOCATION_CHANNEL = 'federation_revocations';
const MAX_ENTRIES = 1_000_000;

/**
 * The federation change feed between replicas (Postgres LISTEN/NOTIFY): which
 * access tokens are revoked, and which clients and signing keys changed. Revocations in memory: every introspection and userinfo
 * call asks, and a Postgres round trip each time was most of their cost.
 * Postgres stays the source of truth: revocations are written there, and each
 * writing transaction also NOTIFYs them (delivered on commit) to every
 * replica's index. An index whose LISTEN connection is down says "unknown",
 * and the caller asks Postgres instead, until a reload after reconnecting.
 *
 * Only revocations younger than the access-token lifetime matter: a token is
 * never issued from a revoked grant, so a grant revoked longer ago than that
 * has no live access token left.
 */
@Injectable()
export class ChangeFeed implements OnModuleInit, OnModuleDestroy {
  private readonly jtis = new Map<string, number>();
  private readonly grants = new Map<string, number>();
  private readonly ttlMs: number;
  private listener: pg.Client | null = null;
  private ready = false;
  private stopped = false;
  private sweep: NodeJS.Timeout | null = null;
  private readonly clientListeners: Array<(key: string) => void> = [];
  private readonly keyListeners: Array<(tenantId: string) => void> = [];
  private readonly noticeListeners: Array<(payload: string) => void> = [];
  /** This replica, and which of its LISTEN connections: a reconnect may have missed notifications, so it is a new source. */
  private readonly replica = randomUUID();
  private generation = 0;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(CONFIG) private readonly config: FederationConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.ttlMs = config.OIDC_ACCESS_TOKEN_TTL_SECONDS * 1000;
  }

  async onModuleInit(): Promise<void> {
    await this.connect();
    this.sweep = setInterval(() => this.dropExpired(), 60_000);
    this.sweep.unref();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    if (this.sweep) clearInterval(this.sweep);
    const l = this.listener;
    this.listener = null;
    this.ready = false;
    await l?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.config.DATABASE_URL, application_name: 'federation-revocations' });
    client.on('notification', (n) => {
      if (n.channel !== REVOCATION_CHANNEL || !n.payload) return;
      this.apply(n.payload);
      for (const l of this.noticeListeners) l(n.payload);
    });
    client.on('error', (err) => {
      this.logger.warn({ err: err.message }, 'revocation LISTEN connection lost; checking Postgres until it is back');
      if (this.listener === client) {
        this.listener = null;
        this.ready = false;
      }
      setTimeout(() => {
        if (!this.stopped && !this.listener) void this.connect();
      }, 1000).unref();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${REVOCATION_CHANNEL}`);
      this.listener = client;
      // Listening first, then loading: nothing committed in between is missed.
      await this.reload();
      this.generation += 1;
      this.ready = true;
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'revocation LISTEN failed; checking Postgres meanwhile');
      await client.end().catch(() => undefined);
      setTimeout(() => {
        if (!this.stopped && !this.listener) void this.connect();
      }, 1000).unref();
    }
  }

  private async reload(): Promise<void> {
    const since = new Date(Date.now() - this.ttlMs);
    const jtis = await runSql<{ jti: string; expires_at: Date }>(this.dataSource, undefined, 'SELECT jti, expires_at FROM revoked_tokens WHERE expires_at > now()');
    const grants = await runSql<{ id: string; revoked_at: Date }>(this.dataSource, undefined, 'SELECT id, revoked_at FROM grants WHERE revoked_at > $1', [since]);
    this.jtis.clear();
    this.grants.clear();
    for (const r of jtis) this.jtis.set(r.jti, r.expires_at.getTime());
    for (const r of grants) this.grants.set(r.id, r.revoked_at.getTime() + this.ttlMs);
  }

  /** `j:<jti>:<expires ms>`, `g:<grant id>`, `c:<tenant id>/<client id>` (a client changed) or `k:<tenant id>` (its keys changed): caches drop those. */
  private apply(payload: string): void {
    if (payload.startsWith('c:')) {
      for (const l of this.clientListeners) l(payload.slice(2));
      return;
    }
    if (payload.startsWith('k:')) {
      for (const l of this.keyListeners) l(payload.slice(2));
      return;
    }
    if (this.jtis.size + this.grants.size > MAX_ENTRIES) this.dropExpired();
    if (payload.startsWith('j:')) {
      const i = payload.lastIndexOf(':');
      this.jtis.set(payload.slice(2, i), Number(payload.slice(i + 1)));
    } else if (payload.startsWith('g:')) this.grants.set(payload.slice(2), Date.now() + this.ttlMs);
  }

  private dropExpired(): void {
    const now = Date.now();
    for (const [k, until] of this.jtis) if (until <= now) this.jtis.delete(k);
    for (const [k, until] of this.grants) if (until <= now) this.grants.delete(k);
  }

  /** Whether the index is live (its LISTEN connection up and loaded). */
  get live(): boolean {
    return this.ready;
  }

  /** Names this replica's current LISTEN connection: notifications are relayed in order under it. */
  get source(): string {
    return `${this.replica}:${this.generation}`;
  }

  /** Every notification as committed (from any replica), after it was applied here: for relaying to gateways. */
  onNotice(listener: (payload: string) => void): void {
    this.noticeListeners.push(listener);
  }

  /** The revocations still relevant (unexpired), for a gateway's snapshot; null when the index is not live. */
  revocations(): { tokens: Array<{ jti: string; exp: number }>; grants: Array<{ id: string; until: number }> } | null {
    if (!this.ready) return null;
    const now = Date.now();
    const tokens: Array<{ jti: string; exp: number }> = [];
    const grants: Array<{ id: string; until: number }> = [];
    for (const [jti, exp] of this.jtis) if (exp > now) tokens.push({ jti, exp });
    for (const [id, until] of this.grants) if (until > now) grants.push({ id, until });
    return { tokens, grants };
  }

  /** true/false when the index is live; null when it is not (ask Postgres). */
  isRevoked(jti: string, grantId: string | null): boolean | null {
    if (!this.ready) return null;
    return this.jtis.has(jti) || (grantId !== null && this.grants.has(grantId));
  }

  /** Tells every replica (on commit of `tx`) and this one (now) that a token is revoked. */
  async revokedToken(tx: Tx, jti: string, expiresAt: Date): Promise<void> {
    await this.notify(tx, `j:${jti}:${expiresAt.getTime()}`);
    this.apply(`j:${jti}:${expiresAt.getTime()}`);
  }

  /** Tells every replica (on commit of `tx`) and this one (now) that grants are revoked. */
  async revokedGrants(tx: Tx, ids: readonly string[]): Promise<void> {
    for (const id of ids) {
      await this.notify(tx, `g:${id}`);
      this.apply(`g:${id}`);
    }
  }

  /** Tells every replica (on commit of `tx`) that a client changed, so their caches read it again. */
  async clientChanged(tx: Tx, tenantId: string, clientId: string): Promise<void> {
    await this.notify(tx, `c:${tenantId}/${clientId}`);
  }

  /** Called with `<tenant id>/<client id>` whenever any replica changes a client. */
  onClientChanged(listener: (key: string) => void): void {
    this.clientListeners.push(listener);
  }

  /** Tells every replica (on commit of `tx`) that a tenant's signing keys changed (made, rotated). */
  async keysChanged(tx: Tx, tenantId: string): Promise<void> {
    await this.notify(tx, `k:${tenantId}`);
  }

  /** Called with the tenant id whenever any replica changes a tenant's signing keys. */
  onKeysChanged(listener: (tenantId: string) => void): void {
    this.keyListeners.push(listener);
  }

  private async notify(tx: Tx, payload: string): Promise<void> {
    await runSql(this.dataSource, tx, 'SELECT pg_notify($1, $2)', [REVOCATION_CHANNEL, payload]);
  }
}
