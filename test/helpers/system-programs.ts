/**
 * System programs some suites need beyond npm: a real Mosquitto, and Debian's python3 with paho-mqtt
 * (the client library Home Assistant's MQTT integration is built on). Suites ask here and skip with
 * `describe.skipIf(!has('mosquitto'))`; test/helpers/system-programs-setup.ts reports what was skipped
 * before the summary (or fails the run when CB_TEST_REQUIRE_SYSTEM=1, as .ci/run sets).
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export type SystemProgram = 'mosquitto' | 'paho';

export interface ProgramInfo {
  /** What the suites use it for, for the skip report. */
  readonly purpose: string;
  /** The Debian package that provides it. */
  readonly aptPackage: string;
}

export const PROGRAMS: Record<SystemProgram, ProgramInfo> = {
  mosquitto: { purpose: 'MQTT interop suites against a real Mosquitto broker', aptPackage: 'mosquitto' },
  paho: {
    purpose: "Home Assistant's MQTT client library (paho, MQTTv5) against the embedded broker",
    aptPackage: 'python3-paho-mqtt',
  },
};

/** Find a binary on PATH plus the sbin dirs Debian puts mosquitto in (not always on a user's PATH). */
export function findBinary(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/sbin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

let pythonCache: string | null | undefined;

/**
 * A python3 that can import paho.mqtt with MQTTv5. Debian's /usr/bin/python3 first: the python3 first
 * on PATH may be another install (pyenv) that does not see Debian's dist-packages.
 */
export function pahoPython(): string | undefined {
  if (pythonCache !== undefined) return pythonCache ?? undefined;
  const candidates = ['/usr/bin/python3', findBinary('python3')].filter((p): p is string => Boolean(p));
  pythonCache = null;
  for (const python of new Set(candidates)) {
    const probe = spawnSync(python, ['-c', 'import paho.mqtt.client as m; m.MQTTv5'], {
      stdio: 'ignore',
      timeout: 10_000,
    });
    if (probe.status === 0) {
      pythonCache = python;
      break;
    }
  }
  return pythonCache ?? undefined;
}

/** Is this program usable here? The setup file may have decided it already for every worker. */
export function has(program: SystemProgram): boolean {
  const decided = process.env.CB_TEST_MISSING;
  if (decided !== undefined) return !decided.split(',').includes(program);
  return !missingPrograms().includes(program);
}

/** Every program that is not available on this machine. */
export function missingPrograms(): SystemProgram[] {
  const missing: SystemProgram[] = [];
  if (!findBinary('mosquitto') || !findBinary('mosquitto_passwd')) missing.push('mosquitto');
  if (!pahoPython()) missing.push('paho');
  return missing;
}

/** The one command that installs what is missing (Debian and Raspberry Pi OS). */
export function installCommand(missing: readonly SystemProgram[]): string {
  const packages = missing.map((p) => PROGRAMS[p].aptPackage).join(' ');
  const sudo = process.getuid?.() === 0 ? '' : 'sudo ';
  return `${sudo}apt-get install -y ${packages}`;
}
