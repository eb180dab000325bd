/**
 * A whole daemon run logging at trace: charger login, a bridge log_level request (whose field used
 * to collide with pino's `level`), a dropped link, a library writing to console, the stop. In JSON
 * every line is one object with no key twice; in journal format every line has its priority.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger, releaseConsole } from '../../src/log.js';
import { type DaemonRig, runFor, startDaemonRig, waitUntil } from '../reliability/daemon-rig.js';
import { captureOutput } from './capture.js';
import { duplicateKeys } from './duplicate-keys.js';

let rig: DaemonRig | undefined;
afterEach(async () => {
  releaseConsole();
  await rig?.stop();
  rig = undefined;
});

async function runDaemonLogging(format: 'json' | 'journal'): Promise<string[]> {
  const out = captureOutput();
  const logger = createLogger({ format, level: 'trace', destination: out.stream, captureConsole: true });
  rig = await startDaemonRig({ logger });
  const { clock, ha } = rig;
  const garage = rig.daemon.chargers.find((c) => c.id === 'garage')!;
  await waitUntil(() => garage.getState().link === 'online', clock, { what: 'garage login' });
  await ha!.publish('chargebridge/bridge/request/log_level', JSON.stringify({ value: 'debug' }));
  await waitUntil(() => ha!.on('chargebridge/bridge/response/log_level').length > 0, clock, {
    what: 'the log_level response',
  });
  console.log('noble: adapter state %s', 'poweredOff');
  rig.sim('garage').dropLink('log test');
  await runFor(clock, 20_000, 500);
  await rig.stop();
  return out.lines();
}

describe('a daemon run', () => {
  it('writes only JSON objects, none with a key twice', async () => {
    const lines = await runDaemonLogging('json');
    expect(lines.length).toBeGreaterThan(20);
    const records = lines.map((line) => {
      expect(duplicateKeys(line), line).toEqual([]);
      const record: unknown = JSON.parse(line);
      expect(typeof record === 'object' && record !== null && !Array.isArray(record), line).toBe(true);
      return record as Record<string, unknown>;
    });
    expect(records).toContainEqual(
      expect.objectContaining({ level: 30, logLevel: 'debug', msg: 'log level changed' }),
    );
    expect(records).toContainEqual(
      expect.objectContaining({ level: 30, component: 'console', msg: 'noble: adapter state poweredOff' }),
    );
  });

  it('writes journal lines, each with its priority and no JSON', async () => {
    const lines = await runDaemonLogging('journal');
    expect(lines.length).toBeGreaterThan(20);
    for (const line of lines) expect(line).toMatch(/^<[234567]>[^{]/);
    expect(lines).toContain('<6>console: noble: adapter state poweredOff');
    expect(lines).toContainEqual(expect.stringMatching(/^<6>.*log level changed logLevel=debug/));
  });
});
