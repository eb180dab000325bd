/**
 * Secrets never leave the process in clear: not in `config check`, not in `bridge/info`, not in
 * logs. A key is secret by its name (the same list the logger redacts); values that came from
 * `!secret` or a `*_file` can be passed in too, wherever they ended up.
 */
import { SECRET_KEYS } from '../log.js';
import { isPlainObject, snakeToCamel } from './casing.js';

export const REDACTED = '[redacted]';

/** `pin`, `password`, `authorization_key`/`authorizationKey`… in either spelling. */
export function isSecretKey(key: string): boolean {
  return SECRET_KEYS.includes(snakeToCamel(key));
}

/** Hides the password of `scheme://user:password@host` URLs inside a text. */
export function redactUrlCredentials(text: string): string {
  return text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^\s/:@]*:)[^\s/@]*@/gi, `$1${REDACTED}@`);
}

export function redactText(text: string, secretValues: ReadonlySet<string> = new Set()): string {
  return secretValues.has(text) ? REDACTED : redactUrlCredentials(text);
}

function redactValue(value: unknown, secretValues: ReadonlySet<string>): unknown {
  if (typeof value === 'string') return redactText(value, secretValues);
  if (Array.isArray(value)) return value.map((item) => redactValue(item, secretValues));
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    out[key] = isSecretKey(key) && inner !== undefined ? REDACTED : redactValue(inner, secretValues);
  }
  return out;
}

/**
 * A deep copy of a config (or any part of it) with every secret replaced by `[redacted]`.
 * `secretValues`: values that must be hidden wherever they appear (from `LoadedConfig.secretValues`).
 */
export function redactConfig<T>(config: T, secretValues: Iterable<string> = []): T {
  return redactValue(config, new Set(secretValues)) as T;
}
