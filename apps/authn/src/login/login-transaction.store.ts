import { createHash, randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { LoginTransactionView } from '@musubi/contracts';
import { REDIS } from '@musubi/platform/runtime';

/** A sign-in in progress lives ten minutes. */
export const LOGIN_TRANSACTION_MS = 10 * 60_000;

export interface LoginTransaction {
  readonly tenantId: string;
  readonly loginId: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  /** Methods passed so far; later steps (MFA, Kerberos, federation prompts) append theirs. */
  readonly completed: readonly string[];
  readonly next: 'password';
  readonly returnTo: string | null;
}

const keyOf = (id: string) => `authn:login-tx:${createHash('sha256').update(id).digest('base64url')}`;

export const transactionView = (t: LoginTransaction): LoginTransactionView => ({
  tenantId: t.tenantId,
  loginId: t.loginId,
  createdAt: new Date(t.createdAt).toISOString(),
  expiresAt: new Date(t.expiresAt).toISOString(),
  completed: [...t.completed],
  next: t.next,
  returnTo: t.returnTo,
});

/**
 * Login transactions: what is known about a sign-in before it becomes a
 * session. Opaque 256-bit ids (kept as digests in Redis), single use.
 */
@Injectable()
export class LoginTransactionStore {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async start(tenantId: string, loginId: string, returnTo: string | null, now = Date.now()): Promise<{ id: string; transaction: LoginTransaction }> {
    const id = randomBytes(32).toString('base64url');
    const transaction: LoginTransaction = { tenantId, loginId, createdAt: now, expiresAt: now + LOGIN_TRANSACTION_MS, completed: [], next: 'password', returnTo };
    await this.redis.set(keyOf(id), JSON.stringify(transaction), 'PX', LOGIN_TRANSACTION_MS);
    return { id, transaction };
  }

  async get(id: string): Promise<LoginTransaction | null> {
    const raw = await this.redis.get(keyOf(id));
    return raw ? (JSON.parse(raw) as LoginTransaction) : null;
  }

  /** Spends a transaction: true only for the one caller that removed it. */
  async finish(id: string): Promise<boolean> {
    return (await this.redis.del(keyOf(id))) === 1;
  }
}
