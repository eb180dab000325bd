/**
 * The bearer token check. Both sides are hashed to 32 bytes first, so the comparison takes the same
 * time whatever the input, and even the token's length does not leak.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

export type AuthResult = 'ok' | 'missing' | 'invalid';

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

export class TokenCheck {
  private readonly expected: Buffer;

  constructor(token: string) {
    this.expected = digest(token);
  }

  /** `header`: the Authorization header as received (undefined when absent). */
  check(header: string | undefined): AuthResult {
    if (header === undefined || header.trim() === '') return 'missing';
    const match = BEARER.exec(header);
    // Compare even a malformed header, so the answer time says nothing about what was wrong.
    const presented = digest(match?.[1] ?? header);
    const same = timingSafeEqual(presented, this.expected);
    return same && match ? 'ok' : 'invalid';
  }
}
