import { Controller, Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  INTROSPECTION_FEED_HEARTBEAT_MS,
  INTROSPECTION_FEED_SUBJECT,
  type CallContext,
  type IntrospectionChange,
  type IntrospectionFeedMessage,
  type ReplyOf,
  type RequestOf,
} from '@musubi/contracts';
import { Handles } from '@musubi/platform/bus';
import { DomainError } from '@musubi/platform/errors';
import type { Logger } from '@musubi/platform/logging';
import { CONFIG, LOGGER, NATS } from '@musubi/platform/runtime';
import { ClientCache } from '../clients/client-cache.js';
import type { FederationConfig } from '../config/env.schema.js';
import { ChangeFeed } from './change-feed.js';

/** A NOTIFY payload of the change feed as a feed change; null for one the gateway has no use for. */
export function toChange(payload: string): IntrospectionChange | null {
  if (payload.startsWith('j:')) {
    const i = payload.lastIndexOf(':');
    const exp = Number(payload.slice(i + 1));
    return i > 2 && Number.isSafeInteger(exp) ? { k: 'j', jti: payload.slice(2, i), exp } : null;
  }
  if (payload.startsWith('g:')) return { k: 'g', id: payload.slice(2) };
  if (payload.startsWith('c:')) {
    const i = payload.indexOf('/');
    return i > 2 ? { k: 'c', tenantId: payload.slice(2, i), clientId: payload.slice(i + 1) } : null;
  }
  if (payload.startsWith('k:')) return { k: 'k', tenantId: payload.slice(2) };
  return null;
}

/**
 * Relays every committed change of the federation change feed (revocations,
 * client and key changes) to the gateways, in order, numbered per LISTEN
 * connection, with a heartbeat: a gateway answering introspection itself
 * learns of a revocation milliseconds after its commit, and of a lost message
 * or a silent replica within a heartbeat (then it asks federation again).
 */
@Injectable()
export class IntrospectionFeedPublisher implements OnApplicationBootstrap, OnModuleDestroy {
  private source = '';
  private seq = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly feed: ChangeFeed,
    @Inject(NATS) private readonly nc: NatsConnection,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    feed.onNotice((payload) => {
      const change = toChange(payload);
      if (change) this.publish(change);
    });
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.publish(undefined), INTROSPECTION_FEED_HEARTBEAT_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private publish(change: IntrospectionChange | undefined): void {
    const source = this.feed.source;
    if (source !== this.source) {
      this.source = source;
      this.seq = 0;
    }
    // Counted before sending: a message that fails to go shows as a gap to the gateways.
    if (change) this.seq += 1;
    const msg: IntrospectionFeedMessage = { source, seq: this.seq, ready: this.feed.live, ...(change ? { change } : {}) };
    try {
      if (!this.nc.isClosed()) this.nc.publish(INTROSPECTION_FEED_SUBJECT, JSON.stringify(msg));
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'introspection feed: publish failed; gateways will see a gap and ask again');
    }
  }
}

/** Only the gateway may read secret hashes and the revocation index. */
function gatewayOnly(ctx: CallContext): void {
  if (ctx.caller.kind !== 'service' || ctx.caller.service !== 'gateway') throw new DomainError('forbidden', 'Only the gateway may read this.');
}

/** The snapshot and the client records behind a gateway's own introspection. */
@Controller()
export class IntrospectionStateHandler {
  private readonly ttlSeconds: number;

  constructor(
    private readonly feed: ChangeFeed,
    private readonly clients: ClientCache,
    @Inject(CONFIG) config: FederationConfig,
  ) {
    this.ttlSeconds = config.OIDC_ACCESS_TOKEN_TTL_SECONDS;
  }

  @Handles('musubi.federation.introspection-state.get.v1')
  state(_req: RequestOf<'musubi.federation.introspection-state.get.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.federation.introspection-state.get.v1'>> {
    gatewayOnly(ctx);
    const r = this.feed.revocations();
    return Promise.resolve({ ready: r !== null, accessTokenTtlSeconds: this.ttlSeconds, revokedTokens: r?.tokens ?? [], revokedGrants: r?.grants ?? [] });
  }

  @Handles('musubi.federation.client-credential.get.v1')
  async credential(req: RequestOf<'musubi.federation.client-credential.get.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.federation.client-credential.get.v1'>> {
    gatewayOnly(ctx);
    // Read from Postgres, not the few-seconds cache: the gateway keeps this until told of a change.
    this.clients.forget(req.tenantId, req.clientId);
    const c = await this.clients.get(req.tenantId, req.clientId);
    return { client: c ? { clientId: c.id, tokenEndpointAuthMethod: c.settings.tokenEndpointAuthMethod, secretHash: c.secretHash ? c.secretHash.toString('base64url') : null } : null };
  }
}
