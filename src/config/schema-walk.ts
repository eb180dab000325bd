/**
 * Reads the shape of the zod schema (not a value): what a key expects, and which keys exist.
 * Environment variables and secrets.yaml are plain text, so the loader asks here whether a key
 * wants text (keep "012345" as written) or something else (parse "1883" as a number).
 */
import type { z } from 'zod';

export type ValueKind = 'text' | 'number' | 'boolean' | 'mapping' | 'list' | 'other';

interface SchemaDef {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  options?: z.ZodType[];
  entries?: Record<string, unknown>;
  values?: unknown[];
}

function defOf(schema: z.ZodType): SchemaDef {
  return schema._zod.def as unknown as SchemaDef;
}

/** Wrappers that do not change what a key accepts. */
const WRAPPERS = new Set(['optional', 'default', 'prefault', 'nullable', 'readonly', 'catch', 'nonoptional']);

/** Every concrete schema a value at `schema` may be checked against (unions give several). */
function concrete(schema: z.ZodType): z.ZodType[] {
  const def = defOf(schema);
  if (WRAPPERS.has(def.type) && def.innerType) return concrete(def.innerType);
  if (def.type === 'pipe' && def.in) return concrete(def.in);
  if (def.type === 'union' && def.options) return def.options.flatMap(concrete);
  return [schema];
}

function kindOf(schema: z.ZodType): ValueKind {
  const def = defOf(schema);
  switch (def.type) {
    case 'string':
    case 'enum':
      return 'text';
    case 'number':
    case 'int':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'object':
      return 'mapping';
    case 'array':
      return 'list';
    case 'literal': {
      const kinds = new Set((def.values ?? []).map((v) => typeof v));
      if (kinds.size === 1 && kinds.has('string')) return 'text';
      if (kinds.size === 1 && kinds.has('number')) return 'number';
      return 'other';
    }
    default:
      return 'other';
  }
}

/** The schemas that would check the value at `path` (empty when no such key exists). */
export function schemasAt(root: z.ZodType, path: readonly (string | number)[]): z.ZodType[] {
  let current = concrete(root);
  for (const segment of path) {
    const next: z.ZodType[] = [];
    for (const schema of current) {
      const def = defOf(schema);
      if (
        def.type === 'object' &&
        typeof segment === 'string' &&
        def.shape &&
        Object.hasOwn(def.shape, segment)
      ) {
        const field = def.shape[segment];
        if (field) next.push(...concrete(field));
      } else if (def.type === 'array' && typeof segment === 'number' && def.element) {
        next.push(...concrete(def.element));
      }
    }
    current = next;
  }
  return current;
}

export function kindsAt(root: z.ZodType, path: readonly (string | number)[]): Set<ValueKind> {
  return new Set(schemasAt(root, path).map(kindOf));
}

/** True when the key exists and every schema for it wants text. */
export function wantsOnlyText(root: z.ZodType, path: readonly (string | number)[]): boolean {
  const kinds = kindsAt(root, path);
  return kinds.size === 1 && kinds.has('text');
}

export function keyExists(root: z.ZodType, path: readonly (string | number)[]): boolean {
  return schemasAt(root, path).length > 0;
}

/**
 * The keys a mapping at `path` may have. Where a union offers several mappings, the one whose
 * literal fields (e.g. `type: bs20`) match `value` wins.
 */
export function allowedKeysAt(root: z.ZodType, path: readonly (string | number)[], value: unknown): string[] {
  const objects = schemasAt(root, path).filter((s) => defOf(s).type === 'object');
  const matching = objects.filter((s) =>
    Object.entries(defOf(s).shape ?? {}).every(([key, field]) => {
      const def = defOf(field);
      if (def.type !== 'literal' || typeof value !== 'object' || value === null) return true;
      return (def.values ?? []).includes((value as Record<string, unknown>)[key]);
    }),
  );
  const keys = (matching.length > 0 ? matching : objects).flatMap((s) => Object.keys(defOf(s).shape ?? {}));
  return [...new Set(keys)];
}

/** Every key path of the schema, list items written as `[]`: `chargers[].simulator.car.demand_a`. */
export function allKeyPaths(root: z.ZodType): string[] {
  const out = new Set<string>();
  const visit = (schema: z.ZodType, prefix: string) => {
    for (const part of concrete(schema)) {
      const def = defOf(part);
      if (def.type === 'object' && def.shape) {
        for (const [key, field] of Object.entries(def.shape)) {
          const path = prefix ? `${prefix}.${key}` : key;
          out.add(path);
          visit(field, path);
        }
      } else if (def.type === 'array' && def.element) {
        visit(def.element, `${prefix}[]`);
      }
    }
  };
  visit(root, '');
  return [...out];
}
