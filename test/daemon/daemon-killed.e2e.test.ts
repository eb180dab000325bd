/**
 * A daemon killed with SIGKILL cannot say goodbye: the broker must publish its last will, so Home
 * Assistant shows the bridge and its chargers as unavailable. Runs the real CLI in a child process.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { brokers, type TestBroker } from '../helpers/brokers.js';
import { MqttProbe } from '../helpers/mqtt-probe.js';
import { describeEach } from '../helpers/system-programs.js';

const root = path.resolve(import.meta.dirname, '../..');
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function spawnDaemon(configFile: string): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'run', '--config', configFile], {
    cwd: root,
    env: { ...process.env, CHARGEBRIDGE_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  });
  return child;
}

describeEach(brokers)('daemon killed with SIGKILL, broker $name', (kind) => {
  it('the broker publishes the retained last will: bridge offline', async () => {
    const broker: TestBroker = await kind.start();
    cleanups.push(() => broker.stop());
    const dir = mkdtempSync(path.join(tmpdir(), 'cb-kill-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const configFile = path.join(dir, 'configuration.yaml');
    writeFileSync(
      configFile,
      [
        `mqtt:\n  url: ${broker.url}`,
        'chargers:',
        '  - id: garage',
        '    type: bs20',
        '    transport: simulated',
      ].join('\n'),
    );
    const ha = await MqttProbe.connect(broker.url);
    cleanups.push(() => ha.close());
    await ha.subscribe('chargebridge/bridge/state');
    const child = spawnDaemon(configFile);
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    await ha
      .waitFor('chargebridge/bridge/state', (m) => m.text.includes('"online"'), 30_000)
      .catch((err: Error) => {
        throw new Error(`${err.message}\ndaemon stderr: ${stderr}`);
      });
    child.kill('SIGKILL');
    const offline = await ha.waitFor(
      'chargebridge/bridge/state',
      (m) => m.text.includes('"offline"'),
      10_000,
    );
    expect(JSON.parse(offline.text)).toEqual({ state: 'offline' });

    // Someone arriving later (Home Assistant restarting) still sees it: the will is retained.
    const later = await MqttProbe.connect(broker.url);
    cleanups.push(() => later.close());
    await later.subscribe('chargebridge/bridge/state');
    const retained = await later.waitFor('chargebridge/bridge/state');
    expect(retained.retain).toBe(true);
    expect(JSON.parse(retained.text)).toEqual({ state: 'offline' });
  });
});
