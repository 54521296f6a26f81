import { createHash, randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { CallContext, ReplyOf, RequestOf, UserView } from '@musubi/contracts';
import { BusClient, OutboxWriter } from '@musubi/platform/bus';
import { UnitOfWork } from '@musubi/platform/db';
import { DomainError, validationError } from '@musubi/platform/errors';
import type { Logger } from '@musubi/platform/logging';
import { CONFIG, LOGGER, REDIS } from '@musubi/platform/runtime';
import type { AuthnConfig } from '../config/env.schema.js';
import { CredentialRepository } from '../credentials/credential.repository.js';
import { PasswordHasher } from '../credentials/password-hasher.js';
import { LockoutRepository } from '../lockout/lockout.repository.js';
import { IpThrottle } from '../login/ip-throttle.js';
import { LoginService } from '../login/login.service.js';
import { langOfUser, MailService } from '../mail/mail.service.js';
import { PolicyService } from '../policy/policy.service.js';
import { SessionStore } from '../sessions/session.store.js';
import { ResetRepository } from './reset.repository.js';

const digest = (token: string) => createHash('sha256').update(token).digest();
const HOUR = 3_600_000;

/**
 * Self-service password reset: a single-use link of 256 random bits by mail,
 * short-lived, stored only as its digest. The same answer whether or not the
 * account exists; limits per user (then a pause, tenant settings) and per IP.
 */
@Injectable()
export class ResetService {
  constructor(
    private readonly bus: BusClient,
    private readonly resets: ResetRepository,
    private readonly credentials: CredentialRepository,
    private readonly lockouts: LockoutRepository,
    private readonly hasher: PasswordHasher,
    private readonly policies: PolicyService,
    private readonly sessions: SessionStore,
    private readonly login: LoginService,
    private readonly mail: MailService,
    private readonly throttle: IpThrottle,
    private readonly uow: UnitOfWork,
    private readonly outbox: OutboxWriter,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(CONFIG) private readonly config: AuthnConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  private asAuthn(ctx: CallContext, tenantId: string): CallContext {
    return { ...ctx, tenantId, caller: { kind: 'service', service: 'authn' } };
  }

  /** Whether this user may be sent another reset mail now (counts it if so). */
  private async userAllows(user: UserView, perHour: number, lockMinutes: number): Promise<boolean> {
    const lockKey = `authn:reset-lock:${user.tenantId}:${user.id}`;
    if (await this.redis.exists(lockKey)) return false;
    // One counter per clock hour (works on any Redis version).
    const countKey = `authn:reset-count:${user.tenantId}:${user.id}:${Math.floor(Date.now() / HOUR)}`;
    const res = await this.redis.multi().incr(countKey).pexpire(countKey, HOUR).exec();
    const n = Number(res?.[0]?.[1] ?? 0);
    if (n <= perHour) return true;
    await this.redis.multi().set(lockKey, '1', 'PX', lockMinutes * 60_000).del(countKey).exec();
    return false;
  }

  async request(req: RequestOf<'musubi.authn.password-reset.request.v1'>, ctx: CallContext): Promise<Record<string, never>> {
    if ((await this.throttle.hit('reset', req.client.ip, HOUR)) > this.config.RESET_IP_PER_HOUR) {
      throw new DomainError('rate_limited', 'Too many reset requests from this network; try again later.');
    }
    // Answered before anything about the account is looked up: the reply and its timing are the same whether or not it exists.
    void this.handleRequest(req, ctx).catch((err: unknown) => this.logger.warn({ err: (err as Error).message, tenantId: req.tenantId }, 'a password-reset request could not be handled'));
    return {};
  }

  private async handleRequest(req: RequestOf<'musubi.authn.password-reset.request.v1'>, ctx: CallContext): Promise<void> {
    const { user } = await this.bus.request('musubi.directory.user.find-by-login-id.v1', { tenantId: req.tenantId, loginId: req.loginId }, this.asAuthn(ctx, req.tenantId));
    if (!user || user.status !== 'active') return;
    const policy = await this.policies.of(req.tenantId);
    const mailed = await this.userAllows(user, policy.resetMailsPerHour, policy.resetLockMinutes);
    let token: string | null = null;
    if (mailed) {
      token = randomBytes(32).toString('base64url');
      await this.resets.create(req.tenantId, user.id, digest(token), new Date(Date.now() + this.config.RESET_LINK_MINUTES * 60_000));
    }
    await this.uow.run((tx) =>
      this.outbox.append(
        tx,
        'musubi.authn.password-reset.requested.v1',
        { userId: user.id, mailed, ip: req.client.ip, userAgent: req.client.userAgent, ...(req.client.deviceFingerprint ? { deviceFingerprint: req.client.deviceFingerprint } : {}) },
        { tenantId: req.tenantId },
      ),
    );
    if (token) await this.mailLink(user, token, langOfUser(user, req.lang));
  }

  private async mailLink(user: UserView, token: string, lang: 'ja' | 'en'): Promise<void> {
    const tenant = await this.login.tenantName(user.tenantId);
    await this.mail.sendTo(user, 'reset_requested', lang, {
      tenantName: tenant.displayName,
      resetLink: this.mail.url(`/t/${tenant.slug}/password-reset/${token}`),
      expiresMinutes: String(this.config.RESET_LINK_MINUTES),
    });
  }

  async check(req: RequestOf<'musubi.authn.password-reset.check.v1'>): Promise<ReplyOf<'musubi.authn.password-reset.check.v1'>> {
    const r = await this.resets.findUsable(req.tenantId, digest(req.token));
    return { valid: r !== null, expiresAt: r ? r.expiresAt.toISOString() : null };
  }

  async complete(req: RequestOf<'musubi.authn.password-reset.complete.v1'>, ctx: CallContext): Promise<Record<string, never>> {
    const hash = digest(req.token);
    const open = await this.resets.findUsable(req.tenantId, hash);
    if (!open) throw new DomainError('not_found', 'This reset link has expired or was already used.');
    const user = await this.bus.request('musubi.directory.user.get.v1', { tenantId: req.tenantId, userId: open.userId }, this.asAuthn(ctx, req.tenantId));
    if (user.status !== 'active') throw new DomainError('not_found', 'This reset link has expired or was already used.');
    const current = await this.credentials.find(req.tenantId, user.id);
    const problems = await this.login.refusals(user, req.newPassword, '/newPassword', current && !current.temporary ? current.passwordHash : null);
    if (problems.length > 0) throw validationError(problems, 'The new password does not meet the password policy.');
    const newHash = await this.hasher.hash(req.newPassword);
    const spent = await this.uow.run(async (tx) => {
      const userId = await this.resets.spend(tx, req.tenantId, hash);
      if (userId !== user.id) return false;
      await this.credentials.replace(tx, { tenantId: req.tenantId, userId: user.id, passwordHash: newHash, temporary: false, expiresAt: null, changedAt: new Date() });
      if (await this.lockouts.clear(req.tenantId, user.id, tx)) {
        await this.outbox.append(tx, 'musubi.authn.lockout.cleared.v1', { userId: user.id, via: 'password_reset' }, { tenantId: req.tenantId });
      }
      await this.outbox.append(tx, 'musubi.authn.password.changed.v1', { userId: user.id, via: 'reset' }, { tenantId: req.tenantId });
      return true;
    });
    if (!spent) throw new DomainError('not_found', 'This reset link has expired or was already used.');
    const ended = req.endSessions ? await this.sessions.deleteAll(req.tenantId, user.id) : 0;
    await this.uow.run(async (tx) => {
      await this.outbox.append(
        tx,
        'musubi.authn.password-reset.completed.v1',
        { userId: user.id, sessionsEnded: ended, ip: req.client.ip, userAgent: req.client.userAgent, ...(req.client.deviceFingerprint ? { deviceFingerprint: req.client.deviceFingerprint } : {}) },
        { tenantId: req.tenantId },
      );
      if (ended > 0) await this.outbox.append(tx, 'musubi.authn.session.revoked.v1', { userId: user.id, count: ended, reason: 'password_reset' }, { tenantId: req.tenantId });
    });
    void this.login.mailChanged(user);
    return {};
  }
}
