/**
 * Nothing deleted by accident, at the level a user meets it: the real CLI in child processes
 * (`node --import tsx src/main.ts run --config <file>`) on a persistent data_dir.
 *
 * - a configuration file emptied after a good run (0 bytes, `~`) is refused with exit code 1 and a
 *   message naming the file, before anything opens: the data_dir (discovery registry, retained
 *   messages of the embedded broker) stays byte for byte as it was, so Home Assistant loses nothing;
 * - a second daemon on the same data_dir (another broker port) is refused naming the first's PID.
 *
 * Waits are on the processes' output and exits, never on timers.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LOCK_FILE_NAME } from '../../src/core/data-dir-lock.js';
import { REGISTRY_FILE_NAME } from '../../src/homeassistant/discovery-registry.js';
import { freePort } from '../helpers/mosquitto.js';
import { MqttProbe } from '../helpers/mqtt-probe.js';
import { DaemonProcess } from './daemon-process.js';
import { GARAGE_YAML, savedBrokerLogin } from './daemon-rig.js';

const STARTUP_WAIT_MS = 20_000;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanups.splice(0).reverse()) await step();
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'cb-guards-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function spawn(configFile: string): DaemonProcess {
  const proc = new DaemonProcess({ configFile });
  cleanups.push(() => proc.kill());
  return proc;
}

/** Resolves at the first output line matching `pattern`; rejects if the process exits first. */
function lineMatching(proc: DaemonProcess, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const line = proc.lines.find((l) => pattern.test(l));
      if (line === undefined) return false;
      cleanup();
      resolve(line);
      return true;
    };
    const onExit = () => {
      if (check()) return;
      cleanup();
      reject(new Error(`exited before logging ${pattern}:\n${proc.lines.join('\n')}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(
        new Error(`no line matching ${pattern} within ${STARTUP_WAIT_MS} ms:\n${proc.lines.join('\n')}`),
      );
    }, STARTUP_WAIT_MS);
    const cleanup = () => {
      clearTimeout(timer);
      proc.child.stdout?.off('data', onData);
      proc.child.stderr?.off('data', onData);
      proc.child.off('exit', onExit);
    };
    // The process's own line splitter runs first (it was attached first).
    const onData = () => void check();
    if (check()) return;
    proc.child.stdout?.on('data', onData);
    proc.child.stderr?.on('data', onData);
    proc.child.on('exit', onExit);
  });
}

/** Every file under `dir` with the hash of its bytes. */
function fingerprint(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const full = path.join(entry.parentPath, entry.name);
    out[path.relative(dir, full)] = entry.isFile()
      ? createHash('sha256').update(readFileSync(full)).digest('hex')
      : 'dir';
  }
  return out;
}

async function configText(dataDir: string): Promise<string> {
  const port = await freePort();
  return `data_dir: ${dataDir}\nmqtt:\n  embedded_broker:\n    host: 127.0.0.1\n    port: ${port}\nchargers:\n${GARAGE_YAML}\n`;
}

describe('chargebridge run refuses what would delete things by accident', () => {
  it.each([
    ['0 bytes', ''],
    ['a lone ~', '~\n'],
  ])(
    'a configuration file emptied after a good run (%s): exit 1 naming the file, Home Assistant untouched',
    async (_name, emptied) => {
      const dir = tempDir();
      const dataDir = path.join(dir, 'data');
      const configFile = path.join(dir, 'configuration.yaml');
      writeFileSync(configFile, await configText(dataDir));

      const good = spawn(configFile);
      await lineMatching(good, /chargebridge started/);
      const ha = await MqttProbe.connect(
        `mqtt://127.0.0.1:${/port: (\d+)/.exec(readFileSync(configFile, 'utf8'))?.[1]}`,
        savedBrokerLogin(dataDir),
      );
      await ha.subscribe('homeassistant/#');
      await ha.waitFor('homeassistant/device/chargebridge_garage/config', (m) => m.text !== '');
      await ha.close();
      await good.stop();
      expect(good.child.exitCode).toBe(0);
      expect(readFileSync(path.join(dataDir, REGISTRY_FILE_NAME), 'utf8')).toContain('chargebridge_garage');

      writeFileSync(configFile, emptied);
      const before = fingerprint(dir);
      const refused = spawn(configFile);
      await refused.exited;
      expect(refused.child.exitCode).toBe(1);
      const output = refused.lines.join('\n');
      expect(output).toContain(`Invalid configuration in ${configFile}`);
      expect(output).toMatch(/file is empty.*did not start/);
      // Nothing opened: the registry and the broker's retained messages (the garage's discovery
      // config among them) are as they were, so the device is still in Home Assistant.
      expect(fingerprint(dir)).toEqual(before);
    },
  );

  it('a second daemon on the same data_dir (another broker port) exits 1 naming the first one’s PID', async () => {
    const dir = tempDir();
    const dataDir = path.join(dir, 'data');
    const firstConfig = path.join(dir, 'first.yaml');
    const secondConfig = path.join(dir, 'second.yaml');
    writeFileSync(firstConfig, await configText(dataDir));
    writeFileSync(secondConfig, await configText(dataDir));

    const first = spawn(firstConfig);
    await lineMatching(first, /chargebridge started/);
    const pid = first.child.pid;
    expect(readFileSync(path.join(dataDir, LOCK_FILE_NAME), 'utf8').split('\n')[0]).toBe(String(pid));

    const second = spawn(secondConfig);
    await second.exited;
    expect(second.child.exitCode).toBe(1);
    const refusal = second.lines.find((l) => /could not start/.test(l)) ?? '';
    expect(refusal).toContain(`PID ${pid}`);
    expect(refusal).toContain(path.join(dataDir, LOCK_FILE_NAME));
    // It opened nothing (no broker, no store) and left the first one's lock alone.
    expect(second.logged(/embedded-broker|chargebridge started/)).toEqual([]);
    expect(readFileSync(path.join(dataDir, LOCK_FILE_NAME), 'utf8').split('\n')[0]).toBe(String(pid));
    expect(first.running).toBe(true);

    await first.stop();
    expect(first.child.exitCode).toBe(0);
    expect(existsSync(path.join(dataDir, LOCK_FILE_NAME))).toBe(false);
  });
});
