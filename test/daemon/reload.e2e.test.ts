/**
 * `systemctl reload` (SIGHUP) restarts the daemon in-process with the configuration read again, so a
 * station added to `ocpp_server.stations` appears without a service restart; a configuration with
 * errors is refused and the running daemon goes on untouched. Runs the real CLI in a child process.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { embeddedBroker } from '../helpers/brokers.js';
import { freePort } from '../helpers/mosquitto.js';
import { MqttProbe } from '../helpers/mqtt-probe.js';

const root = path.resolve(import.meta.dirname, '../..');
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function spawnDaemon(configFile: string): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'run', '--config', configFile], {
    cwd: root,
    env: { ...process.env, CHARGEBRIDGE_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  });
  return { child, output: () => output };
}

/** Resolves when `predicate` holds for the output, polling on output events (no fixed sleeps). */
function untilOutput(
  child: ChildProcess,
  output: () => string,
  predicate: (text: string) => boolean,
  what: string,
  timeoutMs = 30_000,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (!predicate(output())) return;
      finish();
      resolve();
    };
    const timer = setTimeout(() => {
      finish();
      reject(new Error(`no ${what} within ${timeoutMs} ms; output:\n${output()}`));
    }, timeoutMs);
    const finish = () => {
      clearTimeout(timer);
      child.stdout?.off('data', check);
      child.stderr?.off('data', check);
    };
    child.stdout?.on('data', check);
    child.stderr?.on('data', check);
    check();
  });
}

describe('reloading the configuration (SIGHUP)', () => {
  it('applies a new station, refuses a broken file without stopping, and still stops on SIGTERM', async () => {
    const broker = await embeddedBroker.start();
    cleanups.push(() => broker.stop());
    const dir = mkdtempSync(path.join(tmpdir(), 'cb-reload-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const configFile = path.join(dir, 'configuration.yaml');
    const base = [
      `data_dir: ${dir}`,
      `mqtt:\n  url: ${broker.url}`,
      'chargers:',
      '  - id: garage',
      '    type: bs20',
      '    transport: simulated',
      'ocpp_server:',
      '  enabled: true',
      '  host: 127.0.0.1',
      `  port: ${await freePort()}`,
      '  stations:',
      '    - id: carport',
      '      identity: CP-1',
    ];
    writeFileSync(configFile, base.join('\n'));
    const ha = await MqttProbe.connect(broker.url);
    cleanups.push(() => ha.close());
    await ha.subscribe('homeassistant/#');
    await ha.subscribe('chargebridge/bridge/state');
    const { child, output } = spawnDaemon(configFile);
    await ha
      .waitFor('homeassistant/device/chargebridge_carport/config', () => true, 30_000)
      .catch((err: Error) => {
        throw new Error(`${err.message}\noutput: ${output()}`);
      });

    // A second station in the file, then `systemctl reload`: it appears without a service restart.
    writeFileSync(configFile, [...base, '    - id: shed', '      identity: SHED-2'].join('\n'));
    child.kill('SIGHUP');
    await ha
      .waitFor('homeassistant/device/chargebridge_shed/config', () => true, 30_000)
      .catch((err: Error) => {
        throw new Error(`${err.message}\noutput: ${output()}`);
      });
    await untilOutput(
      child,
      output,
      (t) => (t.match(/"starting chargebridge"/g) ?? []).length === 2,
      'restart',
    );

    // A typo: refused with the key named, and the daemon keeps running as it was.
    writeFileSync(configFile, [...base, '    - id: shed', '      identty: SHED-2'].join('\n'));
    child.kill('SIGHUP');
    await untilOutput(child, output, (t) => t.includes('not restarting'), 'the refusal');
    expect(output()).toMatch(/identty/);
    expect((output().match(/"starting chargebridge"/g) ?? []).length).toBe(2);
    expect(child.exitCode).toBeNull();
    const state = await MqttProbe.connect(broker.url);
    cleanups.push(() => state.close());
    await state.subscribe('chargebridge/bridge/state');
    expect(JSON.parse((await state.waitFor('chargebridge/bridge/state')).text)).toEqual({ state: 'online' });

    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    expect(code).toBe(0);
  }, 90_000);
});
