/**
 * Environment overrides for every key: CHARGEBRIDGE_<KEY>__<KEY>… (double underscore = one level
 * deeper, a number = list index), e.g. CHARGEBRIDGE_MQTT__EMBEDDED_BROKER__PORT=1884 or
 * CHARGEBRIDGE_CHARGERS__0__PIN=012345. Values are YAML (so 1883 is a number and [a, b] a list),
 * except where the key wants text: then the value is kept exactly as written, so a PIN keeps its
 * leading zero. An empty value removes the key (its default applies).
 */
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { isPlainObject } from './casing.js';
import { formatPath, type PathSegment } from './errors.js';
import type { Provenance } from './provenance.js';
import { keyExists, kindsAt, wantsOnlyText } from './schema-walk.js';

export const ENV_PREFIX = 'CHARGEBRIDGE_';
/** Names with the prefix that are not config keys. */
export const CONFIG_PATH_VARIABLE = 'CHARGEBRIDGE_CONFIG';
const NOT_OVERRIDES = new Set([CONFIG_PATH_VARIABLE]);

export interface EnvOverride {
  variable: string;
  path: PathSegment[];
  value: string;
}

function comparePaths(a: readonly PathSegment[], b: readonly PathSegment[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i] as PathSegment;
    const y = b[i] as PathSegment;
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    return String(x) < String(y) ? -1 : 1;
  }
  return a.length - b.length;
}

/** The overrides present in `env`, sorted so list items are filled in index order. */
export function readEnvOverrides(env: NodeJS.ProcessEnv, report: ApplyContext['report']): EnvOverride[] {
  const overrides: EnvOverride[] = [];
  for (const [variable, value] of Object.entries(env)) {
    if (!variable.startsWith(ENV_PREFIX) || NOT_OVERRIDES.has(variable) || value === undefined) continue;
    const segments = variable.slice(ENV_PREFIX.length).split('__');
    if (segments.some((s) => s === '' || s.startsWith('_') || s.endsWith('_'))) {
      report(
        [],
        `environment variable ${variable} is not a valid override: write CHARGEBRIDGE_ then keys joined by a double underscore, e.g. CHARGEBRIDGE_MQTT__URL`,
        false,
      );
      continue;
    }
    const path = segments.map((s) => (/^\d+$/.test(s) ? Number(s) : s.toLowerCase()));
    overrides.push({ variable, path, value });
  }
  return overrides.sort((a, b) => comparePaths(a.path, b.path));
}

/** Text or YAML, depending on what the key wants (see the file comment). */
function envValue(override: EnvOverride, schema: z.ZodType): { value: unknown } | { error: string } {
  if (wantsOnlyText(schema, override.path)) return { value: override.value };
  try {
    return { value: parseYaml(override.value) };
  } catch (error) {
    const reason = (error as Error).message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '');
    return { error: `cannot be set by ${override.variable}: not a valid YAML value (${reason})` };
  }
}

interface ApplyContext {
  schema: z.ZodType;
  provenance: Provenance;
  report(path: PathSegment[], message: string, inFile?: boolean): void;
}

/** Applies one override to the (mutable) tree; returns a problem or undefined. */
function applyOne(
  root: Record<string, unknown>,
  override: EnvOverride,
  ctx: ApplyContext,
): string | undefined {
  const { path, variable } = override;
  let container: Record<string, unknown> | unknown[] = root;
  for (let i = 0; i < path.length; i++) {
    const segment = path[i] as PathSegment;
    const last = i === path.length - 1;
    const here = formatPath(path.slice(0, i)) || 'the top level';
    let next: unknown;
    if (Array.isArray(container)) {
      if (typeof segment !== 'number')
        return `cannot be set by ${variable}: ${here} is a list; use an item number, e.g. ${here.toUpperCase()}__0__…`;
      if (segment > container.length) {
        return `cannot be set by ${variable}: ${here} has ${container.length === 1 ? '1 item' : `${container.length} items`}, so a new item must be number ${container.length}`;
      }
    } else if (typeof segment === 'number') {
      return `cannot be set by ${variable}: ${here} is a mapping of keys, not a list`;
    }
    if (last) {
      const keyKnown = keyExists(ctx.schema, path);
      // Empty = unset; an unknown key is kept so validation names it (with a suggestion).
      if (override.value === '' && keyKnown) {
        if (Array.isArray(container))
          return `cannot be set by ${variable}: an empty value cannot remove a list item`;
        delete container[segment as string];
        return undefined;
      }
      const parsed = envValue(override, ctx.schema);
      if ('error' in parsed) return parsed.error;
      (container as Record<PathSegment, unknown>)[segment] = parsed.value;
      ctx.provenance.setOrigin(path, `set by ${variable}`, false);
      return undefined;
    }
    next = (container as Record<PathSegment, unknown>)[segment];
    if (next === undefined || next === null) {
      // Shape the new container the way the schema wants it, so a wrong index or key gets a clear error.
      const kinds = kindsAt(ctx.schema, path.slice(0, i + 1));
      const list = kinds.has('list') || (!kinds.has('mapping') && typeof path[i + 1] === 'number');
      next = list ? [] : {};
      (container as Record<PathSegment, unknown>)[segment] = next;
    } else if (!Array.isArray(next) && !isPlainObject(next)) {
      return `cannot be set by ${variable}: ${formatPath(path.slice(0, i + 1))} holds a single value in the file, so it has no keys to set`;
    }
    container = next as Record<string, unknown> | unknown[];
  }
  return undefined;
}

/** Applies every CHARGEBRIDGE_* override to `tree` (mutated), noting where each value came from. */
export function applyEnvOverrides(
  tree: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  ctx: ApplyContext,
): void {
  for (const override of readEnvOverrides(env, ctx.report)) {
    const problem = applyOne(tree, override, ctx);
    if (problem !== undefined) ctx.report(override.path, problem, false);
  }
}
