/**
 * The charge-plan commands (`set/plan_*`): the plan's inputs and the apply button. Like the other
 * commands, each schema turns payload text into a typed command or a message a user can read.
 */
import { z } from 'zod';
import { CLEAR_WORDS, fail, readDateTime, readNumber } from './command-values.js';
import { PAYLOAD_PRESS } from './entity-types.js';
import { quote } from './payload.js';
import { PLAN_BATTERY_MAX_KWH, PLAN_BATTERY_MIN_KWH, PLAN_DEADLINE_MAX_AHEAD_DAYS } from './plan-entities.js';

export const PLAN_COMMAND_KEYS = [
  'plan_battery_kwh',
  'plan_soc_now',
  'plan_soc_target',
  'plan_deadline',
  'plan_apply',
] as const;
export type PlanCommandKey = (typeof PLAN_COMMAND_KEYS)[number];

export type PlanCommand =
  | { key: 'plan_battery_kwh'; kwh: number }
  | { key: 'plan_soc_now'; percent: number }
  | { key: 'plan_soc_target'; percent: number }
  /** Epoch ms; null clears the deadline (the plan is then incomplete). */
  | { key: 'plan_deadline'; at: number | null }
  | { key: 'plan_apply' };

type Schema<K extends PlanCommandKey> = z.ZodType<Extract<PlanCommand, { key: K }>, string>;

const DAY_MS = 24 * 60 * 60 * 1000;

/** Whole percent from the slider; one decimal so a car's own SoC sensor can be fed in as it is. */
function soc<K extends 'plan_soc_now' | 'plan_soc_target'>(key: K): Schema<K> {
  return z.string().transform(
    (text, ctx) =>
      ({
        key,
        percent: readNumber(text.trim(), ctx, {
          unit: '%',
          min: 0,
          max: 100,
          maxDecimals: 1,
          maxLabel: 'the maximum',
          example: '80',
        }),
      }) as Extract<PlanCommand, { key: K }>,
  );
}

export function planCommandSchemas(nowMs: number): { [K in PlanCommandKey]: Schema<K> } {
  return {
    plan_battery_kwh: z.string().transform((text, ctx) => ({
      key: 'plan_battery_kwh' as const,
      kwh: readNumber(text.trim(), ctx, {
        unit: 'kWh',
        min: PLAN_BATTERY_MIN_KWH,
        max: PLAN_BATTERY_MAX_KWH,
        maxDecimals: 2,
        maxLabel: 'the maximum',
        example: '60',
      }),
    })),

    plan_soc_now: soc('plan_soc_now'),
    plan_soc_target: soc('plan_soc_target'),

    plan_deadline: z.string().transform((text, ctx) => {
      const wanted = text.trim();
      if (CLEAR_WORDS.includes(wanted.toLowerCase())) return { key: 'plan_deadline' as const, at: null };
      const at = readDateTime(wanted, ctx, nowMs);
      // No tolerance here: a deadline that has passed has nothing left to plan.
      if (at <= nowMs) return fail(ctx, `${quote(wanted)} is in the past`);
      if (at > nowMs + PLAN_DEADLINE_MAX_AHEAD_DAYS * DAY_MS) {
        return fail(ctx, `${quote(wanted)} is more than ${PLAN_DEADLINE_MAX_AHEAD_DAYS} days ahead`);
      }
      return { key: 'plan_deadline' as const, at };
    }),

    plan_apply: z.string().transform((text, ctx) => {
      if (text.trim().toUpperCase() !== PAYLOAD_PRESS)
        return fail(ctx, `expected ${PAYLOAD_PRESS}, got ${quote(text)}`);
      return { key: 'plan_apply' as const };
    }),
  };
}
