/**
 * `chargers:` — a list of chargers, each with a `type` that picks its schema. Adding a kind
 * (`ocpp`) means adding one option to the union. Ids, addresses and BLE names must be unique.
 */
import { z } from 'zod';
import { EVEN_WITH_ERRORS_IN_LIST, reportAt } from '../fields.js';
import { bs20Charger } from './bs20.js';

export const CHARGER_TYPES = ['bs20'] as const;

const charger = z.discriminatedUnion('type', [bs20Charger], {
  error: (issue) => {
    const value = issue.input;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return 'each charger must be a mapping with at least id and type, e.g. "- id: garage" then "type: bs20"';
    }
    const rule = `must be one of: ${CHARGER_TYPES.join(', ')}`;
    return (value as { type?: unknown }).type === undefined ? `is required; ${rule}` : rule;
  },
});

const UNIQUE_KEYS = [
  { key: 'id', what: 'each charger needs its own id' },
  { key: 'address', what: 'two entries cannot be the same charger' },
  { key: 'ble_name', what: 'two entries cannot be the same charger' },
] as const;

/** Compares the way the charger will: MAC case and separators do not matter. */
function comparable(key: string, value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  return key === 'address' ? value.replace(/[:-]/g, '').toLowerCase() : value;
}

function checkUnique(chargers: unknown[], check: z.RefinementCtx): void {
  for (const { key, what } of UNIQUE_KEYS) {
    const firstSeenAt = new Map<string, number>();
    chargers.forEach((entry, index) => {
      const value = comparable(key, (entry as Record<string, unknown> | null)?.[key]);
      if (value === undefined) return;
      const first = firstSeenAt.get(value);
      if (first === undefined) {
        firstSeenAt.set(value, index);
        return;
      }
      reportAt(
        check,
        [index, key],
        `"${String((entry as Record<string, unknown>)[key])}" is already used by chargers[${first}]; ${what}`,
      );
    });
  }
}

export const chargersSection = z
  .array(charger, { error: 'must be a list of chargers (each entry starting with "- ")' })
  .superRefine(checkUnique, EVEN_WITH_ERRORS_IN_LIST)
  .default([]);
