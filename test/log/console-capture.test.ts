/**
 * console.* output of libraries (noble's "no adapter" warnings) becomes log lines while the daemon
 * runs, and the console is put back afterwards.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { captureConsole, createLogger, releaseConsole } from '../../src/log.js';
import { captureOutput, FIXED_NOW } from './capture.js';

afterEach(() => releaseConsole());

function fakeConsole() {
  return { log: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn(), debug: vi.fn() };
}

function jsonLogger(out = captureOutput()) {
  return {
    out,
    log: createLogger({ format: 'json', level: 'debug', now: () => FIXED_NOW, destination: out.stream }),
  };
}

describe('captureConsole', () => {
  it('logs each method at its level with component console, arguments formatted like console does', () => {
    const { log, out } = jsonLogger();
    const target = fakeConsole();
    const restore = captureConsole(log, target);
    target.log('noble warning: adapter state unauthorized, please run as root or with sudo');
    target.info('%d devices', 2);
    target.warn('state', { powered: false });
    target.error(new Error('hci socket closed').message);
    target.debug('raw', 'frame');
    restore();
    expect(out.lines()).toEqual([
      '{"level":30,"time":"2026-06-01T16:04:05.007Z","name":"chargebridge","component":"console","msg":"noble warning: adapter state unauthorized, please run as root or with sudo"}',
      '{"level":30,"time":"2026-06-01T16:04:05.007Z","name":"chargebridge","component":"console","msg":"2 devices"}',
      '{"level":40,"time":"2026-06-01T16:04:05.007Z","name":"chargebridge","component":"console","msg":"state { powered: false }"}',
      '{"level":50,"time":"2026-06-01T16:04:05.007Z","name":"chargebridge","component":"console","msg":"hci socket closed"}',
      '{"level":20,"time":"2026-06-01T16:04:05.007Z","name":"chargebridge","component":"console","msg":"raw frame"}',
    ]);
    for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      expect(target[method]).not.toHaveBeenCalled();
    }
  });

  it('puts the original methods back, leaving alone one that someone replaced since', () => {
    const { log, out } = jsonLogger();
    const target = fakeConsole();
    const { log: originalLog, warn: originalWarn } = target;
    const restore = captureConsole(log, target);
    const later = vi.fn();
    target.warn = later;
    restore();
    expect(target.log).toBe(originalLog);
    expect(target.warn).toBe(later);
    expect(target.warn).not.toBe(originalWarn);
    target.log('after');
    expect(originalLog).toHaveBeenCalledWith('after');
    expect(out.lines()).toEqual([]);
  });

  it('sends a console call made while logging straight to the original, without a loop', () => {
    const target = fakeConsole();
    const out = captureOutput();
    const loud = {
      write(text: string) {
        target.log('destination says hi');
        return out.stream.write(text);
      },
    };
    const log = createLogger({ format: 'json', destination: loud as unknown as NodeJS.WritableStream });
    const originalLog = target.log;
    const restore = captureConsole(log, target);
    target.warn('from a library');
    restore();
    expect(originalLog).toHaveBeenCalledExactlyOnceWith('destination says hi');
    expect(out.lines().map((l) => JSON.parse(l).msg)).toEqual(['from a library']);
  });
});

describe('createLogger({ captureConsole: true })', () => {
  it('routes the global console until releaseConsole, and a newer logger takes over', () => {
    const original = console.log;
    const first = captureOutput();
    const second = captureOutput();
    createLogger({ format: 'journal', destination: first.stream, captureConsole: true });
    console.log('one');
    createLogger({ format: 'journal', destination: second.stream, captureConsole: true });
    console.warn('two');
    releaseConsole();
    expect(console.log).toBe(original);
    expect(first.lines()).toEqual(['<6>console: one']);
    expect(second.lines()).toEqual(['<4>console: two']);
  });

  it('leaves the console alone without the option', () => {
    const original = console.log;
    createLogger({ format: 'json', destination: captureOutput().stream });
    expect(console.log).toBe(original);
  });
});
