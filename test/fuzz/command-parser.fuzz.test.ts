/**
 * Every Home Assistant command key through parseCommand with hostile and random payloads: the
 * answer is always either a command whose values are inside the charger's limits, or a short,
 * printable error naming the key. parseCommand never throws.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  COMMAND_KEYS,
  type CommandContext,
  type CommandResult,
  parseCommand,
} from '../../src/homeassistant/commands.js';
import {
  NAME_MAX_LENGTH,
  SESSION_LIMIT_ENERGY_MAX_KWH,
  SESSION_LIMIT_MINUTES_MAX,
} from '../../src/homeassistant/entities.js';
import { LANGUAGES } from '../../src/homeassistant/enums.js';
import {
  PLAN_BATTERY_MAX_KWH,
  PLAN_BATTERY_MIN_KWH,
  PLAN_DEADLINE_MAX_AHEAD_DAYS,
} from '../../src/homeassistant/plan-entities.js';
import { runSeed, seededRandom } from '../reliability/seeded-random.js';
import { HOSTILE_PAYLOADS, randomPayload } from './hostile-payloads.js';

const DAY_MS = 24 * 3600_000;
const KEYS = [...COMMAND_KEYS, 'max_current ', 'MAX_CURRENT', 'unknown', '', '__proto__', 'constructor'];

/** Why a result breaks the contract, or null. */
function violation(key: string, result: CommandResult, context: CommandContext): string | null {
  if (!result.ok) {
    if (typeof result.error !== 'string' || result.error.length < 5) return 'empty error';
    if (result.error.length > 400) return `error of ${result.error.length} characters`;
    // Errors go into log lines and bridge/event: line breaks and escapes must arrive escaped.
    if ([...result.error].some((ch) => ch.charCodeAt(0) < 0x20))
      return `raw control character in ${JSON.stringify(result.error)}`;
    if ((COMMAND_KEYS as readonly string[]).includes(key) && !result.error.startsWith(`${key}:`)) {
      return `error does not name the key: ${result.error}`;
    }
    return null;
  }
  const c = result.command;
  if (c.key !== key) return `parsed ${key} as ${c.key}`;
  const inRange = (v: number, min: number, max: number) => Number.isFinite(v) && v >= min && v <= max;
  switch (c.key) {
    case 'max_current':
      return Number.isInteger(c.amps) && inRange(c.amps, 6, context.ceilingA) ? null : `amps ${c.amps}`;
    case 'charging':
      return typeof c.on === 'boolean' ? null : `on ${String(c.on)}`;
    case 'user':
      return context.users.includes(c.user) ? null : `user ${c.user}`;
    case 'name':
      return /^[\x20-\x7e]+$/.test(c.name) && c.name.length <= NAME_MAX_LENGTH ? null : `name ${c.name}`;
    case 'language':
      return (LANGUAGES as readonly string[]).includes(c.language) ? null : `language ${c.language}`;
    case 'temperature_unit':
      return c.unit === 'celsius' || c.unit === 'fahrenheit' ? null : `unit ${c.unit}`;
    case 'session_limit_energy':
      return c.kwh === null ||
        (inRange(c.kwh, 0.01, SESSION_LIMIT_ENERGY_MAX_KWH) && Math.round(c.kwh * 100) === c.kwh * 100)
        ? null
        : `kwh ${c.kwh}`;
    case 'session_limit_minutes':
      return c.minutes === null ||
        (Number.isInteger(c.minutes) && inRange(c.minutes, 1, SESSION_LIMIT_MINUTES_MAX))
        ? null
        : `minutes ${c.minutes}`;
    case 'scheduled_start':
      return c.at === null || inRange(c.at, context.nowMs - 60_000, context.nowMs + DAY_MS)
        ? null
        : `at ${c.at}`;
    case 'plan_battery_kwh':
      return inRange(c.kwh, PLAN_BATTERY_MIN_KWH, PLAN_BATTERY_MAX_KWH) ? null : `kwh ${c.kwh}`;
    case 'plan_soc_now':
    case 'plan_soc_target':
      return inRange(c.percent, 0, 100) ? null : `percent ${c.percent}`;
    case 'plan_deadline':
      return c.at === null ||
        (c.at > context.nowMs && c.at <= context.nowMs + PLAN_DEADLINE_MAX_AHEAD_DAYS * DAY_MS)
        ? null
        : `at ${c.at}`;
    case 'sync_time':
    case 'restart':
    case 'plan_apply':
      return null;
    default:
      return `unexpected command ${JSON.stringify(c)}`;
  }
}

function check(key: string, payload: string | Uint8Array, context: CommandContext): string | null {
  let result: CommandResult;
  try {
    result = parseCommand(key, payload, context);
  } catch (err) {
    return `threw ${String(err)}`;
  }
  return violation(key, result, context);
}

const shown = (payload: string | Uint8Array) =>
  typeof payload === 'string' ? JSON.stringify(payload.slice(0, 60)) : `<${payload.byteLength} bytes>`;

describe('fuzz: parseCommand', () => {
  it('answers every fixed hostile payload on every key within limits or with a clear error', () => {
    const failures: string[] = [];
    for (const ceilingA of [6, 16, 32]) {
      const context: CommandContext = { ceilingA, users: ['alice', 'bob'], nowMs: Date.UTC(2026, 5, 1, 16) };
      for (const key of KEYS) {
        for (const payload of HOSTILE_PAYLOADS) {
          const problem = check(key, payload, context);
          if (problem) failures.push(`${key} ${shown(payload)} (ceiling ${ceilingA}): ${problem}`);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it('refuses the number spellings a lenient parser would accept', () => {
    const context: CommandContext = { ceilingA: 32, users: [], nowMs: Date.UTC(2026, 5, 1, 16) };
    for (const payload of [
      'NaN',
      'Infinity',
      '1e309',
      '1e1',
      '0x10',
      '16A',
      '２０',
      '-16',
      '5',
      '33',
      '16.5',
      '9'.repeat(400),
    ]) {
      expect(parseCommand('max_current', payload, context).ok, payload).toBe(false);
    }
    expect(parseCommand('max_current', Buffer.alloc(1024 * 1024, 0x36), context)).toMatchObject({
      ok: false,
      error: expect.stringContaining('too long'),
    });
    for (const payload of ['6', '16', ' 32 ', '+16', '16.0']) {
      expect(parseCommand('max_current', payload, context).ok, payload).toBe(true);
    }
  });

  it('holds for 25,000 seeded random payloads across keys, ceilings and users', () => {
    const seed = runSeed('command-parser fuzz');
    const random = seededRandom(seed);
    const failures: string[] = [];
    const accepted = new Map<string, number>();
    for (let i = 0; i < 25_000; i++) {
      const key = random.pick(KEYS);
      const payload = randomPayload(random);
      const context: CommandContext = {
        ceilingA: random.between(6, 80),
        users: random.chance(0.5) ? ['alice', 'bob'] : [],
        nowMs: Date.UTC(2026, random.int(12), 1 + random.int(28), random.int(24), random.int(60)),
      };
      const result = parseCommand(key, payload, context);
      const problem = violation(key, result, context);
      if (problem && failures.length < 20) failures.push(`${key} ${shown(payload)}: ${problem}`);
      if (result.ok) accepted.set(key, (accepted.get(key) ?? 0) + 1);
    }
    expect(failures, `seed ${seed}`).toEqual([]);
    // The generator reaches the accepting paths too, not only the refusals.
    for (const key of ['charging', 'max_current', 'session_limit_minutes', 'sync_time']) {
      expect(accepted.get(key) ?? 0, key).toBeGreaterThan(0);
    }
  });

  it('holds for arbitrary unicode strings and byte arrays (fast-check)', () => {
    const context: CommandContext = { ceilingA: 16, users: ['alice'], nowMs: Date.UTC(2026, 5, 1, 16) };
    fc.assert(
      fc.property(
        fc.constantFrom(...KEYS),
        fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.uint8Array({ maxLength: 300 })),
        (key, payload) => {
          expect(check(key, payload, context)).toBeNull();
        },
      ),
      { numRuns: 5_000, seed: 7 },
    );
  });
});
