import { timingSafeEqual } from 'node:crypto';

/**
 * Compares presented tokens with the operator's in constant time for tokens of
 * the right length. Only the length can leak, and the token's format (length
 * included) is no secret; hashing both sides first cost ~20 µs a request.
 */
export class OperatorToken {
  private readonly expected: Buffer;

  constructor(token: string) {
    this.expected = Buffer.from(token, 'utf8');
  }

  matches(presented: string): boolean {
    const given = Buffer.from(presented, 'utf8');
    return given.length === this.expected.length && timingSafeEqual(given, this.expected);
  }
}
