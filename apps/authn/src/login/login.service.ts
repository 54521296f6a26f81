import { Inject, Injectable } from '@nestjs/common';
import { ROLE_PERMISSIONS, type AuthPolicyView, type CallContext, type ClientInfo, type LoginMethod, type ReplyOf, type RequestOf, type SessionView, type UserView } from '@musubi/contracts';
import { BusClient, OutboxWriter } from '@musubi/platform/bus';
import { authorize, hasPermission } from '@musubi/platform/authz';
import { UnitOfWork } from '@musubi/platform/db';
import { DomainError, validationError } from '@musubi/platform/errors';
import type { Logger } from '@musubi/platform/logging';
import { CONFIG, LOGGER } from '@musubi/platform/runtime';
import type { AuthnConfig } from '../config/env.schema.js';
import { CredentialRepository } from '../credentials/credential.repository.js';
import { PasswordHasher } from '../credentials/password-hasher.js';
import { checkNewPassword } from '../credentials/password-policy.js';
import { generateTemporaryPassword } from '../credentials/temporary-password.js';
import { LockoutRepository } from '../lockout/lockout.repository.js';
import { LockoutService } from '../lockout/lockout.service.js';
import { langOfUser, MailService } from '../mail/mail.service.js';
import { effectiveMinLength, PolicyService } from '../policy/policy.service.js';
import { SessionStore, type SessionRecord } from '../sessions/session.store.js';
import { IpThrottle } from './ip-throttle.js';
import { LoginTransactionStore, transactionView } from './login-transaction.store.js';

/** The one answer for every failed sign-in: unknown ID, wrong password, disabled or locked account, expired one-time password. */
export const SIGN_IN_FAILED = 'The login ID or password is incorrect.';
const IP_WINDOW_MS = 15 * 60_000;
/** Login transactions one address may start in 15 minutes (a busy office behind one NAT stays far below). */
const START_PER_IP = 5_000;
/** A password expiring within this is announced at sign-in. */
export const EXPIRY_WARNING_MS = 14 * 86_400_000;

type FailReason = 'unknown' | 'disabled' | 'no_password' | 'locked' | 'wrong_password' | 'expired' | 'throttled';

const clientFields = (c: ClientInfo) => ({ ip: c.ip, userAgent: c.userAgent, ...(c.deviceFingerprint ? { deviceFingerprint: c.deviceFingerprint } : {}) });
export const namesOf = (u: UserView): string[] => [u.familyName, u.givenName, u.displayName].filter((n): n is string => !!n);

export function sessionView(r: SessionRecord, expiresAt: number): SessionView {
  return {
    tenantId: r.tenantId,
    userId: r.userId,
    createdAt: new Date(r.createdAt).toISOString(),
    expiresAt: new Date(expiresAt).toISOString(),
    mustChangePassword: r.mustChangePassword,
    method: r.method,
    authTime: new Date(r.authTime).toISOString(),
    amr: [...r.amr],
    passwordChangeReason: r.passwordChangeReason,
    passwordExpiresSoon: r.passwordExpiresSoon === null ? null : new Date(r.passwordExpiresSoon).toISOString(),
  };
}

/**
 * Sign-in with a password, from the identifier step to the session: the
 * tenant's lockout and expiry rules, per-IP throttling, the same answer and
 * about the same time for every kind of failure, and an event for each attempt.
 */
@Injectable()
export class LoginService {
  constructor(
    private readonly bus: BusClient,
    private readonly credentials: CredentialRepository,
    private readonly hasher: PasswordHasher,
    private readonly sessions: SessionStore,
    private readonly transactions: LoginTransactionStore,
    private readonly policies: PolicyService,
    private readonly lockout: LockoutService,
    private readonly lockouts: LockoutRepository,
    private readonly throttle: IpThrottle,
    private readonly mail: MailService,
    private readonly uow: UnitOfWork,
    private readonly outbox: OutboxWriter,
    @Inject(CONFIG) private readonly config: AuthnConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  private view(r: SessionRecord): SessionView {
    return sessionView(r, this.sessions.expiresAt(r));
  }

  /** Lookups authn makes on its own authority (the signing-in person is not yet anyone). */
  private asAuthn(ctx: CallContext, tenantId: string): CallContext {
    return { ...ctx, tenantId, caller: { kind: 'service', service: 'authn' } };
  }

  async start(req: RequestOf<'musubi.authn.login.start.v1'>): Promise<ReplyOf<'musubi.authn.login.start.v1'>> {
    // Transactions live in Redis for ten minutes: one address may not start them without end.
    if ((await this.throttle.hit('start', req.client.ip, IP_WINDOW_MS)) > START_PER_IP) {
      throw new DomainError('rate_limited', 'Too many sign-ins started from this network; try again later.');
    }
    // Nothing is looked up: the next step is the password whether or not the account exists.
    const { id, transaction } = await this.transactions.start(req.tenantId, req.loginId.trim(), req.returnTo ?? null);
    return { transactionId: id, transaction: transactionView(transaction) };
  }

  async transaction(req: RequestOf<'musubi.authn.login.get.v1'>): Promise<ReplyOf<'musubi.authn.login.get.v1'>> {
    const t = await this.transactions.get(req.transactionId);
    if (!t || t.tenantId !== req.tenantId) throw new DomainError('not_found', 'The sign-in has expired; start again.');
    return transactionView(t);
  }

  async login(req: RequestOf<'musubi.authn.login.password.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.authn.login.password.v1'>> {
    const now = Date.now();
    let returnTo: string | null = null;
    if (req.transactionId) {
      const t = await this.transactions.get(req.transactionId);
      if (!t || t.tenantId !== req.tenantId || t.loginId.toLowerCase() !== req.loginId.trim().toLowerCase()) {
        throw new DomainError('not_found', 'The sign-in has expired; start again.');
      }
      returnTo = t.returnTo;
    }
    const [failuresFromIp, { user }, policy] = await Promise.all([
      this.throttle.count('login', req.client.ip, IP_WINDOW_MS, now),
      this.bus.request('musubi.directory.user.find-by-login-id.v1', { tenantId: req.tenantId, loginId: req.loginId }, this.asAuthn(ctx, req.tenantId)),
      this.policies.of(req.tenantId),
    ]);
    // Refused before any password is tried, whoever the account.
    if (failuresFromIp >= this.config.LOGIN_IP_FAILURES) {
      await this.fail(req, null, 'throttled');
      throw new DomainError('rate_limited', 'Too many failed sign-ins from this network; try again later.');
    }
    const credential = user?.status === 'active' ? await this.credentials.findForSignIn(req.tenantId, user.id) : null;
    // Every path spends one argon2id verification, so timing tells nothing.
    let ok = false;
    if (credential) ok = await this.hasher.verify(credential.passwordHash, req.password);
    else await this.hasher.burn(req.password);

    const locked = !!credential?.lockedUntil && credential.lockedUntil.getTime() > now;
    const reason: FailReason | null = !user
      ? 'unknown'
      : user.status !== 'active'
        ? 'disabled'
        : !credential
          ? 'no_password'
          : locked
            ? 'locked'
            : !ok
              ? 'wrong_password'
              : credential.temporary && credential.expiresAt && credential.expiresAt.getTime() <= now
                ? 'expired'
                : null;
    if (reason || !user || !credential) {
      await this.fail(req, user, reason ?? 'unknown', policy, credential?.temporary ? 'temp_pwd' : 'pwd');
      throw new DomainError('unauthenticated', SIGN_IN_FAILED);
    }

    if (credential.failures > 0) await this.lockouts.clear(req.tenantId, user.id);
    if (this.hasher.needsRehash(credential.passwordHash)) {
      await this.credentials.rehash(req.tenantId, user.id, credential.passwordHash, await this.hasher.hash(req.password));
    }
    const method: LoginMethod = credential.temporary ? 'temp_pwd' : 'pwd';
    let passwordChangeReason: 'temporary' | 'expired' | null = credential.temporary ? 'temporary' : null;
    let passwordExpiresSoon: number | null = null;
    if (!credential.temporary && policy.passwordExpiryDays !== null) {
      const expires = credential.changedAt.getTime() + policy.passwordExpiryDays * 86_400_000;
      if (expires <= now) passwordChangeReason = 'expired';
      else if (expires - now <= EXPIRY_WARNING_MS) passwordExpiresSoon = expires;
    }
    const { id, record } = await this.sessions.create({
      tenantId: req.tenantId,
      userId: user.id,
      mustChangePassword: passwordChangeReason !== null,
      passwordChangeReason,
      passwordExpiresSoon,
      method,
      amr: [method],
      idleMs: policy.sessionIdleMinutes * 60_000,
      absoluteMs: policy.sessionAbsoluteHours * 3_600_000,
      ip: req.client.ip,
      userAgent: req.client.userAgent.slice(0, 300),
    });
    if (req.transactionId) await this.transactions.finish(req.transactionId);
    await this.outbox.record(
      'musubi.authn.login.succeeded.v1',
      { userId: user.id, loginId: user.loginId, method, ...clientFields(req.client) },
      { tenantId: req.tenantId, actor: { kind: 'user', userId: user.id, tenantId: req.tenantId, roles: user.roles } },
    );
    return { sessionId: id, session: this.view(record), returnTo };
  }

  /** Records a failed attempt (and counts it toward the account's lockout and the IP's throttle). */
  private async fail(req: RequestOf<'musubi.authn.login.password.v1'>, user: UserView | null, reason: FailReason, policy?: AuthPolicyView, method?: LoginMethod): Promise<void> {
    if (reason !== 'throttled') await this.throttle.hit('login', req.client.ip, IP_WINDOW_MS);
    const event = { loginId: req.loginId, userId: user?.id ?? null, ...clientFields(req.client), reason, ...(method ? { method } : {}) };
    const counts = reason === 'wrong_password' && user && policy ? { user, policy } : null;
    // A failure that counts toward a lockout is written with it; any other is a single statement.
    if (!counts) {
      await this.outbox.record('musubi.authn.login.failed.v1', event, { tenantId: req.tenantId });
      return;
    }
    const lockedUntil = await this.uow.run(async (tx) => {
      await this.outbox.append(tx, 'musubi.authn.login.failed.v1', event, { tenantId: req.tenantId });
      return this.lockout.recordFailure(tx, req.tenantId, counts.user.id, counts.policy, req.client);
    });
    if (lockedUntil) void this.mailLocked(counts.user, lockedUntil);
  }

  private async mailLocked(user: UserView, lockedUntil: Date): Promise<void> {
    const tenant = await this.tenantName(user.tenantId);
    await this.mail.sendTo(user, 'account_locked', langOfUser(user, 'ja'), {
      tenantName: tenant.displayName,
      lockedUntil: lockedUntil.toISOString(),
      resetUrl: this.mail.url(`/t/${tenant.slug}/password-reset`),
    });
  }

  async tenantName(tenantId: string): Promise<{ displayName: string; slug: string }> {
    const t = await this.bus.request('musubi.directory.tenant.get.v1', { id: tenantId }, { requestId: `authn-mail-${tenantId}`, tenantId, caller: { kind: 'service', service: 'authn' } });
    return { displayName: t.displayName, slug: t.slug };
  }

  async session(sessionId: string): Promise<SessionView> {
    const s = await this.sessions.get(sessionId);
    if (!s) throw new DomainError('unauthenticated', 'The session has ended.');
    return this.view(s);
  }

  async logout(sessionId: string): Promise<Record<string, never>> {
    await this.sessions.delete(sessionId);
    return {};
  }

  /**
   * Checks a new password against the tenant's policy, the common-password
   * list, the user's own ID and names, and the password history; returns why
   * it is refused.
   */
  async refusals(user: UserView, newPassword: string, pointer: string, currentHash: string | null) {
    const policy = await this.policies.of(user.tenantId);
    const problems = checkNewPassword(newPassword, { loginId: user.loginId, names: namesOf(user) }, pointer, { minLength: effectiveMinLength(policy), complexity: policy.passwordComplexity });
    if (problems.length === 0) {
      const earlier = [...(currentHash ? [currentHash] : []), ...(policy.passwordHistory ? await this.credentials.history(user.tenantId, user.id, policy.passwordHistory) : [])];
      const reused = await Promise.all(earlier.map((h) => this.hasher.verify(h, newPassword)));
      if (reused.some(Boolean)) {
        problems.push({ pointer, detail: policy.passwordHistory ? `must differ from your last ${policy.passwordHistory + 1} passwords` : 'must differ from the current password' });
      }
    }
    return problems;
  }

  async changePassword(req: RequestOf<'musubi.authn.password.change.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.authn.password.change.v1'>> {
    const s = await this.sessions.get(req.sessionId);
    if (!s) throw new DomainError('unauthenticated', 'The session has ended.');
    const credential = await this.credentials.find(s.tenantId, s.userId);
    if (!credential || !(await this.hasher.verify(credential.passwordHash, req.currentPassword))) {
      throw validationError([{ pointer: '/currentPassword', detail: 'is not your current password' }], 'The current password is incorrect.');
    }
    const user = await this.bus.request('musubi.directory.user.get.v1', { tenantId: s.tenantId, userId: s.userId }, this.asAuthn(ctx, s.tenantId));
    const problems = await this.refusals(user, req.newPassword, '/newPassword', credential.passwordHash);
    if (problems.length > 0) throw validationError(problems, 'The new password does not meet the password policy.');

    const hash = await this.hasher.hash(req.newPassword);
    const actor = { kind: 'user' as const, userId: s.userId, tenantId: s.tenantId, roles: user.roles };
    await this.uow.run(async (tx) => {
      await this.credentials.replace(tx, { tenantId: s.tenantId, userId: s.userId, passwordHash: hash, temporary: false, expiresAt: null, changedAt: new Date() });
      await this.outbox.append(tx, 'musubi.authn.password.changed.v1', { userId: s.userId, via: 'self' }, { tenantId: s.tenantId, actor });
    });
    const rotated = await this.sessions.rotate(req.sessionId, { mustChangePassword: false, passwordChangeReason: null, passwordExpiresSoon: null }, 'pwd');
    if (!rotated) throw new DomainError('unauthenticated', 'The session has ended.');
    void this.mailChanged(user);
    return { sessionId: rotated.id, session: this.view(rotated.record) };
  }

  async mailChanged(user: UserView): Promise<void> {
    const tenant = await this.tenantName(user.tenantId);
    await this.mail.sendTo(user, 'password_changed', langOfUser(user, 'ja'), {
      tenantName: tenant.displayName,
      changedAt: new Date().toISOString(),
      resetUrl: this.mail.url(`/t/${tenant.slug}/password-reset`),
    });
  }

  async issueTemporary(req: RequestOf<'musubi.authn.temporary-password.issue.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.authn.temporary-password.issue.v1'>> {
    authorize(ctx, req.tenantId, 'users:credentials');
    // The user must exist in this tenant (directory answers not_found otherwise) and be active.
    const user = await this.bus.request('musubi.directory.user.get.v1', { tenantId: req.tenantId, userId: req.userId }, { ...ctx, tenantId: req.tenantId });
    // A one-time password signs in as its user: nobody may obtain one for someone who may do more than they may (helpdesk for an administrator).
    const caller = ctx.caller;
    if (caller.kind === 'user' && !user.roles.every((r) => ROLE_PERMISSIONS[r].every((p) => hasPermission(caller.roles, p)))) {
      throw new DomainError('forbidden', 'This user holds permissions you do not; ask a tenant administrator to issue their one-time password.');
    }
    if (user.status !== 'active') throw new DomainError('conflict', 'The user is disabled.');
    const policy = await this.policies.of(req.tenantId);
    const password = generateTemporaryPassword();
    const expiresAt = new Date(Date.now() + policy.temporaryPasswordHours * 3_600_000);
    const hash = await this.hasher.hash(password);
    await this.uow.run(async (tx) => {
      await this.credentials.replace(tx, { tenantId: req.tenantId, userId: req.userId, passwordHash: hash, temporary: true, expiresAt, changedAt: new Date() });
      await this.outbox.append(tx, 'musubi.authn.temporary-password.issued.v1', { userId: req.userId, expiresAt: expiresAt.toISOString() }, { tenantId: req.tenantId });
    });
    this.logger.debug({ tenantId: req.tenantId }, 'one-time password issued');
    return { temporaryPassword: password, expiresAt: expiresAt.toISOString() };
  }
}
