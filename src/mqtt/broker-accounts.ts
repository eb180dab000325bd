/**
 * Who may connect to the embedded broker: any of the configured accounts, and clients without a
 * login only when anonymous access is allowed (with no accounts at all, as in Mosquitto without a
 * password file, any login is then let in: there is nothing to check it against). Refusals carry the MQTT 3.1.1 return code; aedes 2
 * turns it into the matching MQTT 5 CONNACK reason code (4 → 0x86, 5 → 0x87).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { AuthenticateError, Client } from 'aedes';

export interface BrokerAccount {
  username: string;
  password: string;
}

// CONNACK return codes (MQTT 3.1.1); aedes declares them as a const enum we cannot import here.
export const BAD_USERNAME_OR_PASSWORD = 4;
export const NOT_AUTHORIZED = 5;

type AuthenticateDone = (error: AuthenticateError | null, success: boolean | null) => void;

export function accountChecker(accounts: readonly BrokerAccount[], allowAnonymous: boolean) {
  // Fixed-length digests so the comparison takes the same time whatever the lengths.
  const known = accounts.map((a) => ({
    user: digest(Buffer.from(a.username, 'utf8')),
    password: digest(Buffer.from(a.password, 'utf8')),
  }));
  return (
    _client: Client,
    givenUser: string | undefined,
    givenPassword: Buffer | undefined,
    done: AuthenticateDone,
  ): void => {
    if (givenUser === undefined && givenPassword === undefined) {
      if (allowAnonymous) done(null, true);
      else done(authError('anonymous clients are not allowed', NOT_AUTHORIZED), false);
      return;
    }
    if (known.length === 0 && allowAnonymous) {
      done(null, true);
      return;
    }
    const user = digest(Buffer.from(givenUser ?? '', 'utf8'));
    const password = digest(givenPassword ?? Buffer.alloc(0));
    // Every account, both fields, no early exit: the time taken does not tell which part was wrong.
    let match = false;
    for (const account of known) {
      const userOk = timingSafeEqual(user, account.user);
      const passwordOk = timingSafeEqual(password, account.password);
      match = (userOk && passwordOk) || match;
    }
    if (match) done(null, true);
    else done(authError('bad user name or password', BAD_USERNAME_OR_PASSWORD), false);
  };
}

function digest(value: Buffer): Buffer {
  return createHash('sha256').update(value).digest();
}

function authError(message: string, returnCode: number): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}
