import { Injectable } from '@nestjs/common';
import argon2 from 'argon2';

/** OWASP's argon2id parameters: 19 MiB, 2 passes, 1 lane. */
export const ARGON2_PARAMS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/**
 * argon2id hashing on libuv's thread pool (off the event loop). A hash with
 * older parameters verifies, and `needsRehash` tells the caller to upgrade it
 * after a successful sign-in.
 */
@Injectable()
export class PasswordHasher {
  private dummy: Promise<string> | undefined;

  hash(password: string): Promise<string> {
    return argon2.hash(password, ARGON2_PARAMS);
  }

  async verify(hash: string, password: string): Promise<boolean> {
    try {
      return await argon2.verify(hash, password);
    } catch {
      return false; // a malformed stored hash never matches
    }
  }

  needsRehash(hash: string): boolean {
    try {
      return argon2.needsRehash(hash, ARGON2_PARAMS);
    } catch {
      return true;
    }
  }

  /**
   * Spends the same work as a real verification, for unknown or disabled
   * accounts, so response time does not reveal whether an account exists.
   */
  async burn(password: string): Promise<void> {
    this.dummy ??= this.hash('musubi-timing-equaliser');
    await this.verify(await this.dummy, password);
  }
}
