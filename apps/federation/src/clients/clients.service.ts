import { Injectable } from '@nestjs/common';
import type { CallContext, OidcClientView, OidcClientWithSecret, ReplyOf, RequestOf } from '@musubi/contracts';
import { authorize } from '@musubi/platform/authz';
import { BusClient, OutboxWriter, uuidv7 } from '@musubi/platform/bus';
import { UnitOfWork, decodeCursor, encodeCursor } from '@musubi/platform/db';
import { DomainError } from '@musubi/platform/errors';
import { hashToken, randomToken } from '../crypto/opaque-token.js';
import { GrantRepository } from '../oauth/grant.repository.js';
import { ChangeFeed } from '../oauth/change-feed.js';
import { ClientCache } from './client-cache.js';
import { checkSettings, clientView, DEFAULT_SETTINGS, type ClientSettings, type OidcClient } from './client.js';
import { ClientRepository } from './client.repository.js';

const needsSecret = (s: ClientSettings): boolean => s.type === 'confidential' && (s.tokenEndpointAuthMethod === 'client_secret_basic' || s.tokenEndpointAuthMethod === 'client_secret_post');

@Injectable()
export class ClientsService {
  constructor(
    private readonly clients: ClientRepository,
    private readonly grants: GrantRepository,
    private readonly revocations: ChangeFeed,
    private readonly cache: ClientCache,
    private readonly uow: UnitOfWork,
    private readonly outbox: OutboxWriter,
    private readonly bus: BusClient,
  ) {}

  /** Clients are registered for live tenants only. */
  private async assertTenant(tenantId: string): Promise<void> {
    try {
      const t = await this.bus.request('musubi.directory.tenant.get.v1', { id: tenantId }, { requestId: `fed-${tenantId}`, tenantId, caller: { kind: 'service', service: 'federation' } });
      if (t.status !== 'active') throw new DomainError('conflict', `The tenant is ${t.status}.`);
    } catch (err) {
      if (err instanceof DomainError && err.code === 'not_found') throw new DomainError('not_found', 'No such tenant.');
      throw err;
    }
  }

  async create(req: RequestOf<'musubi.federation.client.create.v1'>, ctx: CallContext): Promise<OidcClientWithSecret> {
    authorize(ctx, req.tenantId, 'apps:write');
    const type = req.type ?? 'confidential';
    const { tenantId: _t, type: _ty, ...given } = req;
    const scopes = req.scopes ?? DEFAULT_SETTINGS.scopes;
    const settings: ClientSettings = {
      ...DEFAULT_SETTINGS,
      tokenEndpointAuthMethod: type === 'public' ? 'none' : 'client_secret_basic',
      // Unless told, what needs no consent is the sign-in itself and basic profile, of what the client may ask.
      defaultScopes: scopes.filter((s) => ['openid', 'profile', 'email'].includes(s)),
      ...given,
      name: req.name.trim(),
      type,
    };
    checkSettings(settings);
    await this.assertTenant(req.tenantId);
    const now = new Date();
    const secret = needsSecret(settings) ? randomToken(32) : null;
    const client: OidcClient = {
      id: uuidv7(now.getTime()),
      tenantId: req.tenantId,
      settings,
      secretHash: secret ? hashToken(secret) : null,
      secretCreatedAt: secret ? now : null,
      createdAt: now,
      updatedAt: now,
      version: 1,
    };
    await this.uow.run(async (tx) => {
      await this.clients.insert(tx, client);
      await this.outbox.append(tx, 'musubi.federation.client.created.v1', { client: clientView(client) }, { tenantId: client.tenantId });
    });
    return { client: clientView(client), clientSecret: secret };
  }

  async get(req: RequestOf<'musubi.federation.client.get.v1'>, ctx: CallContext): Promise<OidcClientView> {
    authorize(ctx, req.tenantId, 'apps:read');
    const c = await this.clients.findById(req.tenantId, req.clientId);
    if (!c) throw new DomainError('not_found', 'No such client.');
    return clientView(c);
  }

  async list(req: RequestOf<'musubi.federation.client.list.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.federation.client.list.v1'>> {
    authorize(ctx, req.tenantId, 'apps:read');
    const key = decodeCursor(req.cursor, { t: 'timestamp', id: 'uuid' });
    const page = await this.clients.list(req.tenantId, key && { createdAt: key.t, id: key.id }, req.limit ?? 50);
    return { items: page.items.map(clientView), nextCursor: page.next ? encodeCursor({ t: page.next.createdAt.toISOString(), id: page.next.id }) : null };
  }

  async update(req: RequestOf<'musubi.federation.client.update.v1'>, ctx: CallContext): Promise<OidcClientView> {
    authorize(ctx, req.tenantId, 'apps:write');
    const result = await this.uow.run(async (tx) => {
      const current = await this.clients.lockById(tx, req.tenantId, req.clientId);
      if (!current) throw new DomainError('not_found', 'No such client.');
      if (req.expectedVersion !== undefined && req.expectedVersion !== current.version) throw new DomainError('precondition_failed', 'The client changed since you read it; read it again.');
      const settings: ClientSettings = { ...current.settings, ...req.changes, ...(req.changes.name !== undefined ? { name: req.changes.name.trim() } : {}) };
      checkSettings(settings);
      // Moving to a secret method mints a secret (shown by a rotation); moving away drops the old one.
      const keepsSecret = needsSecret(settings);
      if (keepsSecret && !current.secretHash) throw new DomainError('conflict', 'This client has no secret yet: rotate its secret to get one before switching to a secret method.');
      const next: OidcClient = {
        ...current,
        settings,
        secretHash: keepsSecret ? current.secretHash : null,
        secretCreatedAt: keepsSecret ? current.secretCreatedAt : null,
        updatedAt: new Date(),
        version: current.version + 1,
      };
      await this.clients.update(tx, next);
      await this.revocations.clientChanged(tx, next.tenantId, next.id);
      await this.outbox.append(tx, 'musubi.federation.client.updated.v1', { before: clientView(current), after: clientView(next) }, { tenantId: next.tenantId });
      return next;
    });
    this.cache.forget(result.tenantId, result.id);
    return clientView(result);
  }

  async delete(req: RequestOf<'musubi.federation.client.delete.v1'>, ctx: CallContext): Promise<Record<string, never>> {
    authorize(ctx, req.tenantId, 'apps:write');
    await this.uow.run(async (tx) => {
      const current = await this.clients.lockById(tx, req.tenantId, req.clientId);
      if (!current) throw new DomainError('not_found', 'No such client.');
      if (req.expectedVersion !== undefined && req.expectedVersion !== current.version) throw new DomainError('precondition_failed', 'The client changed since you read it; read it again.');
      await this.revocations.revokedGrants(tx, await this.grants.revokeAllOfClient(tx, current.id, new Date()));
      await this.clients.delete(tx, current.tenantId, current.id);
      await this.revocations.clientChanged(tx, current.tenantId, current.id);
      await this.outbox.append(tx, 'musubi.federation.client.deleted.v1', { client: clientView(current) }, { tenantId: current.tenantId });
    });
    this.cache.forget(req.tenantId, req.clientId);
    return {};
  }

  async rotateSecret(req: RequestOf<'musubi.federation.client.secret-rotate.v1'>, ctx: CallContext): Promise<OidcClientWithSecret> {
    authorize(ctx, req.tenantId, 'apps:write');
    const secret = randomToken(32);
    const result = await this.uow.run(async (tx) => {
      const current = await this.clients.lockById(tx, req.tenantId, req.clientId);
      if (!current) throw new DomainError('not_found', 'No such client.');
      if (current.settings.type !== 'confidential') throw new DomainError('conflict', 'A public client has no secret.');
      const now = new Date();
      const next: OidcClient = { ...current, secretHash: hashToken(secret), secretCreatedAt: now, updatedAt: now, version: current.version + 1 };
      await this.clients.update(tx, next);
      await this.revocations.clientChanged(tx, next.tenantId, next.id);
      await this.outbox.append(tx, 'musubi.federation.client.secret-rotated.v1', { client: { id: next.id, name: next.settings.name } }, { tenantId: next.tenantId });
      return next;
    });
    this.cache.forget(result.tenantId, result.id);
    return { client: clientView(result), clientSecret: secret };
  }
}
