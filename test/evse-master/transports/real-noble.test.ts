/**
 * The REAL, lazily loaded noble packages on this machine. CI machines have no Bluetooth radio, so
 * both must end in TransportError('no_adapter') quickly, and the process must then exit by itself
 * (noble's adapter poll or HCI socket must not keep it alive). A child process is the only honest
 * way to see the latter.
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { NOBLE_PACKAGES } from '../../../src/evse-master/transports/noble-like.js';

const PROBE = fileURLToPath(new URL('./fixtures/real-noble-probe.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** Far above the ~1 s the probe needs; only a process that never ends reaches it. */
const KILL_AFTER_MS = 15_000;

function hasBluetoothRadio(): boolean {
  try {
    return readdirSync('/sys/class/bluetooth').length > 0;
  } catch {
    return false;
  }
}

interface Outcome {
  ok: boolean;
  code?: string;
  message?: string;
  elapsedMs: number;
}

function runProbe(
  pkg: string,
): Promise<{ exitCode: number | null; killed: boolean; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', PROBE, pkg], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let killed = false;
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, KILL_AFTER_MS);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (exitCode) => {
      clearTimeout(timer);
      resolve({ exitCode, killed, stdout, stderr });
    });
  });
}

describe.concurrent.each(NOBLE_PACKAGES)('the real %s on this machine', (pkg) => {
  it('connect() and scanForChargers() end in no_adapter within the adapter timeout, and the process exits', async () => {
    const run = await runProbe(pkg);
    expect(run.killed, `probe still running after ${KILL_AFTER_MS} ms; stderr: ${run.stderr}`).toBe(false);
    expect(run.exitCode, run.stderr).toBe(0);
    const line = run.stdout.split('\n').find((l) => l.startsWith('RESULT '));
    expect(line, run.stdout + run.stderr).toBeDefined();
    const result = JSON.parse(line!.slice('RESULT '.length)) as { connect: Outcome; scan: Outcome };
    for (const outcome of [result.connect, result.scan]) {
      // adapterTimeoutMs is 2000 in the probe; allow for a slow, shared CI machine.
      expect(outcome.elapsedMs).toBeLessThan(2000 + 1500);
      if (!hasBluetoothRadio()) {
        expect(outcome).toMatchObject({ ok: false, code: 'no_adapter' });
        expect(outcome.message).toMatch(/^no Bluetooth adapter found \(noble state: /);
      }
    }
  });
});
