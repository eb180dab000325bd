import { describe, expect, it } from 'vitest';
import { type ChargerCommand, type CommandContext, parseCommand } from '../../src/homeassistant/commands.js';
import { commandKeysFor } from '../../src/homeassistant/entities.js';
import { MAX_PAYLOAD_BYTES } from '../../src/homeassistant/payload.js';
import { fullBs20Caps, ocppCaps, T0 } from './fixtures.js';

const ctx: CommandContext = { ceilingA: 16, users: ['alice', 'Bob'], nowMs: T0 };

function ok(key: string, payload: string | Uint8Array, context = ctx): ChargerCommand {
  const result = parseCommand(key, payload, context);
  if (!result.ok) throw new Error(`expected ${key}=${String(payload)} to parse, got: ${result.error}`);
  return result.command;
}

function error(key: string, payload: string | Uint8Array, context = ctx): string {
  const result = parseCommand(key, payload, context);
  if (result.ok) throw new Error(`expected ${key} to be rejected, got ${JSON.stringify(result.command)}`);
  return result.error;
}

describe('charging', () => {
  it.each([
    ['ON', true],
    ['OFF', false],
    [' on ', true],
    ['Off\n', false],
  ])('%j → on=%s', (payload, on) => {
    expect(ok('charging', payload)).toEqual({ key: 'charging', on });
  });

  it.each(['', 'ONN', 'true', '1', '{"state":"ON"}', 'NaN'])('rejects %j', (payload) => {
    expect(error('charging', payload)).toMatch(/^charging: expected ON or OFF/);
  });
});

describe('max_current', () => {
  it.each([
    ['16', 16],
    ['6', 6],
    ['16.0', 16],
    [' 10 ', 10],
    ['+8', 8],
    ['12.000', 12],
  ])('%j → %d A', (payload, amps) => {
    expect(ok('max_current', payload)).toEqual({ key: 'max_current', amps });
  });

  it.each([
    ['40', "max_current: 40 A is above this charger's maximum of 16 A"],
    ['17', "max_current: 17 A is above this charger's maximum of 16 A"],
    ['5', 'max_current: 5 A is below the minimum of 6 A'],
    ['-6', 'max_current: -6 A is below the minimum of 6 A'],
    ['0', 'max_current: 0 A is below the minimum of 6 A'],
    ['16.5', 'max_current: 16.5 A is not a whole number of A'],
    ['', 'max_current: expected a number of A, got an empty payload'],
    ['   ', 'max_current: expected a number of A, got an empty payload'],
    ['NaN', 'max_current: expected a number like 16, got "NaN"'],
    ['Infinity', 'max_current: expected a number like 16, got "Infinity"'],
    ['1e3', 'max_current: expected a number like 16, got "1e3"'],
    ['0x10', 'max_current: expected a number like 16, got "0x10"'],
    ['16A', 'max_current: expected a number like 16, got "16A"'],
    ['1,5', 'max_current: expected a number like 16, got "1,5"'],
    ['{"value":16}', 'max_current: expected a number like 16, got "{\\"value\\":16}"'],
    ['99999999999999999999', 'max_current: expected a number like 16, got "99999999999999999999"'],
  ])('rejects %j', (payload, message) => {
    expect(error('max_current', payload)).toBe(message);
  });

  it('follows the ceiling it is given', () => {
    expect(ok('max_current', '32', { ...ctx, ceilingA: 32 })).toEqual({ key: 'max_current', amps: 32 });
    expect(error('max_current', '10', { ...ctx, ceilingA: 8 })).toContain('maximum of 8 A');
  });
});

describe('hostile payloads', () => {
  it('refuses a 1 MB payload without reading it', () => {
    const huge = Buffer.alloc(1024 * 1024, 0x31);
    expect(error('max_current', huge)).toBe(
      `max_current: payload is too long (1048576 bytes, at most ${MAX_PAYLOAD_BYTES})`,
    );
    expect(error('name', 'x'.repeat(MAX_PAYLOAD_BYTES + 1))).toContain('payload is too long');
  });

  it('refuses bytes that are not UTF-8', () => {
    expect(error('name', Buffer.from([0x47, 0xff, 0xfe]))).toBe('name: payload is not valid UTF-8 text');
  });

  it('reads Buffer payloads like strings', () => {
    expect(ok('max_current', Buffer.from('10'))).toEqual({ key: 'max_current', amps: 10 });
    expect(ok('charging', new Uint8Array([0x4f, 0x4e]))).toEqual({ key: 'charging', on: true });
  });

  it('shortens and escapes garbage quoted back in messages', () => {
    const message = error('charging', `${'A'.repeat(100)}\u0000`);
    expect(message.length).toBeLessThan(100);
    expect(message).toContain('…');
  });

  it('rejects unknown commands and ones this charger lacks', () => {
    expect(error('self_destruct', 'ON')).toMatch(
      /^unknown command "self_destruct" \(known: charging, max_current/,
    );
    const keys = commandKeysFor(ocppCaps());
    expect(error('language', 'german', { ...ctx, keys })).toBe(
      'language: this charger does not support this setting',
    );
    expect(ok('max_current', '10', { ...ctx, keys })).toEqual({ key: 'max_current', amps: 10 });
  });

  it('never throws, whatever arrives', () => {
    const payloads: Array<string | Uint8Array> = [
      '',
      ' ',
      'null',
      '[]',
      '{}',
      '\u0000',
      '💥',
      Buffer.alloc(0),
    ];
    for (const key of [...commandKeysFor(fullBs20Caps(3)), 'bogus', '__proto__', 'constructor']) {
      for (const payload of payloads) {
        expect(() => parseCommand(key, payload, ctx)).not.toThrow();
      }
    }
  });
});

describe('user', () => {
  it('accepts configured users, case-insensitively, returning the configured spelling', () => {
    expect(ok('user', 'alice')).toEqual({ key: 'user', user: 'alice' });
    expect(ok('user', 'bob')).toEqual({ key: 'user', user: 'Bob' });
  });

  it('explains what is allowed', () => {
    expect(error('user', 'mallory')).toBe('user: "mallory" is not a configured user (alice, Bob)');
    expect(error('user', '')).toBe('user: expected a user name, got an empty payload');
    expect(error('user', 'alice', { ...ctx, users: [] })).toBe('user: no users are configured');
  });
});

describe('name', () => {
  it.each([
    ['Garage', 'Garage'],
    [' Garage ', 'Garage'],
    ['ACP#Garage', 'Garage'],
    ['12345678901', '12345678901'],
    ['My EV #1', 'My EV #1'],
  ])('%j → %j', (payload, name) => {
    expect(ok('name', payload)).toEqual({ key: 'name', name });
  });

  it.each([
    ['', 'name: the name must not be empty'],
    ['ACP#', 'name: the name must not be empty'],
    ['123456789012', 'name: "123456789012" is 12 characters; the charger keeps at most 11'],
    [
      'Garåge',
      'name: the name may only use printable ASCII characters (letters, digits, punctuation, space)',
    ],
    [
      'Ga\trage',
      'name: the name may only use printable ASCII characters (letters, digits, punctuation, space)',
    ],
  ])('rejects %j', (payload, message) => {
    expect(error('name', payload)).toBe(message);
  });
});

describe('settings selects', () => {
  it('accepts the offered options', () => {
    expect(ok('language', 'german')).toEqual({ key: 'language', language: 'german' });
    expect(ok('language', 'French')).toEqual({ key: 'language', language: 'french' });
    expect(ok('temperature_unit', 'fahrenheit')).toEqual({ key: 'temperature_unit', unit: 'fahrenheit' });
  });

  it('rejects anything else', () => {
    expect(error('language', 'klingon')).toMatch(
      /^language: "klingon" is not a language this charger knows \(english,/,
    );
    expect(error('temperature_unit', 'kelvin')).toBe(
      'temperature_unit: expected celsius or fahrenheit, got "kelvin"',
    );
  });
});

describe('session limits', () => {
  it.each([
    ['session_limit_energy', '10.5', { key: 'session_limit_energy', kwh: 10.5 }],
    ['session_limit_energy', '0.25', { key: 'session_limit_energy', kwh: 0.25 }],
    ['session_limit_energy', '200', { key: 'session_limit_energy', kwh: 200 }],
    ['session_limit_energy', '0', { key: 'session_limit_energy', kwh: null }],
    ['session_limit_energy', '0.0', { key: 'session_limit_energy', kwh: null }],
    ['session_limit_minutes', '90', { key: 'session_limit_minutes', minutes: 90 }],
    ['session_limit_minutes', '1440', { key: 'session_limit_minutes', minutes: 1440 }],
    ['session_limit_minutes', '0', { key: 'session_limit_minutes', minutes: null }],
  ])('%s %j', (key, payload, command) => {
    expect(ok(key, payload)).toEqual(command);
  });

  it.each([
    ['session_limit_energy', '200.01', 'session_limit_energy: 200.01 kWh is above the maximum of 200 kWh'],
    ['session_limit_energy', '-1', 'session_limit_energy: -1 kWh is below the minimum of 0 kWh'],
    ['session_limit_energy', '1.234', 'session_limit_energy: 1.234 kWh is more precise than 0.01 kWh'],
    ['session_limit_minutes', '1441', 'session_limit_minutes: 1441 min is above the maximum of 1440 min'],
    ['session_limit_minutes', '1.5', 'session_limit_minutes: 1.5 min is not a whole number of min'],
  ])('rejects %s %j', (key, payload, message) => {
    expect(error(key, payload)).toBe(message);
  });
});

describe('scheduled_start', () => {
  const in2h = T0 + 2 * 3_600_000;

  it('reads what the HA datetime entity sends (ISO, UTC offset)', () => {
    expect(ok('scheduled_start', new Date(in2h).toISOString().replace('.000Z', '+00:00'))).toEqual({
      key: 'scheduled_start',
      at: in2h,
    });
  });

  it('reads local date/times and a bare time of day from the text fallback', () => {
    const local = new Date(in2h);
    const text = `${local.getFullYear()}-${String(local.getMonth() + 1).padStart(2, '0')}-${String(local.getDate()).padStart(2, '0')} ${String(local.getHours()).padStart(2, '0')}:${String(local.getMinutes()).padStart(2, '0')}`;
    expect(ok('scheduled_start', text)).toEqual({ key: 'scheduled_start', at: in2h });
    const hhmm = `${String(local.getHours()).padStart(2, '0')}:${String(local.getMinutes()).padStart(2, '0')}`;
    expect(ok('scheduled_start', hhmm)).toEqual({ key: 'scheduled_start', at: in2h });
  });

  it.each(['', 'none', 'OFF', 'cancel'])('%j cancels the schedule', (payload) => {
    expect(ok('scheduled_start', payload)).toEqual({ key: 'scheduled_start', at: null });
  });

  it('rejects the past, more than a day ahead, and garbage', () => {
    const iso = (ms: number) => new Date(ms).toISOString();
    expect(error('scheduled_start', iso(T0 - 3_600_000))).toMatch(/is in the past$/);
    expect(ok('scheduled_start', iso(T0 - 30_000))).toEqual({ key: 'scheduled_start', at: T0 - 30_000 });
    expect(error('scheduled_start', iso(T0 + 25 * 3_600_000))).toMatch(/is more than 24 hours ahead/);
    expect(error('scheduled_start', 'tomorrow')).toBe(
      'scheduled_start: expected a date and time like 2026-03-01T07:30 or a time like 07:30, got "tomorrow"',
    );
    expect(error('scheduled_start', '2026-02-30T07:30')).toContain('expected a date and time');
    expect(error('scheduled_start', '1772346600000')).toContain('expected a date and time');
  });
});

describe('buttons', () => {
  it.each(['sync_time', 'restart'])('%s accepts PRESS only', (key) => {
    expect(ok(key, 'PRESS')).toEqual({ key });
    expect(ok(key, 'press')).toEqual({ key });
    expect(error(key, 'now')).toBe(`${key}: expected PRESS, got "now"`);
  });
});
