/**
 * Suites that need a system program: a separate vitest (the project's config on one fixture file)
 * with programs pretended missing skips exactly those suites, lists them before the summary with
 * the install command, and passes; with CB_TEST_REQUIRE_SYSTEM=1 (CI) it fails before any test.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatSkipReport } from '../helpers/skipped-programs-reporter.js';
import { installCommand } from '../helpers/system-programs.js';

const root = path.resolve(import.meta.dirname, '../..');
const FIXTURE = 'test/tooling/fixtures/skip-report';
const FILE = `${FIXTURE}/programs.fixture.ts`;

/** vitest on the fixture; the environment is built from scratch so this run's vitest state stays out. */
function runFixture(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawn(
    process.execPath,
    ['node_modules/vitest/vitest.mjs', 'run', '--config', `${FIXTURE}/vitest.config.ts`, FIXTURE],
    {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? root, NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}

describe('suites that need a system program', () => {
  it('are skipped when it is missing, listed by program right before the summary, and the run passes', async () => {
    const { code, output } = await runFixture({ CB_TEST_PRETEND_MISSING: 'mosquitto,paho' });
    expect(code, output).toBe(0);
    const report = [
      ' Skipped because a system program is missing:',
      '   mosquitto is not installed (MQTT interop suites against a real Mosquitto broker):',
      `     ${FILE} > mixed > needs mosquitto alone (1 test)`,
      `     ${FILE} > needs mosquitto (2 tests)`,
      `     ${FILE} > row 'mosquitto' (1 test)`,
      "   python3-paho-mqtt is not installed (Home Assistant's MQTT client library (paho, MQTTv5) against the embedded broker):",
      `     ${FILE} > needs paho (1 test)`,
      ` Install with: ${installCommand(['mosquitto', 'paho'])}`,
    ].join('\n');
    expect(output).toContain(report);
    // Before vitest's summary, and everything else ran.
    expect(output.indexOf(report)).toBeLessThan(output.indexOf('Test Files'));
    expect(output).toMatch(/Tests\s+3 passed \| 5 skipped \(8\)/);
  });

  it('fail the run before any test when CB_TEST_REQUIRE_SYSTEM=1, with the install command', async () => {
    const { code, output } = await runFixture({
      CB_TEST_PRETEND_MISSING: 'mosquitto',
      CB_TEST_REQUIRE_SYSTEM: '1',
    });
    expect(code).toBe(1);
    expect(output).toMatch(
      /CB_TEST_REQUIRE_SYSTEM=1, but mosquitto (and python3-paho-mqtt are|is) not installed/,
    );
    expect(output).toMatch(/Install with: (sudo )?apt-get install -y mosquitto/);
    expect(output).not.toContain('Test Files');
  });
});

describe('the skip report', () => {
  it('is empty when nothing was skipped for a missing program', () => {
    expect(formatSkipReport([])).toBe('');
  });

  it('names each missing program once, its suites sorted, and one command for all', () => {
    const report = formatSkipReport([
      { program: 'paho', where: 'test/b.test.ts > paho suite', tests: 4 },
      { program: 'mosquitto', where: 'test/z.test.ts > late', tests: 1 },
      { program: 'mosquitto', where: 'test/a.test.ts > early', tests: 2 },
    ]);
    expect(report.split('\n').filter((line) => line.includes('is not installed'))).toHaveLength(2);
    expect(report).toContain(
      [
        '     test/a.test.ts > early (2 tests)',
        '     test/z.test.ts > late (1 test)',
        '   python3-paho-mqtt is not installed',
      ].join('\n'),
    );
    expect(report).toContain(` Install with: ${installCommand(['mosquitto', 'paho'])}`);
  });
});
