/**
 * Field builders shared by the config sections. Each one carries the sentence a user reads when
 * the value is wrong ("must be …"), so every error says what is allowed; the loader adds the key
 * path and the bad value (redacted for secrets).
 */
import { resolve } from 'node:path';
import { z } from 'zod';
import { isPlainObject } from './casing.js';
import { didYouMean } from './suggest.js';

/** What a schema sees of an issue when it writes its message. */
interface RawIssue {
  input?: unknown;
}

/** "is required; <rule>" when the key is missing, otherwise the rule itself. */
export function ruleError(rule: string): (issue: RawIssue) => string {
  return (issue) => (issue.input === undefined ? `is required; ${rule}` : rule);
}

/**
 * Runs a cross-field check even when some fields already failed, so all problems show at once
 * (only when the value is at least a mapping, so the check can read its keys).
 */
export const EVEN_WITH_ERRORS = {
  when: (payload: { value: unknown }) => isPlainObject(payload.value),
} as const;

/**
 * Reports a rule that spans keys at `path` (relative to the checked mapping). Its message says
 * everything; the loader adds no "got …" since the checked value is the whole mapping.
 */
export function reportAt(check: z.RefinementCtx, path: (string | number)[], message: string): void {
  check.addIssue({ code: 'custom', path, message, params: { crossKey: true } });
}

/** The same for checks over a list (duplicate ids). */
export const EVEN_WITH_ERRORS_IN_LIST = {
  when: (payload: { value: unknown }) => Array.isArray(payload.value),
} as const;

export function wholeNumber(min: number, max: number, unit?: string) {
  const rule = `must be a whole number from ${min} to ${max}${unit ? ` (${unit})` : ''}`;
  const error = ruleError(rule);
  return z.int({ error }).min(min, { error }).max(max, { error });
}

export function flag() {
  return z.boolean({ error: ruleError('must be true or false') });
}

export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  const rule = `must be one of: ${values.join(', ')}`;
  return z.enum(values, {
    error: (issue) => {
      const hint = typeof issue.input === 'string' ? didYouMean(issue.input, values) : '';
      return ruleError(rule)(issue) + hint;
    },
  });
}

export function oneOfNumbers<const T extends readonly [number, ...number[]]>(values: T) {
  return z.literal(values, { error: ruleError(`must be one of: ${values.join(', ')}`) });
}

export function text(maxLength: number, rule = `must be text of 1 to ${maxLength} characters`) {
  const error = ruleError(rule);
  return z.string({ error }).min(1, { error }).max(maxLength, { error });
}

export function pattern(regex: RegExp, rule: string) {
  const error = ruleError(rule);
  return z.string({ error }).regex(regex, { error });
}

// Wildcards, separators, spaces and control characters have meaning in MQTT topics or break them;
// `$` levels are broker-reserved.
const TOPIC_LEVEL = /^[^/+#\s\p{Cc}$][^/+#\s\p{Cc}]{0,63}$/u;
const TOPIC = /^[^/+#\s\p{Cc}$][^+#\s\p{Cc}]*$/u;

/** One MQTT topic level, e.g. the base topic `chargebridge`. */
export function topicLevel() {
  return pattern(
    TOPIC_LEVEL,
    'must be a single MQTT topic level of up to 64 characters: no "/", "+", "#" or spaces, not starting with "$"',
  );
}

/** A full MQTT topic without wildcards, e.g. `homeassistant/status`. */
export function topic() {
  const rule = 'must be an MQTT topic without wildcards ("+", "#") or spaces, like homeassistant/status';
  return pattern(TOPIC, rule).refine((t) => !t.endsWith('/') && !t.includes('//'), {
    error: `${rule} (no empty levels)`,
  });
}

/** A path to a file that must exist; relative paths are taken from the config file's folder. */
export function existingFile(configDir: string, fileExists: (absolutePath: string) => boolean) {
  return text(4096, 'must be a file path')
    .transform((path) => resolve(configDir, path))
    .refine(fileExists, { error: 'must be an existing file' });
}

/** Bluetooth MAC address; accepted with colons, dashes or none, stored lower-case with colons. */
export function macAddress() {
  const rule =
    'must be a Bluetooth MAC address like a4:c1:38:12:34:56 (put it in quotes if it has no colons)';
  return pattern(/^[0-9a-f]{2}([:-]?)[0-9a-f]{2}(\1[0-9a-f]{2}){4}$/i, rule).transform((mac) =>
    (mac.replace(/[:-]/g, '').toLowerCase().match(/../g) ?? []).join(':'),
  );
}

/** IANA time zone name, checked against the zones this Node.js knows; stored in canonical case. */
export function timeZone() {
  const rule = 'must be an IANA time zone name like Europe/Berlin or UTC';
  return text(64, rule)
    .refine((zone) => !/^[+-]/.test(zone) && canonicalTimeZone(zone) !== undefined, { error: rule })
    .transform((zone) => canonicalTimeZone(zone) ?? zone);
}

export function canonicalTimeZone(zone: string): string | undefined {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}
