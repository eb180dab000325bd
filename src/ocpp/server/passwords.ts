/**
 * Station passwords for OCPP security profiles 1 and 2 (HTTP Basic auth). The config may hold the
 * password itself or a hash of it, so a leaked config file does not hand out the key:
 *   `sha256:<64 hex>`                 SHA-256 of the UTF-8 password (fast; fine for long random keys)
 *   `scrypt:<salt base64>:<key base64>` scrypt with N=16384, r=8, p=1 (slow on purpose)
 * Anything else is the password in clear.
 *
 * Charge points given an AuthorizationKey of 32–40 hex characters disagree on whether the Basic
 * password is that text or the bytes it encodes (ocpp.md §2.8): both are accepted.
 */
import { createHash, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';

const SCRYPT = { N: 16_384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;
const SHA256_FORM = /^sha256:([0-9a-f]{64})$/i;
const SCRYPT_FORM = /^scrypt:([A-Za-z0-9+/]+={0,2}):([A-Za-z0-9+/]+={0,2})$/;
const HEX_KEY = /^(?:[0-9a-f]{2}){16,20}$/i;

export type PasswordForm = 'plain' | 'sha256' | 'scrypt';

export function passwordForm(stored: string): PasswordForm {
  if (SHA256_FORM.test(stored)) return 'sha256';
  if (SCRYPT_FORM.test(stored)) return 'scrypt';
  return 'plain';
}

/** The stored form of `password` (what goes in the config). */
export function hashStationPassword(password: string, form: 'sha256' | 'scrypt' = 'scrypt'): string {
  if (form === 'sha256') return `sha256:${sha256(Buffer.from(password, 'utf8')).toString('hex')}`;
  const salt = randomBytes(16);
  const key = scryptSync(password, salt, 32, SCRYPT);
  return `scrypt:${salt.toString('base64')}:${key.toString('base64')}`;
}

/**
 * Checks one station's configured password against what a connection presented. Remembers the
 * last accepted value so reconnects do not pay for scrypt again.
 */
export class StationPassword {
  private readonly stored: string;
  private readonly form: PasswordForm;
  private acceptedDigest: Buffer | null = null;

  constructor(stored: string) {
    this.stored = stored;
    this.form = passwordForm(stored);
  }

  matches(presented: Buffer | undefined): boolean {
    if (!presented || presented.length === 0) return false;
    const digest = sha256(presented);
    if (this.acceptedDigest && sameBytes(digest, this.acceptedDigest)) return true;
    const ok = candidates(presented).some((candidate) => this.matchesOne(candidate));
    if (ok) this.acceptedDigest = digest;
    return ok;
  }

  private matchesOne(candidate: Buffer): boolean {
    switch (this.form) {
      case 'plain': {
        if (sameBytes(candidate, Buffer.from(this.stored, 'utf8'))) return true;
        return HEX_KEY.test(this.stored) && sameBytes(candidate, Buffer.from(this.stored, 'hex'));
      }
      case 'sha256': {
        const hex = SHA256_FORM.exec(this.stored)?.[1] ?? '';
        return sameBytes(sha256(candidate), Buffer.from(hex, 'hex'));
      }
      case 'scrypt': {
        const [, salt = '', key = ''] = SCRYPT_FORM.exec(this.stored) ?? [];
        const expected = Buffer.from(key, 'base64');
        if (expected.length === 0) return false;
        const derived = scryptSync(candidate, Buffer.from(salt, 'base64'), expected.length, SCRYPT);
        return sameBytes(derived, expected);
      }
    }
  }
}

/**
 * The bytes as sent plus the other readings of an AuthorizationKey: hex text (either case) stands
 * for the bytes it encodes, and 16–20 bytes for their hex text.
 */
function candidates(presented: Buffer): Buffer[] {
  const out = [presented];
  const text = presented.toString('latin1');
  if (HEX_KEY.test(text)) out.push(Buffer.from(text, 'hex'));
  for (const bytes of [...out]) {
    if (bytes.length >= 16 && bytes.length <= 20) {
      const hex = bytes.toString('hex');
      out.push(Buffer.from(hex, 'utf8'), Buffer.from(hex.toUpperCase(), 'utf8'));
    }
  }
  return out;
}

function sha256(data: Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}

/** Constant time for equal lengths; different lengths compare digests so timing leaks nothing. */
function sameBytes(a: Buffer, b: Buffer): boolean {
  if (a.length !== b.length) return timingSafeEqual(sha256(a), sha256(b)) && false;
  return timingSafeEqual(a, b);
}
