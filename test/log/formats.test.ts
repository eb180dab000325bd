/**
 * The three formats, line by line: readable pretty lines (colour or not), journal lines with
 * sd-daemon priorities, and JSON written by pino untouched. Redaction holds in each.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FormattingStream } from '../../src/log/format-stream.js';
import { createLogger, type LogOptions } from '../../src/log.js';
import { captureOutput, FIXED_NOW } from './capture.js';

let savedTz: string | undefined;
beforeAll(() => {
  savedTz = process.env.TZ;
  process.env.TZ = 'UTC';
});
afterAll(() => {
  if (savedTz === undefined) delete process.env.TZ;
  else process.env.TZ = savedTz;
});

function logTo(options: LogOptions) {
  const out = captureOutput();
  const log = createLogger({ now: () => FIXED_NOW, env: {}, ...options, destination: out.stream });
  return { log, out };
}

/** An error with a short, known stack, so lines can be compared exactly. */
function knownError(message: string): Error {
  const err = new Error(message);
  err.stack = `Error: ${message}\n    at connect (src/mqtt/connection.ts:10:5)`;
  return err;
}

function logSample(log: ReturnType<typeof createLogger>): void {
  const mqtt = log.child({ component: 'mqtt' });
  mqtt.info(
    { broker: 'mqtt://127.0.0.1:1883', note: 'two words', empty: '', attempt: 3, ok: true, opts: { qos: 1 } },
    'connected to the broker',
  );
  mqtt.warn({ err: knownError('connection refused') }, 'broker unreachable');
  log.error('no component here');
}

describe('pretty', () => {
  it('writes time, level, component, message and key=value fields; no colour with NO_COLOR', () => {
    const { log, out } = logTo({ format: 'pretty', isTTY: true, env: { NO_COLOR: '1' } });
    logSample(log);
    expect(out.lines()).toEqual([
      '16:04:05.007 INFO  mqtt: connected to the broker broker=mqtt://127.0.0.1:1883 note="two words" empty="" attempt=3 ok=true opts={"qos":1}',
      '16:04:05.007 WARN  mqtt: broker unreachable err="connection refused"',
      '16:04:05.007 ERROR no component here',
    ]);
  });

  it('is chosen by auto on a terminal, coloured', () => {
    const { log, out } = logTo({ isTTY: true });
    log.child({ component: 'embedded-broker' }).warn({ port: 1883 }, 'port in use');
    expect(out.text()).toBe(
      '\x1b[2m16:04:05.007\x1b[0m \x1b[33mWARN \x1b[0m \x1b[36membedded-broker:\x1b[0m port in use \x1b[2mport=\x1b[0m1883\n',
    );
  });

  it('colours each level differently', () => {
    const { log, out } = logTo({ format: 'pretty', isTTY: true, level: 'trace' });
    for (const level of ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const) log[level]('x');
    const labels = out.lines().map((line) => line.split(' ')[1]);
    expect(labels).toEqual([
      '\x1b[90mTRACE\x1b[0m',
      '\x1b[34mDEBUG\x1b[0m',
      '\x1b[32mINFO',
      '\x1b[33mWARN',
      '\x1b[31mERROR\x1b[0m',
      '\x1b[1;35mFATAL\x1b[0m',
    ]);
  });

  it.each([
    ['FORCE_COLOR=1 colours a pipe', { FORCE_COLOR: '1' }, false, true],
    ['FORCE_COLOR=0 keeps a terminal plain', { FORCE_COLOR: '0' }, true, false],
    ['FORCE_COLOR beats NO_COLOR', { FORCE_COLOR: '1', NO_COLOR: '1' }, true, true],
    ['NO_COLOR keeps a terminal plain', { NO_COLOR: '1' }, true, false],
    ['TERM=dumb keeps a terminal plain', { TERM: 'dumb' }, true, false],
    ['a pipe is plain', {}, false, false],
  ])('%s', (_name, env, isTTY, coloured) => {
    const { log, out } = logTo({ format: 'pretty', isTTY, env });
    log.info('hello');
    expect(out.text().includes('\x1b[')).toBe(coloured);
  });

  it('shows the stack of a logged error only at debug, also after a level change at run time', () => {
    const { log, out } = logTo({ format: 'pretty', isTTY: false });
    log.error({ err: knownError('boom') }, 'failed');
    log.level = 'debug';
    log.error({ err: knownError('boom') }, 'failed');
    expect(out.lines()).toEqual([
      '16:04:05.007 ERROR failed err=boom',
      '16:04:05.007 ERROR failed err=boom',
      '    Error: boom',
      '        at connect (src/mqtt/connection.ts:10:5)',
    ]);
  });
});

describe('journal', () => {
  it('writes <priority>component: message key=value, with no time and no colour', () => {
    const { log, out } = logTo({ format: 'journal', level: 'trace', env: { FORCE_COLOR: '1' } });
    const ha = log.child({ component: 'homeassistant' });
    ha.trace('t');
    ha.debug('d');
    ha.info({ entities: 12 }, 'discovery published');
    ha.warn('w');
    ha.error('e');
    ha.fatal('f');
    expect(out.lines()).toEqual([
      '<7>homeassistant: t',
      '<7>homeassistant: d',
      '<6>homeassistant: discovery published entities=12',
      '<4>homeassistant: w',
      '<3>homeassistant: e',
      '<2>homeassistant: f',
    ]);
  });

  it('prefixes every physical line, since journald makes each its own entry', () => {
    const { log, out } = logTo({ format: 'journal', level: 'debug' });
    log.warn('first line\nsecond line');
    log.error({ err: knownError('boom'), problems: 'a\nb' }, 'failed');
    expect(out.lines()).toEqual([
      '<4>first line',
      '<4>  second line',
      '<3>failed err=boom problems="a\\nb"',
      '<3>  Error: boom',
      '<3>      at connect (src/mqtt/connection.ts:10:5)',
    ]);
  });
});

describe('json', () => {
  it('is chosen by auto off a terminal: one JSON object per line, nothing else', () => {
    const { log, out } = logTo({ isTTY: false });
    logSample(log);
    const lines = out.lines();
    expect(lines).toHaveLength(3);
    expect(JSON.parse(lines[0]!)).toEqual({
      level: 30,
      time: '2026-06-01T16:04:05.007Z',
      name: 'chargebridge',
      component: 'mqtt',
      broker: 'mqtt://127.0.0.1:1883',
      note: 'two words',
      empty: '',
      attempt: 3,
      ok: true,
      opts: { qos: 1 },
      msg: 'connected to the broker',
    });
    expect(JSON.parse(lines[1]!).err).toMatchObject({ type: 'Error', message: 'connection refused' });
    expect(out.text().endsWith('}\n')).toBe(true);
  });

  it('hands pino the stream itself (its fast path, no parsing and re-serializing)', () => {
    const out = captureOutput();
    const log = createLogger({ format: 'json', destination: out.stream });
    expect((log as unknown as Record<symbol, unknown>)[pino.symbols.streamSym]).toBe(out.stream);
  });

  it('takes the level from CHARGEBRIDGE_LOG_LEVEL when none is given', () => {
    const { log, out } = logTo({ format: 'json', env: { CHARGEBRIDGE_LOG_LEVEL: 'warn' } });
    log.info('dropped');
    log.warn('kept');
    expect(out.lines().map((l) => JSON.parse(l).msg)).toEqual(['kept']);
  });
});

describe('secrets are redacted in every format', () => {
  const SECRET = 'S3cr3t-value-71';
  it.each(['pretty', 'journal', 'json'] as const)('%s', (format) => {
    const { log, out } = logTo({ format, isTTY: true, level: 'trace' });
    const child = log.child({ component: 'charger', token: SECRET });
    child.info(
      {
        pin: SECRET,
        password: SECRET,
        passphrase: SECRET,
        login: { token: SECRET, authorizationKey: SECRET },
        deep: { a: { b: { secret: SECRET } } },
      },
      'login',
    );
    child.debug({ station: { auth: { password: SECRET } } }, 'station');
    expect(out.lines()).toHaveLength(2);
    expect(out.text()).not.toContain(SECRET);
    expect(out.text().split('[redacted]').length - 1).toBe(9);
  });
});

describe('a line that cannot be formatted', () => {
  it('is written as it came, and logging goes on', () => {
    const out = captureOutput();
    let calls = 0;
    const stream = new FormattingStream(out.stream, (record) => {
      calls++;
      if (record.msg === 'bad') throw new Error('formatter bug');
      return `${record.msg}\n`;
    });
    stream.write('{"level":30,"msg":"bad"}\n');
    stream.write('not json at all\n');
    stream.write('{"level":30,"msg":"good"}\n');
    expect(out.lines()).toEqual(['{"level":30,"msg":"bad"}', 'not json at all', 'good']);
    expect(calls).toBe(2);
  });
});
