import { describe, expect, it } from 'vitest';
import { camelizeKeys, camelToSnake, snakeToCamel, snakifyKeys } from '../../src/config/casing.js';
import { createConfigSchema } from '../../src/config/schema.js';
import { allKeyPaths } from '../../src/config/schema-walk.js';

const schema = createConfigSchema({ configDir: '/', systemTimezone: 'UTC', fileExists: () => true });

describe('snake_case ↔ camelCase', () => {
  it('every schema key is plain snake_case and survives the round trip', () => {
    const keys = new Set(allKeyPaths(schema).map((path) => path.split('.').at(-1)?.replace('[]', '') ?? ''));
    expect(keys.size).toBeGreaterThan(40);
    for (const key of keys) {
      expect(key).toMatch(/^[a-z][a-z0-9]*(_[a-z][a-z0-9]*)*$/);
      expect(camelToSnake(snakeToCamel(key))).toBe(key);
    }
  });

  it('converts nested objects and lists, and back', () => {
    const file = { log_level: 'info', chargers: [{ max_current: 16, simulator: { car: { demand_a: 6 } } }] };
    const camel = camelizeKeys(file);
    expect(camel).toEqual({
      logLevel: 'info',
      chargers: [{ maxCurrent: 16, simulator: { car: { demandA: 6 } } }],
    });
    expect(snakifyKeys(camel)).toEqual(file);
  });
});
