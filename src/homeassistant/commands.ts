/**
 * Commands from Home Assistant (`<base>/<charger>/set/<key>`): one zod schema per key turns the raw
 * payload text into a typed command, or into an error a user can read. parseCommand never throws;
 * a rejected payload never reaches the charger.
 */
import { z } from 'zod';
import { MIN_CHARGING_CURRENT_A } from '../core/charger.js';
import { CLEAR_WORDS, fail, readDateTime, readNumber } from './command-values.js';
import {
  NAME_MAX_LENGTH,
  PAYLOAD_PRESS,
  SESSION_LIMIT_ENERGY_MAX_KWH,
  SESSION_LIMIT_MINUTES_MAX,
} from './entities.js';
import { LANGUAGES, type Language, TEMPERATURE_UNITS } from './enums.js';
import { decodePayload, quote } from './payload.js';
import { PLAN_COMMAND_KEYS, type PlanCommand, planCommandSchemas } from './plan-commands.js';

export const COMMAND_KEYS = [
  'charging',
  'max_current',
  'user',
  'name',
  'language',
  'temperature_unit',
  'session_limit_energy',
  'session_limit_minutes',
  'scheduled_start',
  'sync_time',
  'restart',
  ...PLAN_COMMAND_KEYS,
] as const;
export type CommandKey = (typeof COMMAND_KEYS)[number];

export type ChargerCommand =
  | { key: 'charging'; on: boolean }
  | { key: 'max_current'; amps: number }
  | { key: 'user'; user: string }
  | { key: 'name'; name: string }
  | { key: 'language'; language: Language }
  | { key: 'temperature_unit'; unit: 'celsius' | 'fahrenheit' }
  /** null = no limit */
  | { key: 'session_limit_energy'; kwh: number | null }
  | { key: 'session_limit_minutes'; minutes: number | null }
  /** Epoch ms; null cancels the schedule. */
  | { key: 'scheduled_start'; at: number | null }
  | { key: 'sync_time' }
  | { key: 'restart' }
  | PlanCommand;

export interface CommandContext {
  /** min(hardware limit, configured ceiling) of this charger, amps. */
  ceilingA: number;
  /** Configured user names. */
  users: readonly string[];
  nowMs: number;
  /** How far ahead a start may be scheduled; the BS20 refuses more than 24 h. */
  maxScheduleAheadMs?: number;
  /** Keys this charger supports (see commandKeysFor); absent = all. */
  keys?: readonly string[];
}

export type CommandResult = { ok: true; command: ChargerCommand } | { ok: false; error: string };

const DAY_MS = 24 * 60 * 60 * 1000;
/** A schedule a few seconds in the past is clock skew between HA and us, not a mistake. */
const SCHEDULE_PAST_TOLERANCE_MS = 60_000;

type Schema<K extends CommandKey> = z.ZodType<Extract<ChargerCommand, { key: K }>, string>;

function oneOf<T extends string>(text: string, options: readonly T[]): T | undefined {
  const lower = text.toLowerCase();
  return options.find((o) => o === text) ?? options.find((o) => o.toLowerCase() === lower);
}

function press<K extends 'sync_time' | 'restart'>(key: K): Schema<K> {
  return z.string().transform((text, ctx) => {
    if (text.trim().toUpperCase() !== PAYLOAD_PRESS)
      return fail(ctx, `expected ${PAYLOAD_PRESS}, got ${quote(text)}`);
    return { key } as Extract<ChargerCommand, { key: K }>;
  });
}

/**
 * One schema builder per key: a message builds only the schema of its own key (the context — ceiling,
 * users, now — differs per message), not all twenty.
 */
const SCHEMAS: { [K in CommandKey]: (context: CommandContext) => Schema<K> } = {
  charging: (_context) =>
    z.string().transform((text, ctx) => {
      const word = text.trim().toUpperCase();
      if (word !== 'ON' && word !== 'OFF') return fail(ctx, `expected ON or OFF, got ${quote(text)}`);
      return { key: 'charging' as const, on: word === 'ON' };
    }),

  max_current: (context) =>
    z.string().transform((text, ctx) => ({
      key: 'max_current' as const,
      amps: readNumber(text.trim(), ctx, {
        unit: 'A',
        min: MIN_CHARGING_CURRENT_A,
        max: context.ceilingA,
        maxDecimals: 0,
        maxLabel: "this charger's maximum",
        example: '16',
      }),
    })),

  user: (context) =>
    z.string().transform((text, ctx) => {
      const wanted = text.trim();
      if (context.users.length === 0) return fail(ctx, 'no users are configured');
      if (wanted === '') return fail(ctx, 'expected a user name, got an empty payload');
      const user = oneOf(wanted, context.users);
      if (user === undefined) {
        return fail(ctx, `${quote(wanted)} is not a configured user (${context.users.join(', ')})`);
      }
      return { key: 'user' as const, user };
    }),

  name: (_context) =>
    z.string().transform((text, ctx) => {
      // The charger adds its own "ACP#" prefix; accept a pasted advertised name too.
      const name = text.trim().replace(/^ACP#/, '');
      if (name === '') return fail(ctx, 'the name must not be empty');
      if (!/^[\x20-\x7E]+$/.test(name)) {
        return fail(
          ctx,
          'the name may only use printable ASCII characters (letters, digits, punctuation, space)',
        );
      }
      if (name.length > NAME_MAX_LENGTH) {
        return fail(
          ctx,
          `${quote(name)} is ${name.length} characters; the charger keeps at most ${NAME_MAX_LENGTH}`,
        );
      }
      return { key: 'name' as const, name };
    }),

  language: (_context) =>
    z.string().transform((text, ctx) => {
      const language = oneOf(text.trim(), LANGUAGES);
      if (language === undefined) {
        return fail(
          ctx,
          `${quote(text.trim())} is not a language this charger knows (${LANGUAGES.join(', ')})`,
        );
      }
      return { key: 'language' as const, language };
    }),

  temperature_unit: (_context) =>
    z.string().transform((text, ctx) => {
      const unit = oneOf(text.trim(), TEMPERATURE_UNITS);
      if (unit === undefined) return fail(ctx, `expected celsius or fahrenheit, got ${quote(text.trim())}`);
      return { key: 'temperature_unit' as const, unit };
    }),

  session_limit_energy: (_context) =>
    z.string().transform((text, ctx) => {
      const kwh = readNumber(text.trim(), ctx, {
        unit: 'kWh',
        min: 0,
        max: SESSION_LIMIT_ENERGY_MAX_KWH,
        maxDecimals: 2,
        maxLabel: 'the maximum',
        example: '10.5',
      });
      return { key: 'session_limit_energy' as const, kwh: kwh === 0 ? null : kwh };
    }),

  session_limit_minutes: (_context) =>
    z.string().transform((text, ctx) => {
      const minutes = readNumber(text.trim(), ctx, {
        unit: 'min',
        min: 0,
        max: SESSION_LIMIT_MINUTES_MAX,
        maxDecimals: 0,
        maxLabel: 'the maximum',
        example: '90',
      });
      return { key: 'session_limit_minutes' as const, minutes: minutes === 0 ? null : minutes };
    }),

  scheduled_start: (context) =>
    z.string().transform((text, ctx) => {
      const wanted = text.trim();
      if (CLEAR_WORDS.includes(wanted.toLowerCase())) return { key: 'scheduled_start' as const, at: null };
      const maxAheadMs = context.maxScheduleAheadMs ?? DAY_MS;
      const at = readDateTime(wanted, ctx, context.nowMs);
      if (at < context.nowMs - SCHEDULE_PAST_TOLERANCE_MS)
        return fail(ctx, `${quote(wanted)} is in the past`);
      if (at > context.nowMs + maxAheadMs) {
        const hours = Math.round(maxAheadMs / 3_600_000);
        return fail(
          ctx,
          `${quote(wanted)} is more than ${hours} hours ahead; the charger schedules at most ${hours} h`,
        );
      }
      return { key: 'scheduled_start' as const, at };
    }),

  sync_time: (_context) => press('sync_time'),
  restart: (_context) => press('restart'),
  plan_battery_kwh: (context) => planCommandSchemas(context.nowMs).plan_battery_kwh,
  plan_soc_now: (context) => planCommandSchemas(context.nowMs).plan_soc_now,
  plan_soc_target: (context) => planCommandSchemas(context.nowMs).plan_soc_target,
  plan_deadline: (context) => planCommandSchemas(context.nowMs).plan_deadline,
  plan_apply: (context) => planCommandSchemas(context.nowMs).plan_apply,
};

export function commandSchema<K extends CommandKey>(key: K, context: CommandContext): Schema<K> {
  return SCHEMAS[key](context);
}

function isCommandKey(key: string): key is CommandKey {
  return (COMMAND_KEYS as readonly string[]).includes(key);
}

export function parseCommand(
  key: string,
  payload: Uint8Array | string,
  context: CommandContext,
): CommandResult {
  try {
    if (!isCommandKey(key)) {
      return { ok: false, error: `unknown command ${quote(key)} (known: ${COMMAND_KEYS.join(', ')})` };
    }
    if (context.keys !== undefined && !context.keys.includes(key)) {
      return { ok: false, error: `${key}: this charger does not support this setting` };
    }
    const decoded = decodePayload(payload);
    if (!decoded.ok) return { ok: false, error: `${key}: ${decoded.error}` };
    const result = commandSchema(key, context).safeParse(decoded.text);
    if (result.success) return { ok: true, command: result.data };
    return { ok: false, error: `${key}: ${result.error.issues[0]?.message ?? 'invalid payload'}` };
  } catch (err) {
    // Defensive: a schema bug must not take the MQTT handler down.
    return {
      ok: false,
      error: `${key}: could not read the payload (${err instanceof Error ? err.message : String(err)})`,
    };
  }
}
