import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import {
  API_TOKEN_SCOPES,
  MAX_REFRESH_TOKENS_PER_APP,
  ROLE_PERMISSIONS,
  type AdminRole,
  type ApiAppView,
  type ApiTokenScope,
  type AppRefreshTokenView,
  type AppTokenGrantReply,
  type CallContext,
  type OAuthErrorCode,
  type ReplyOf,
  type RequestOf,
} from '@musubi/contracts';
import { authorize } from '@musubi/platform/authz';
import { BusClient, OutboxWriter, uuidv7 } from '@musubi/platform/bus';
import { UnitOfWork } from '@musubi/platform/db';
import { DomainError } from '@musubi/platform/errors';
import { CONFIG } from '@musubi/platform/runtime';
import type { AuthnConfig } from '../config/env.schema.js';
import { TenantCheck } from '../policy/tenant-check.js';
import { SCOPE_NEEDS } from '../tokens/api-token.service.js';
import { ApiAppRepository, type RevokeReason } from './api-app.repository.js';

/** Secrets of 256 random bits with a recognisable prefix (secret scanners, logs); kept only as SHA-256 digests. */
const secret = (prefix: 'mss' | 'msr' | 'msa') => `${prefix}_${randomBytes(32).toString('base64url')}`;
export const CLIENT_SECRET_PATTERN = /^mss_[A-Za-z0-9_-]{43}$/;
export const REFRESH_TOKEN_PATTERN = /^msr_[A-Za-z0-9_-]{43}$/;
export const ACCESS_TOKEN_PATTERN = /^msa_[A-Za-z0-9_-]{43}$/;
const digest = (s: string) => createHash('sha256').update(s).digest();

const STANDING_TTL_MS = 10_000;

const oauthError = (error: OAuthErrorCode, errorDescription: string): AppTokenGrantReply => ({ kind: 'oauth_error', error, errorDescription });

/**
 * Registered API applications and the OAuth 2.0 token endpoint for them
 * (RFC 6749 §6 refresh grant with rotation; RFC 9700 §4.14: a rotated
 * refresh token presented again revokes its whole family).
 *
 * An application acts for the administrator who registered it, limited to
 * its scopes and never beyond that administrator's current roles (the same
 * rule as a personal API token). Each holds at most 25 live refresh tokens;
 * rotating one keeps it the same token (family), so it never counts twice.
 */
@Injectable()
export class ApiAppService {
  private readonly standings = new Map<string, { roles: readonly AdminRole[] | null; until: number }>();

  constructor(
    private readonly repo: ApiAppRepository,
    private readonly bus: BusClient,
    private readonly uow: UnitOfWork,
    private readonly outbox: OutboxWriter,
    private readonly tenants: TenantCheck,
    @Inject(CONFIG) private readonly config: AuthnConfig,
  ) {}

  async create(req: RequestOf<'musubi.authn.api-app.create.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.authn.api-app.create.v1'>> {
    authorize(ctx, req.tenantId, 'apps:write');
    const c = ctx.caller;
    if (c.kind !== 'user') {
      await this.tenants.assertExists(req.tenantId, ctx);
      throw new DomainError('forbidden', 'An API application acts for the administrator who registers it: register it signed in as a user of the tenant.');
    }
    const held = new Set(c.roles.flatMap((r) => ROLE_PERMISSIONS[r]));
    const beyond = req.scopes.filter((s) => SCOPE_NEEDS[s].some((p) => !held.has(p)));
    if (beyond.length > 0) throw new DomainError('forbidden', `Your roles do not allow the scopes ${beyond.join(', ')}.`);
    const clientSecret = secret('mss');
    const app: ApiAppView = {
      id: uuidv7(),
      tenantId: req.tenantId,
      name: req.name,
      clientId: `msc_${randomBytes(16).toString('base64url')}`,
      scopes: API_TOKEN_SCOPES.filter((s) => req.scopes.includes(s)),
      createdBy: c.userId,
      createdAt: new Date().toISOString(),
      liveRefreshTokens: 0,
    };
    await this.uow.run(async (tx) => {
      await this.repo.insertApp(tx, app, digest(clientSecret));
      await this.outbox.append(tx, 'musubi.authn.api-app.created.v1', { apiApp: app }, { tenantId: req.tenantId });
    });
    return { clientSecret, app };
  }

  async list(req: RequestOf<'musubi.authn.api-app.list.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.authn.api-app.list.v1'>> {
    authorize(ctx, req.tenantId, 'apps:read');
    await this.tenants.assertExists(req.tenantId, ctx);
    return { items: await this.repo.listApps(req.tenantId) };
  }

  /** Deleting revokes every refresh token (an event each) and ends its access tokens in the same transaction. */
  async remove(req: RequestOf<'musubi.authn.api-app.delete.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.authn.api-app.delete.v1'>> {
    authorize(ctx, req.tenantId, 'apps:write');
    return this.uow.run(async (tx) => {
      const app = await this.repo.findApp(req.tenantId, req.appId, tx);
      if (!app) throw new DomainError('not_found', 'No such API application.');
      const live = await this.repo.liveTokens(tx, app.id);
      const now = new Date().toISOString();
      for (const t of live) {
        await this.outbox.append(tx, 'musubi.authn.refresh-token.revoked.v1', { refreshToken: { ...t, revokedAt: now, revokedReason: 'app_deleted' }, applicationId: app.id, reason: 'app_deleted' }, { tenantId: req.tenantId });
      }
      await this.repo.deleteApp(tx, req.tenantId, app.id);
      await this.outbox.append(tx, 'musubi.authn.api-app.deleted.v1', { apiApp: { ...app, liveRefreshTokens: 0 } }, { tenantId: req.tenantId });
      return { revokedRefreshTokens: live.length };
    });
  }

  /** Refused with `limit_exceeded` (and nothing written) when the application already holds 25 live refresh tokens. */
  async issue(req: RequestOf<'musubi.authn.refresh-token.issue.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.authn.refresh-token.issue.v1'>> {
    authorize(ctx, req.tenantId, 'apps:write');
    const refreshToken = secret('msr');
    const token = await this.uow.run(async (tx) => {
      // The application row stays locked until commit, so two concurrent issues cannot both pass the count.
      const app = await this.repo.findApp(req.tenantId, req.appId, tx);
      if (!app) throw new DomainError('not_found', 'No such API application.');
      if (app.liveRefreshTokens >= MAX_REFRESH_TOKENS_PER_APP) {
        throw new DomainError(
          'limit_exceeded',
          `The application "${app.name}" already holds ${MAX_REFRESH_TOKENS_PER_APP} live refresh tokens, the most one application may hold; revoke one first.`,
          [{ pointer: '/appId', detail: `holds ${app.liveRefreshTokens} of ${MAX_REFRESH_TOKENS_PER_APP} refresh tokens` }],
        );
      }
      await this.repo.pruneDead(tx, app.id);
      const now = new Date();
      const t: AppRefreshTokenView = {
        id: uuidv7(),
        tenantId: req.tenantId,
        applicationId: app.id,
        name: req.name,
        createdBy: ctx.caller.kind === 'user' ? ctx.caller.userId : app.createdBy,
        createdAt: now.toISOString(),
        expiresAt: new Date(now.getTime() + req.expiresInDays * 86_400_000).toISOString(),
        lastUsedAt: null,
        rotations: 0,
        revokedAt: null,
        revokedReason: null,
      };
      await this.repo.insertToken(tx, t, digest(refreshToken));
      await this.outbox.append(tx, 'musubi.authn.refresh-token.issued.v1', { refreshToken: t, applicationId: app.id }, { tenantId: req.tenantId });
      return t;
    });
    return { refreshToken, token };
  }

  async listTokens(req: RequestOf<'musubi.authn.refresh-token.list.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.authn.refresh-token.list.v1'>> {
    authorize(ctx, req.tenantId, 'apps:read');
    if (!(await this.repo.findApp(req.tenantId, req.appId))) throw new DomainError('not_found', 'No such API application.');
    return { items: await this.repo.listTokens(req.tenantId, req.appId) };
  }

  async revoke(req: RequestOf<'musubi.authn.refresh-token.revoke.v1'>, ctx: CallContext): Promise<Record<string, never>> {
    authorize(ctx, req.tenantId, 'apps:write');
    const existing = await this.repo.findToken(req.tenantId, req.appId, req.tokenId);
    if (!existing) throw new DomainError('not_found', 'No such refresh token.');
    await this.uow.run(async (tx) => {
      const revoked = await this.repo.revokeToken(tx, existing.id, 'admin');
      if (revoked) await this.outbox.append(tx, 'musubi.authn.refresh-token.revoked.v1', { refreshToken: revoked, applicationId: req.appId, reason: 'admin' }, { tenantId: req.tenantId });
    });
    return {};
  }

  /** Client authentication (RFC 6749 §2.3.1): Basic or form parameters, never both; null for any failure. */
  private async client(req: RequestOf<'musubi.authn.app-token.grant.v1'>): Promise<ApiAppView | 'ambiguous' | null> {
    const formId = req.params['client_id'];
    const formSecret = req.params['client_secret'];
    if (req.basic && formSecret !== undefined) return 'ambiguous';
    if (req.basic && formId !== undefined && formId !== req.basic.clientId) return 'ambiguous';
    const clientId = req.basic?.clientId ?? formId;
    const clientSecret = req.basic?.clientSecret ?? formSecret;
    if (!clientId || !clientSecret || clientId.length > 100 || !CLIENT_SECRET_PATTERN.test(clientSecret)) return null;
    const found = await this.repo.byClientId(req.tenantId, clientId);
    if (!found) return null;
    return timingSafeEqual(found.secretHash, digest(clientSecret)) ? found.app : null;
  }

  private scopesOf(app: ApiAppView, requested: string | undefined): ApiTokenScope[] | null {
    if (requested === undefined) return [...app.scopes];
    const asked = requested.split(' ').filter((s) => s !== '');
    if (asked.length === 0 || asked.some((s) => !(app.scopes as readonly string[]).includes(s))) return null;
    return app.scopes.filter((s) => asked.includes(s));
  }

  /** The token endpoint. Protocol errors are answers (the gateway renders them per RFC 6749 §5.2), not failures. */
  async grant(req: RequestOf<'musubi.authn.app-token.grant.v1'>, ctx: CallContext): Promise<AppTokenGrantReply> {
    if (ctx.caller.kind !== 'service') throw new DomainError('forbidden', 'Internal endpoint.');
    const app = await this.client(req);
    if (app === 'ambiguous') return oauthError('invalid_request', 'Authenticate the client one way only: HTTP Basic or client_id and client_secret in the body.');
    if (!app) return oauthError('invalid_client', 'Client authentication failed.');
    const grantType = req.params['grant_type'];
    if (grantType === undefined) return oauthError('invalid_request', 'grant_type is required.');
    if (grantType !== 'refresh_token') return oauthError('unsupported_grant_type', 'This endpoint supports grant_type=refresh_token only; an administrator issues the first refresh token.');
    const presented = req.params['refresh_token'];
    if (presented === undefined) return oauthError('invalid_request', 'refresh_token is required.');
    const scopes = this.scopesOf(app, req.params['scope']);
    if (!scopes) return oauthError('invalid_scope', `The requested scope is not within the application's scopes (${app.scopes.join(' ')}).`);
    const invalid = oauthError('invalid_grant', 'The refresh token is invalid, expired or revoked.');
    if (!REFRESH_TOKEN_PATTERN.test(presented)) return invalid;
    const presentedHash = digest(presented);
    const accessToken = secret('msa');
    const nextRefresh = secret('msr');
    const expiresIn = this.config.APP_ACCESS_TOKEN_SECONDS;
    return this.uow.run(async (tx) => {
      const found = await this.repo.presented(tx, presentedHash);
      // Another application's refresh token is refused like an unknown one (it is bound to its client).
      if (!found || found.token.applicationId !== app.id || found.token.tenantId !== req.tenantId) return invalid;
      const { token } = found;
      if (token.revokedAt !== null || Date.parse(token.expiresAt) <= Date.now()) return invalid;
      if (found.rotated) {
        // RFC 9700 §4.14.2: one of the two holders of this family is not legitimate; end it for both.
        const revoked = await this.repo.revokeToken(tx, token.id, 'reuse');
        if (revoked) {
          await this.outbox.append(tx, 'musubi.authn.refresh-token.reused.v1', { refreshToken: revoked, applicationId: app.id, result: 'failure' }, { tenantId: req.tenantId });
          await this.outbox.append(tx, 'musubi.authn.refresh-token.revoked.v1', { refreshToken: revoked, applicationId: app.id, reason: 'reuse' satisfies RevokeReason }, { tenantId: req.tenantId });
        }
        return invalid;
      }
      await this.repo.rotate(tx, token.id, presentedHash, digest(nextRefresh));
      await this.repo.insertAccess(tx, digest(accessToken), { tenantId: req.tenantId, appId: app.id, refreshTokenId: token.id, scopes, expiresAt: new Date(Date.now() + expiresIn * 1000) });
      return { kind: 'tokens', accessToken, tokenType: 'Bearer', expiresIn, refreshToken: nextRefresh, scope: scopes.join(' ') } satisfies AppTokenGrantReply;
    });
  }

  /** For the gateway, on every request (no cache: a revoked family or deleted application ends its access tokens at once). */
  async verify(req: RequestOf<'musubi.authn.app-token.verify.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.authn.app-token.verify.v1'>> {
    if (ctx.caller.kind !== 'service') throw new DomainError('forbidden', 'Internal lookup.');
    const invalid = new DomainError('unauthenticated', 'The bearer token is not valid.');
    if (!ACCESS_TOKEN_PATTERN.test(req.token)) throw invalid;
    const t = await this.repo.access(digest(req.token));
    if (!t) throw invalid;
    const roles = await this.standing(t.tenantId, t.createdBy, ctx);
    if (!roles) throw invalid;
    return { tokenId: t.refreshTokenId, applicationId: t.appId, tenantId: t.tenantId, userId: t.createdBy, roles: [...roles], scopes: t.scopes, expiresAt: t.expiresAt.toISOString() };
  }

  /**
   * The registrar's current roles when they and their tenant are active, else
   * null; kept ten seconds (as the gateway keeps a session's user), so each
   * API call costs one indexed read here rather than two more bus requests.
   * The token itself is read on every call: its revocation takes effect at once.
   */
  private async standing(tenantId: string, userId: string, ctx: CallContext): Promise<readonly AdminRole[] | null> {
    const key = `${tenantId}:${userId}`;
    const hit = this.standings.get(key);
    if (hit && hit.until > Date.now()) return hit.roles;
    const scoped: CallContext = { ...ctx, tenantId, caller: { kind: 'service', service: 'authn' } };
    const [user, tenant] = await Promise.all([
      this.bus.request('musubi.directory.user.get.v1', { tenantId, userId }, scoped).catch(() => null),
      this.bus.request('musubi.directory.tenant.get.v1', { id: tenantId }, scoped).catch(() => null),
    ]);
    // A failed lookup is not remembered: the next call asks again.
    if (!user || !tenant) return null;
    const roles = user.status === 'active' && tenant.status === 'active' ? [...user.roles] : null;
    if (this.standings.size >= 10_000) this.standings.clear();
    this.standings.set(key, { roles, until: Date.now() + STANDING_TTL_MS });
    return roles;
  }
}
