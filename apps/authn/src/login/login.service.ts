import { Inject, Injectable } from '@nestjs/common';
import type { CallContext, ReplyOf, RequestOf, SessionView } from '@musubi/contracts';
import { BusClient, OutboxWriter } from '@musubi/platform/bus';
import { UnitOfWork } from '@musubi/platform/db';
import { DomainError, validationError } from '@musubi/platform/errors';
import { CONFIG } from '@musubi/platform/runtime';
import type { AuthnConfig } from '../config/env.schema.js';
import { CredentialRepository } from '../credentials/credential.repository.js';
import { PasswordHasher } from '../credentials/password-hasher.js';
import { checkNewPassword } from '../credentials/password-policy.js';
import { generateTemporaryPassword } from '../credentials/temporary-password.js';
import { SessionStore, type SessionRecord } from '../sessions/session.store.js';

/** The one answer for every failed sign-in: unknown ID, wrong password, disabled account, expired one-time password. */
const SIGN_IN_FAILED = 'The login ID or password is incorrect.';

@Injectable()
export class LoginService {
  constructor(
    private readonly bus: BusClient,
    private readonly credentials: CredentialRepository,
    private readonly hasher: PasswordHasher,
    private readonly sessions: SessionStore,
    private readonly uow: UnitOfWork,
    private readonly outbox: OutboxWriter,
    @Inject(CONFIG) private readonly config: AuthnConfig,
  ) {}

  private view(r: SessionRecord): SessionView {
    return {
      tenantId: r.tenantId,
      userId: r.userId,
      createdAt: new Date(r.createdAt).toISOString(),
      expiresAt: new Date(this.sessions.expiresAt(r)).toISOString(),
      mustChangePassword: r.mustChangePassword,
      method: r.method,
    };
  }

  /** Lookups authn makes on its own authority (the signing-in person is not yet anyone). */
  private asAuthn(ctx: CallContext, tenantId: string): CallContext {
    return { ...ctx, tenantId, caller: { kind: 'service', service: 'authn' } };
  }

  async login(req: RequestOf<'musubi.authn.login.password.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.authn.login.password.v1'>> {
    const { user } = await this.bus.request('musubi.directory.user.find-by-login-id.v1', { tenantId: req.tenantId, loginId: req.loginId }, this.asAuthn(ctx, req.tenantId));
    const credential = user?.status === 'active' ? await this.credentials.find(req.tenantId, user.id) : null;
    let ok = false;
    if (credential) ok = await this.hasher.verify(credential.passwordHash, req.password);
    else await this.hasher.burn(req.password);
    if (ok && credential?.temporary && credential.expiresAt && credential.expiresAt.getTime() <= Date.now()) ok = false;

    if (!ok || !credential || !user) {
      await this.uow.run((tx) =>
        this.outbox.append(
          tx,
          'musubi.authn.login.failed.v1',
          { loginId: req.loginId, userId: user?.id ?? null, ip: req.client.ip, userAgent: req.client.userAgent },
          { tenantId: req.tenantId, actor: { kind: 'anonymous' } },
        ),
      );
      throw new DomainError('unauthenticated', SIGN_IN_FAILED);
    }

    if (this.hasher.needsRehash(credential.passwordHash)) {
      await this.credentials.rehash(req.tenantId, user.id, credential.passwordHash, await this.hasher.hash(req.password));
    }
    const method = credential.temporary ? 'temp_pwd' : 'pwd';
    const { id, record } = await this.sessions.create({ tenantId: req.tenantId, userId: user.id, mustChangePassword: credential.temporary, method });
    await this.uow.run((tx) =>
      this.outbox.append(
        tx,
        'musubi.authn.login.succeeded.v1',
        { userId: user.id, loginId: user.loginId, method, ip: req.client.ip, userAgent: req.client.userAgent },
        { tenantId: req.tenantId, actor: { kind: 'user', userId: user.id, tenantId: req.tenantId, roles: user.roles } },
      ),
    );
    return { sessionId: id, session: this.view(record) };
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

  async changePassword(req: RequestOf<'musubi.authn.password.change.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.authn.password.change.v1'>> {
    const s = await this.sessions.get(req.sessionId);
    if (!s) throw new DomainError('unauthenticated', 'The session has ended.');
    const credential = await this.credentials.find(s.tenantId, s.userId);
    if (!credential || !(await this.hasher.verify(credential.passwordHash, req.currentPassword))) {
      throw validationError([{ pointer: '/currentPassword', detail: 'is not your current password' }], 'The current password is incorrect.');
    }
    const user = await this.bus.request('musubi.directory.user.get.v1', { tenantId: s.tenantId, userId: s.userId }, this.asAuthn(ctx, s.tenantId));
    const problems = checkNewPassword(req.newPassword, { loginId: user.loginId, names: [user.familyName, user.givenName, user.displayName].filter((n): n is string => !!n) });
    if (req.newPassword === req.currentPassword) problems.push({ pointer: '/newPassword', detail: 'must differ from the current password' });
    if (problems.length > 0) throw validationError(problems, 'The new password does not meet the password policy.');

    const hash = await this.hasher.hash(req.newPassword);
    const actor = { kind: 'user' as const, userId: s.userId, tenantId: s.tenantId, roles: user.roles };
    await this.uow.run(async (tx) => {
      await this.credentials.upsert(tx, { tenantId: s.tenantId, userId: s.userId, passwordHash: hash, temporary: false, expiresAt: null, changedAt: new Date() });
      await this.outbox.append(tx, 'musubi.authn.password.changed.v1', { userId: s.userId }, { tenantId: s.tenantId, actor });
    });
    const rotated = await this.sessions.rotate(req.sessionId, { mustChangePassword: false });
    if (!rotated) throw new DomainError('unauthenticated', 'The session has ended.');
    return { sessionId: rotated.id, session: this.view(rotated.record) };
  }

  async issueTemporary(req: RequestOf<'musubi.authn.temporary-password.issue.v1'>, ctx: CallContext): Promise<ReplyOf<'musubi.authn.temporary-password.issue.v1'>> {
    if (ctx.caller.kind !== 'operator') throw new DomainError('forbidden', 'Only a platform operator may issue one-time passwords here.');
    // The user must exist in this tenant (directory answers not_found otherwise) and be active.
    const user = await this.bus.request('musubi.directory.user.get.v1', { tenantId: req.tenantId, userId: req.userId }, { ...ctx, tenantId: req.tenantId });
    if (user.status !== 'active') throw new DomainError('conflict', 'The user is disabled.');
    const password = generateTemporaryPassword();
    const expiresAt = new Date(Date.now() + this.config.TEMPORARY_PASSWORD_HOURS * 3_600_000);
    const hash = await this.hasher.hash(password);
    await this.uow.run(async (tx) => {
      await this.credentials.upsert(tx, { tenantId: req.tenantId, userId: req.userId, passwordHash: hash, temporary: true, expiresAt, changedAt: new Date() });
      await this.outbox.append(tx, 'musubi.authn.temporary-password.issued.v1', { userId: req.userId, expiresAt: expiresAt.toISOString() }, { tenantId: req.tenantId });
    });
    return { temporaryPassword: password, expiresAt: expiresAt.toISOString() };
  }
}
