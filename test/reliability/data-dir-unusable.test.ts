/**
 * `chargebridge run` with a data_dir it can neither create nor write, as a user meets it: the real CLI
 * in a child process. Under /proc Node's recursive mkdir never returns (100 % CPU, SIGTERM never
 * handled); the daemon now makes the folder itself and checks it with a probe file first of all.
 * Waits are on the process's exit, never on timers.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { freePort } from '../helpers/mosquitto.js';
import { DaemonProcess } from './daemon-process.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanups.splice(0).reverse()) await step();
});

async function run(dataDir: string): Promise<DaemonProcess> {
  const dir = mkdtempSync(path.join(tmpdir(), 'cb-data-dir-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const configFile = path.join(dir, 'configuration.yaml');
  writeFileSync(
    configFile,
    `data_dir: ${dataDir}\nmqtt:\n  embedded_broker: { host: 127.0.0.1, port: ${await freePort()}, username: u, password: p }\nchargers:\n  - { id: garage, type: bs20, transport: simulated }\n`,
  );
  const proc = new DaemonProcess({ configFile });
  cleanups.push(() => proc.kill());
  return proc;
}

it('a data_dir under /proc: exits 1 at once with an error naming data_dir and the path', async () => {
  const target = `/proc/chargebridge-test-${process.pid}`;
  const proc = await run(target);
  await proc.exited;
  expect(proc.child.exitCode).toBe(1);
  expect(proc.logged(new RegExp(`data_dir ${target} cannot be used: it cannot be created`))).toHaveLength(1);
}, 20_000);

it('an existing data_dir that cannot be written: exits 1 naming it', async () => {
  const proc = await run('/proc/self');
  await proc.exited;
  expect(proc.child.exitCode).toBe(1);
  expect(proc.logged(/data_dir \/proc\/self cannot be used: it cannot be written/)).toHaveLength(1);
}, 20_000);
