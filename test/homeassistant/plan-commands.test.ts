import { describe, expect, it } from 'vitest';
import { type ChargerCommand, type CommandContext, parseCommand } from '../../src/homeassistant/commands.js';
import { commandKeysFor } from '../../src/homeassistant/entities.js';
import { bs20Caps, fullBs20Caps, T0 } from './fixtures.js';

const HOUR = 3_600_000;
const ctx: CommandContext = { ceilingA: 16, users: [], nowMs: T0 };

function ok(key: string, payload: string, context = ctx): ChargerCommand {
  const result = parseCommand(key, payload, context);
  if (!result.ok) throw new Error(`expected ${key}=${payload} to parse, got: ${result.error}`);
  return result.command;
}

function error(key: string, payload: string, context = ctx): string {
  const result = parseCommand(key, payload, context);
  if (result.ok) throw new Error(`expected ${key} to be rejected, got ${JSON.stringify(result.command)}`);
  return result.error;
}

describe('plan_battery_kwh', () => {
  it.each([
    ['60', 60],
    [' 77.4 ', 77.4],
    ['1', 1],
    ['200.00', 200],
    ['82.35', 82.35],
  ])('%j → %s kWh', (payload, kwh) => {
    expect(ok('plan_battery_kwh', payload)).toEqual({ key: 'plan_battery_kwh', kwh });
  });

  it.each([
    ['', 'plan_battery_kwh: expected a number of kWh, got an empty payload'],
    ['sixty', 'plan_battery_kwh: expected a number like 60, got "sixty"'],
    ['0.5', 'plan_battery_kwh: 0.5 kWh is below the minimum of 1 kWh'],
    ['-60', 'plan_battery_kwh: -60 kWh is below the minimum of 1 kWh'],
    ['200.1', 'plan_battery_kwh: 200.1 kWh is above the maximum of 200 kWh'],
    ['60.125', 'plan_battery_kwh: 60.125 kWh is more precise than 0.01 kWh'],
    ['6e1', 'plan_battery_kwh: expected a number like 60, got "6e1"'],
    ['NaN', 'plan_battery_kwh: expected a number like 60, got "NaN"'],
  ])('rejects %j', (payload, message) => {
    expect(error('plan_battery_kwh', payload)).toBe(message);
  });
});

describe('plan_soc_now and plan_soc_target', () => {
  it.each(['plan_soc_now', 'plan_soc_target'])('%s takes 0 … 100 %%', (key) => {
    expect(ok(key, '0')).toEqual({ key, percent: 0 });
    expect(ok(key, '80')).toEqual({ key, percent: 80 });
    expect(ok(key, '100')).toEqual({ key, percent: 100 });
    // A car's own SoC sensor often has one decimal.
    expect(ok(key, '57.5')).toEqual({ key, percent: 57.5 });
  });

  it.each(['plan_soc_now', 'plan_soc_target'])('%s rejects out of range and garbage', (key) => {
    expect(error(key, '101')).toBe(`${key}: 101 % is above the maximum of 100 %`);
    expect(error(key, '-1')).toBe(`${key}: -1 % is below the minimum of 0 %`);
    expect(error(key, '50.25')).toBe(`${key}: 50.25 % is more precise than 0.1 %`);
    expect(error(key, '80%')).toBe(`${key}: expected a number like 80, got "80%"`);
    expect(error(key, '')).toBe(`${key}: expected a number of %, got an empty payload`);
  });
});

describe('plan_deadline', () => {
  const iso = (ms: number) => new Date(ms).toISOString();

  it('reads what the datetime entity sends, the text fallback and a bare time of day', () => {
    expect(ok('plan_deadline', iso(T0 + 8 * HOUR))).toEqual({ key: 'plan_deadline', at: T0 + 8 * HOUR });
    const local = new Date(T0 + 8 * HOUR);
    const two = (n: number) => String(n).padStart(2, '0');
    const hhmm = `${two(local.getHours())}:${two(local.getMinutes())}`;
    const text = `${local.getFullYear()}-${two(local.getMonth() + 1)}-${two(local.getDate())} ${hhmm}`;
    expect(ok('plan_deadline', text)).toEqual({ key: 'plan_deadline', at: T0 + 8 * HOUR });
    expect(ok('plan_deadline', hhmm)).toEqual({ key: 'plan_deadline', at: T0 + 8 * HOUR });
  });

  it.each(['', 'none', 'Clear'])('%j clears the deadline', (payload) => {
    expect(ok('plan_deadline', payload)).toEqual({ key: 'plan_deadline', at: null });
  });

  it('rejects the past (even a second ago), more than 7 days ahead, and garbage', () => {
    expect(error('plan_deadline', iso(T0 - HOUR))).toMatch(/^plan_deadline: ".*" is in the past$/);
    expect(error('plan_deadline', iso(T0 - 1000))).toMatch(/is in the past$/);
    expect(error('plan_deadline', iso(T0))).toMatch(/is in the past$/);
    expect(ok('plan_deadline', iso(T0 + 7 * 24 * HOUR))).toEqual({
      key: 'plan_deadline',
      at: T0 + 7 * 24 * HOUR,
    });
    expect(error('plan_deadline', iso(T0 + 7 * 24 * HOUR + 60_000))).toMatch(/is more than 7 days ahead$/);
    expect(error('plan_deadline', 'tomorrow morning')).toBe(
      'plan_deadline: expected a date and time like 2026-03-01T07:30 or a time like 07:30, got "tomorrow morning"',
    );
    expect(error('plan_deadline', '2026-02-30T07:30')).toContain('expected a date and time');
    expect(error('plan_deadline', '25:00')).toContain('expected a date and time');
  });
});

describe('plan_apply and the capability', () => {
  it('accepts PRESS only', () => {
    expect(ok('plan_apply', 'PRESS')).toEqual({ key: 'plan_apply' });
    expect(error('plan_apply', 'apply')).toBe('plan_apply: expected PRESS, got "apply"');
  });

  it('exists only where the session tracker runs', () => {
    const withSessions = commandKeysFor(fullBs20Caps(1));
    for (const key of [
      'plan_battery_kwh',
      'plan_soc_now',
      'plan_soc_target',
      'plan_deadline',
      'plan_apply',
    ]) {
      expect(withSessions).toContain(key);
    }
    const keys = commandKeysFor(bs20Caps(1));
    expect(keys.filter((k) => k.startsWith('plan_'))).toEqual([]);
    expect(error('plan_apply', 'PRESS', { ...ctx, keys })).toBe(
      'plan_apply: this charger does not support this setting',
    );
  });
});
