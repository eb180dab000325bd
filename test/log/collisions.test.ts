/**
 * A logged key that pino already writes (level, time, msg, name, a child binding) must not appear
 * twice in a JSON line: JSON.parse would silently keep one, losing either pino's or ours.
 */
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { captureOutput, FIXED_NOW } from './capture.js';
import { duplicateKeys } from './duplicate-keys.js';

function jsonLogger() {
  const out = captureOutput();
  const log = createLogger({ format: 'json', level: 'trace', now: () => FIXED_NOW, destination: out.stream });
  return { log, out };
}

function expectNoDuplicates(lines: string[]): void {
  for (const line of lines) expect(duplicateKeys(line), line).toEqual([]);
}

describe('duplicateKeys (the test scanner itself)', () => {
  it('finds repeats at any depth and none where there are none', () => {
    expect(duplicateKeys('{"a":1,"b":{"c":[{"d":1,"d":"x\\"}"}]},"a":2}')).toEqual(['b.c.0.d', 'a']);
    expect(duplicateKeys('{"a":{"a":{"a":[1,"a",{}]}},"b":null}')).toEqual([]);
  });
});

describe('colliding keys', () => {
  it("renames a logged level, time and name; pino's own stay as they are", () => {
    const { log, out } = jsonLogger();
    log.info({ level: 'debug', time: '07:30', name: 'Garage' }, 'log level changed');
    const [line] = out.lines();
    expect(duplicateKeys(line!)).toEqual([]);
    expect(JSON.parse(line!)).toEqual({
      level: 30,
      time: '2026-06-01T16:04:05.007Z',
      name: 'chargebridge',
      _level: 'debug',
      _time: '07:30',
      _name: 'Garage',
      msg: 'log level changed',
    });
  });

  it('renames a logged msg only when a message is given too; alone it is the message', () => {
    const { log, out } = jsonLogger();
    log.warn({ msg: 'from the charger' }, 'charger said');
    log.warn({ msg: 'the message' });
    expect(out.lines().map((l) => JSON.parse(l))).toMatchObject([
      { _msg: 'from the charger', msg: 'charger said' },
      { msg: 'the message' },
    ]);
    expectNoDuplicates(out.lines());
  });

  it("renames a logged key that is one of the logger's bindings, and never twice onto another key", () => {
    const { log, out } = jsonLogger();
    const charger = log.child({ component: 'sessions', charger: 'garage' });
    charger.info({ charger: 'carport', component: 'x', _component: 'y' }, 'moved');
    const [line] = out.lines();
    expect(duplicateKeys(line!)).toEqual([]);
    expect(JSON.parse(line!)).toMatchObject({
      component: 'sessions',
      charger: 'garage',
      _charger: 'carport',
      __component: 'x',
      _component: 'y',
    });
  });

  it("leaves the caller's object alone", () => {
    const { log } = jsonLogger();
    const fields = { level: 'trace' };
    log.info(fields, 'x');
    expect(fields).toEqual({ level: 'trace' });
  });

  it('keeps one key when a child repeats a binding of its parent, with the child value', () => {
    const { log, out } = jsonLogger();
    const sessions = log.child({ component: 'sessions', charger: 'garage' });
    sessions.child({ component: 'session-store', file: 'x.json' }).info('saved');
    sessions.child({ charger: 'garage' }).child({ charger: 'carport' }).debug('nested');
    const lines = out.lines();
    expectNoDuplicates(lines);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      component: 'session-store',
      charger: 'garage',
      file: 'x.json',
    });
    expect(JSON.parse(lines[1]!)).toMatchObject({ component: 'sessions', charger: 'carport' });
  });

  it('renames time and msg given as child bindings', () => {
    const { log, out } = jsonLogger();
    log.child({ time: 'bound', msg: 'bound' }).info('hello');
    const [line] = out.lines();
    expect(duplicateKeys(line!)).toEqual([]);
    expect(JSON.parse(line!)).toMatchObject({ _time: 'bound', _msg: 'bound', msg: 'hello' });
  });

  it('passes errors and plain messages through as pino writes them', () => {
    const { log, out } = jsonLogger();
    const err = Object.assign(new Error('refused'), { code: 'ECONNREFUSED' });
    log.child({ component: 'mqtt' }).error(err);
    log.info('%s of %d', 'one', 2);
    const [first, second] = out.lines().map((l) => JSON.parse(l));
    expect(first).toMatchObject({ component: 'mqtt', msg: 'refused', err: { code: 'ECONNREFUSED' } });
    expect(second.msg).toBe('one of 2');
    expectNoDuplicates(out.lines());
  });
});
