/**
 * The single place where YAML's snake_case keys become the camelCase keys the code uses (and back,
 * for printing the effective configuration). Schema keys are plain snake_case words whose parts
 * start with a letter, so the mapping round-trips (a test walks every schema key to keep it so).
 */

export type SnakeToCamel<S extends string> = S extends `${infer Head}_${infer Tail}`
  ? `${Head}${Capitalize<SnakeToCamel<Tail>>}`
  : S;

/** The parsed config's type, with every object key converted to camelCase (arrays and unions too). */
export type CamelCasedDeep<T> = T extends readonly (infer Item)[]
  ? CamelCasedDeep<Item>[]
  : T extends object
    ? { [K in keyof T as K extends string ? SnakeToCamel<K> : K]: CamelCasedDeep<T[K]> }
    : T;

export function snakeToCamel(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_match, letter: string) => letter.toUpperCase());
}

export function camelToSnake(key: string): string {
  return key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function mapKeysDeep(value: unknown, mapKey: (key: string) => string): unknown {
  if (Array.isArray(value)) return value.map((item) => mapKeysDeep(item, mapKey));
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) out[mapKey(key)] = mapKeysDeep(inner, mapKey);
  return out;
}

export function camelizeKeys<T>(value: T): CamelCasedDeep<T> {
  return mapKeysDeep(value, snakeToCamel) as CamelCasedDeep<T>;
}

/** camelCase → snake_case, deep; used to print a parsed config back in the file's own spelling. */
export function snakifyKeys(value: unknown): unknown {
  return mapKeysDeep(value, camelToSnake);
}
