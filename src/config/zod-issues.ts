/**
 * Turns zod's issues into ConfigIssues a user can act on: the key path in the file's spelling,
 * what is allowed, the bad value (secrets redacted), where the value came from, and for unknown
 * keys a "did you mean" among the keys allowed at that place.
 */
import type { z } from 'zod';
import { type ConfigIssue, formatPath, type PathSegment } from './errors.js';
import type { Provenance } from './provenance.js';
import { isSecretKey, REDACTED, redactText } from './redact.js';
import { allowedKeysAt } from './schema-walk.js';
import { didYouMean } from './suggest.js';
import type { Position } from './yaml-source.js';

type RawIssue = z.core.$ZodRawIssue;

const EXPECTED: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'a mapping of keys',
  array: 'a list',
};

/** Messages for issues whose schema has no message of its own. */
export function errorMap(issue: RawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'is required';
      return `must be ${EXPECTED[issue.expected] ?? issue.expected}`;
    case 'unrecognized_keys':
      return 'unknown key';
    case 'invalid_union': {
      const options = 'options' in issue && Array.isArray(issue.options) ? issue.options : undefined;
      return options ? `must be one of: ${options.map(String).join(', ')}` : 'has an unsupported form';
    }
    case 'invalid_value':
      return `must be one of: ${issue.values.map(String).join(', ')}`;
    case 'too_small':
      return `must be at least ${String(issue.minimum)}`;
    case 'too_big':
      return `must be at most ${String(issue.maximum)}`;
    default:
      return undefined;
  }
}

function kindOfValue(value: unknown): string {
  if (typeof value === 'number') return 'a number';
  if (typeof value === 'boolean') return 'a boolean';
  if (typeof value === 'string') return 'text';
  return '';
}

/** The bad value as the user would recognise it; mappings and lists are named, never dumped. */
function describeValue(value: unknown, secret: boolean, secretValues: ReadonlySet<string>): string {
  if (value === null) return 'an empty value';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (secret || secretValues.has(String(value))) return REDACTED;
  if (typeof value === 'string') {
    const shown = redactText(value, secretValues);
    return JSON.stringify(shown.length > 80 ? `${shown.slice(0, 77)}...` : shown);
  }
  return String(value);
}

/** A nudge for the YAML typing mistakes people make most. */
function typingHint(issue: z.core.$ZodIssue, value: unknown): string {
  if (issue.code !== 'invalid_type') return '';
  const wantsNumber = issue.expected === 'number' || issue.expected === 'int';
  if (wantsNumber && typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value))) {
    return ' — remove the quotes';
  }
  if (issue.expected === 'string' && (typeof value === 'number' || typeof value === 'boolean')) {
    return issue.message.includes('quotes') ? '' : ' — put it in quotes';
  }
  if (
    issue.expected === 'boolean' &&
    typeof value === 'string' &&
    /^(yes|no|on|off|true|false)$/i.test(value)
  ) {
    return ' — write true or false, without quotes';
  }
  return '';
}

export interface TranslateContext {
  provenance: Provenance;
  schema: z.ZodType;
  locate: (path: readonly PathSegment[]) => Position | undefined;
}

function withPlace(issue: ConfigIssue, path: readonly PathSegment[], ctx: TranslateContext): ConfigIssue {
  const origin = ctx.provenance.originOf(path);
  const message = origin ? `${issue.message} (${origin.note})` : issue.message;
  const position = origin && !origin.inFile ? undefined : ctx.locate(path);
  return { ...issue, message, ...(position ? { line: position.line, column: position.column } : {}) };
}

export function translateIssues(issues: readonly z.core.$ZodIssue[], ctx: TranslateContext): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const issue of issues) {
    const path = issue.path.filter((s): s is PathSegment => typeof s !== 'symbol');
    if (ctx.provenance.isReported(path)) continue;
    if (issue.code === 'unrecognized_keys') {
      const allowed = allowedKeysAt(ctx.schema, path, (issue as { input?: unknown }).input);
      for (const key of issue.keys) {
        const keyPath = [...path, key];
        const message = `unknown key${didYouMean(key, allowed)}; allowed here: ${allowed.join(', ')}`;
        out.push(withPlace({ path: formatPath(keyPath), message }, keyPath, ctx));
      }
      continue;
    }
    let message = issue.message;
    const input = (issue as { input?: unknown }).input;
    // A bad charger `type` reports the whole entry as its input.
    const value =
      issue.code === 'invalid_union' &&
      'discriminator' in issue &&
      typeof input === 'object' &&
      input !== null
        ? (input as Record<string, unknown>)[String(issue.discriminator)]
        : input;
    const crossKey = issue.code === 'custom' && issue.params?.crossKey === true;
    if (value !== undefined && !crossKey) {
      const secret = path.some((s) => typeof s === 'string' && isSecretKey(s));
      const shown = describeValue(value, secret, ctx.provenance.secretValues);
      const kind = issue.code === 'invalid_type' ? kindOfValue(value) : '';
      message += `; got ${shown}${kind ? ` (${kind})` : ''}${typingHint(issue, value)}`;
    }
    out.push(withPlace({ path: formatPath(path), message }, path, ctx));
  }
  return out;
}
