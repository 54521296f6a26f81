import { Injectable } from '@nestjs/common';
import { hash, parseOptions, verify, type Algorithm, type Options, type Version } from '@node-rs/argon2';

// The package's enums are ambient `const enum`s, which isolated (swc) builds cannot inline.
const ARGON2ID = 2 as Algorithm;
const VERSION_0X13 = 1 as Version;

/**
 * OWASP's argon2id parameters: 19 MiB, 2 passes, 1 lane.
 *
 * Implementation: `@node-rs/argon2` (Rust, SIMD) rather than `argon2` (the C
 * reference build): measured on the 2-core machine, one verification takes
 * 6.3 ms instead of 20.8 ms and both cores reach ~200 verifications/s instead
 * of ~88/s, for the same PHC strings (hashes made by either verify with the other).
 */
export const ARGON2_PARAMS: Readonly<Options> = { algorithm: ARGON2ID, version: VERSION_0X13, memoryCost: 19_456, timeCost: 2, parallelism: 1 };

/**
 * argon2id hashing on libuv's thread pool (off the event loop). A hash with
 * older parameters verifies, and `needsRehash` tells the caller to upgrade it
 * after a successful sign-in.
 */
@Injectable()
export class PasswordHasher {
  private dummy: Promise<string> | undefined;

  hash(password: string): Promise<string> {
    return hash(password, ARGON2_PARAMS);
  }

  async verify(stored: string, password: string): Promise<boolean> {
    try {
      return await verify(stored, password);
    } catch {
      return false; // a malformed stored hash never matches
    }
  }

  needsRehash(stored: string): boolean {
    try {
      const p = parseOptions(stored);
      return (
        p.algorithm !== ARGON2_PARAMS.algorithm ||
        p.version !== ARGON2_PARAMS.version ||
        p.memoryCost !== ARGON2_PARAMS.memoryCost ||
        p.timeCost !== ARGON2_PARAMS.timeCost ||
        p.parallelism !== ARGON2_PARAMS.parallelism
      );
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
