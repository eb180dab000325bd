/**
 * System programs some suites need beyond npm: a real Mosquitto, and Debian's python3 with paho-mqtt
 * (the client library Home Assistant's MQTT integration is built on). Suites ask here and skip with
 * `describe.skipIf(!has('mosquitto'))`; test/helpers/system-programs-setup.ts reports what was skipped
 * before the summary (or fails the run when CB_TEST_REQUIRE_SYSTEM=1, as .ci/run sets).
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { describe, TestRunner } from 'vitest';

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

/** Where a suite was told a program is missing: kept in the test file's meta for the skip report. */
export interface MissingNote {
  readonly program: SystemProgram;
  /** The line in the test file that asked (the skipped suite's line when asked inline). */
  readonly line: number | undefined;
}

declare module 'vitest' {
  interface TaskMeta {
    missingPrograms?: MissingNote[];
  }
}

/** Is this program usable here? The setup file may have decided it already for every worker. */
export function has(program: SystemProgram): boolean {
  const decided = process.env.CB_TEST_MISSING;
  const available =
    decided !== undefined ? !decided.split(',').includes(program) : !missingPrograms().includes(program);
  if (!available) noteMissing(program);
  return available;
}

/**
 * describe.each over rows of which some need a program (`needs`): a row whose program is missing
 * becomes a skipped suite, listed in the skip report; the others run as usual.
 */
export function describeEach<T extends { readonly needs?: SystemProgram | undefined }>(rows: readonly T[]) {
  return (name: string, fn: (row: T) => void): void => {
    for (const row of rows) {
      describe.skipIf(row.needs !== undefined && !has(row.needs)).each([row])(name, fn);
    }
  };
}

/** Every program that is not available on this machine (or pretended missing, to test the skips). */
export function missingPrograms(): SystemProgram[] {
  const pretend = (process.env.CB_TEST_PRETEND_MISSING ?? '').split(',');
  const missing: SystemProgram[] = [];
  const mosquitto = findBinary('mosquitto') && findBinary('mosquitto_passwd');
  if (pretend.includes('mosquitto') || !mosquitto) missing.push('mosquitto');
  if (pretend.includes('paho') || !pahoPython()) missing.push('paho');
  return missing;
}

/**
 * Records a "no" while a test file is being collected: the report before the summary (the reporter
 * runs in the main process) can only tell which program a skipped suite lacked from the file's meta.
 */
function noteMissing(program: SystemProgram): void {
  let file: { filepath: string; meta: { missingPrograms?: MissingNote[] } } | undefined;
  try {
    if (TestRunner.getCurrentTest()) return; // asked inside a test: that test is not a skipped suite
    file = TestRunner.getCurrentSuite().file;
  } catch {
    return; // not in a test file (the setup file, a script)
  }
  if (!file) return;
  const notes = file.meta.missingPrograms ?? [];
  notes.push({ program, line: callerLine(file.filepath) });
  file.meta.missingPrograms = notes;
}

/** The line of the test file in the current stack: where vitest also locates the suite it creates. */
function callerLine(filepath: string): number | undefined {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 50;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  for (const frame of stack.split('\n')) {
    if (!frame.includes(filepath)) continue;
    const match = /:(\d+):\d+\)?$/.exec(frame.trim());
    if (match) return Number(match[1]);
  }
  return undefined;
}

/** The one command that installs what is missing (Debian and Raspberry Pi OS). */
export function installCommand(missing: readonly SystemProgram[]): string {
  const packages = missing.map((p) => PROGRAMS[p].aptPackage).join(' ');
  const sudo = process.getuid?.() === 0 ? '' : 'sudo ';
  return `${sudo}apt-get install -y ${packages}`;
}
