import { createHash, randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { ROLE_PERMISSIONS, type AdminRole, type ApiTokenScope, type ApiTokenView, type CallContext, type Permission, type ReplyOf, type RequestOf } from '@musubi/contracts';
import { authorize, hasPermission } from '@musubi/platform/authz';
import { BusClient, OutboxWriter, uuidv7 } from '@musubi/platform/bus';
import { UnitOfWork } from '@musubi/platform/db';
import { DomainError } from '@musubi/platform/errors';
import { TenantCheck } from '../policy/tenant-check.js';
import { ApiTokenRepository } from './api-token.repository.js';

/** `msb_` and 256 random bits: recognisable in logs and secret scanners, impossible to guess. */
export const TOKEN_PATTERN = /^msb_[A-Za-z0-9_-]{43}$/;
const digest = (token: string) => createHash('sha256').update(token).digest();

/** The permissions a scope needs its maker to hold. */
export const SCOPE_NEEDS: Readonly<Record<ApiTokenScope, readonly Permission[]>> = {
  'users:read': ['users:read'],
  'users:write': ['users:write'],
  'groups:read': ['groups:read'],
  'groups:write': ['groups:write'],
  'audit:read': ['audit:read'],
  scim: ['users:write', 'groups:write'],
};

const allPermissions = (roles: readonly AdminRole[]) => new Set(roles.flatMap((r) => ROLE_PERMISSIONS[r]));

/**
 * API tokens for integrators and sync utilities. A token acts for the user
 * who made it, limited to its scopes and never beyond that user's current
 * roles; it is shown once and kept only as a SHA-256 digest (a 256-bit random
 * secret needs no slow hash).
 */
@Injectable()
export class ApiTokenService {
  constructor(
    private readonly repo: ApiTokenRepository,
    private readonly bus: BusClient,
    private readonly uow: UnitOfWork,
    private readonly outbox: OutboxWriter,
    private readonly tenants: TenantCheck,
  ) {}

  async create(req: RequestOf<'musubi.authn.api-token.create.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.authn.api-token.create.v1'>> {
    const c = ctx.caller;
    if (c.kind !== 'user') {
      await this.tenants.assertExists(req.tenantId, ctx);
      throw new DomainError('forbidden', 'API tokens are made by a signed-in user, for themselves.');
    }
    if (c.tenantId !== req.tenantId) throw new DomainError('not_found', 'No such resource.');
    const held = allPermissions(c.roles);
    const beyond = req.scopes.filter((s) => SCOPE_NEEDS[s].some((p) => !held.has(p)));
    if (beyond.length > 0) throw new DomainError('forbidden', `Your roles do not allow the scopes ${beyond.join(', ')}.`);
    const token = `msb_${randomBytes(32).toString('base64url')}`;
    const now = new Date();
    const view: ApiTokenView = {
      id: uuidv7(),
      tenantId: req.tenantId,
      name: req.name,
      scopes: [...req.scopes],
      createdBy: c.userId,
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + req.expiresInDays * 86_400_000).toISOString(),
      lastUsedAt: null,
      revokedAt: null,
      prefix: token.slice(0, 10),
    };
    await this.uow.run(async (tx) => {
      await this.repo.insert(tx, view, digest(token));
      await this.outbox.append(tx, 'musubi.authn.api-token.created.v1', { apiToken: view }, { tenantId: req.tenantId });
    });
    return { token, apiToken: view };
  }

  /** Users see their own tokens; helpdesk and administrators (users:credentials) every one of the tenant. */
  async list(req: RequestOf<'musubi.authn.api-token.list.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.authn.api-token.list.v1'>> {
    const c = ctx.caller;
    if (c.kind === 'user') {
      if (c.tenantId !== req.tenantId) throw new DomainError('not_found', 'No such resource.');
      return { items: await this.repo.list(req.tenantId, hasPermission(c.roles, 'users:credentials') ? null : c.userId) };
    }
    authorize(ctx, req.tenantId, 'users:credentials');
    await this.tenants.assertExists(req.tenantId, ctx);
    return { items: await this.repo.list(req.tenantId, null) };
  }

  async revoke(req: RequestOf<'musubi.authn.api-token.revoke.v1'>, ctx: CallContext): Promise<Record<string, never>> {
    const existing = await this.repo.find(req.tenantId, req.tokenId);
    const c = ctx.caller;
    const own = c.kind === 'user' && c.tenantId === req.tenantId && existing?.createdBy === c.userId;
    if (!own) authorize(ctx, req.tenantId, 'users:credentials');
    if (!existing) throw new DomainError('not_found', 'No such API token.');
    await this.uow.run(async (tx) => {
      const revoked = await this.repo.revoke(tx, req.tenantId, req.tokenId);
      if (revoked) await this.outbox.append(tx, 'musubi.authn.api-token.revoked.v1', { apiToken: revoked }, { tenantId: req.tenantId });
    });
    return {};
  }

  /** For the gateway: who a presented token speaks for. Any failure is the same `unauthenticated`. */
  async verify(req: RequestOf<'musubi.authn.api-token.verify.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.authn.api-token.verify.v1'>> {
    if (ctx.caller.kind !== 'service') throw new DomainError('forbidden', 'Internal lookup.');
    const invalid = new DomainError('unauthenticated', 'The bearer token is not valid.');
    if (!TOKEN_PATTERN.test(req.token)) throw invalid;
    const t = await this.repo.byHash(digest(req.token));
    if (!t || t.revokedAt || Date.parse(t.expiresAt) <= Date.now()) throw invalid;
    const scoped: CallContext = { ...ctx, tenantId: t.tenantId, caller: { kind: 'service', service: 'authn' } };
    const [user, tenant] = await Promise.all([
      this.bus.request('musubi.directory.user.get.v1', { tenantId: t.tenantId, userId: t.createdBy }, scoped).catch(() => null),
      this.bus.request('musubi.directory.tenant.get.v1', { id: t.tenantId }, scoped).catch(() => null),
    ]);
    if (!user || user.status !== 'active' || !tenant || tenant.status !== 'active') throw invalid;
    void this.repo.touch(t.id).catch(() => undefined);
    return { tokenId: t.id, tenantId: t.tenantId, userId: user.id, roles: [...user.roles], scopes: t.scopes, expiresAt: t.expiresAt };
  }
}
