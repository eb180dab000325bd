import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DataDirLockedError, LOCK_FILE_NAME, lockDataDir } from '../../src/core/data-dir-lock.js';
import { createLogger, silentLogger } from '../../src/log.js';
import { captureOutput } from '../log/capture.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'cb-lock-'));
  dirs.push(dir);
  return dir;
}

/** A logger whose JSON lines the test reads back. */
function captureLogs() {
  const out = captureOutput();
  const logger = createLogger({ level: 'info', format: 'json', destination: out.stream });
  return { logger, records: () => out.lines().map((l) => JSON.parse(l) as Record<string, unknown>) };
}

const alive = new Set([4242]);
const isAlive = (pid: number) => alive.has(pid);
/** Boot id and start time as this "system" reports them now. */
const started = new Map([
  [4242, 'boot-a/100'],
  [5000, 'boot-a/900'],
  [31337, 'boot-a/50'],
]);
const identityOf = (pid: number) => started.get(pid);
const fake = { isAlive, identityOf };

describe('the data directory lock', () => {
  it('appears whole: its PID is in it from the first moment, and no temp file is left', () => {
    const dir = tempDir();
    const lock = lockDataDir(dir, { logger: silentLogger(), pid: 5000, ...fake });
    expect(readdirSync(dir)).toEqual([LOCK_FILE_NAME]);
    expect(readFileSync(path.join(dir, LOCK_FILE_NAME), 'utf8')).toBe('5000\nboot-a/900\n');
    // A second daemon finds the whole lock, never an empty file it could take for stale.
    expect(() =>
      lockDataDir(dir, { logger: silentLogger(), pid: 4242, isAlive: () => true, identityOf }),
    ).toThrow(DataDirLockedError);
    expect(readdirSync(dir)).toEqual([LOCK_FILE_NAME]);
    lock.release();
  });

  it('holds the PID while taken and is gone after release', () => {
    const dir = tempDir();
    const { logger } = captureLogs();
    const lock = lockDataDir(dir, { logger, pid: 4242, ...fake });
    expect(readFileSync(path.join(dir, LOCK_FILE_NAME), 'utf8')).toBe('4242\nboot-a/100\n');
    lock.release();
    expect(existsSync(path.join(dir, LOCK_FILE_NAME))).toBe(false);
  });

  it('refuses a second owner while the first runs, naming its PID and the file', () => {
    const dir = tempDir();
    const { logger } = captureLogs();
    lockDataDir(dir, { logger, pid: 4242, ...fake });
    let caught: unknown;
    try {
      lockDataDir(dir, { logger, pid: 5000, ...fake });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(DataDirLockedError);
    expect((caught as Error).message).toContain('PID 4242');
    expect((caught as Error).message).toContain(path.join(dir, LOCK_FILE_NAME));
    // The first owner's lock is untouched.
    expect(readFileSync(path.join(dir, LOCK_FILE_NAME), 'utf8')).toBe('4242\nboot-a/100\n');
  });

  it.each([
    ['a PID that no longer runs', '31337\n', 31337],
    ['a PID that another program got after a reboot', '4242\nboot-z/100\n', 4242],
    ['a PID that another program got since (other start time)', '4242\nboot-a/7\n', 4242],
    ['no PID at all (a write cut short)', '', 'unreadable'],
    ['its own PID (a container restarted with the same one)', '5000\n', 5000],
  ])('takes over a stale lock holding %s, with a log line', (_name, content, stalePid) => {
    const dir = tempDir();
    writeFileSync(path.join(dir, LOCK_FILE_NAME), content);
    const { logger, records } = captureLogs();
    lockDataDir(dir, { logger, pid: 5000, ...fake });
    expect(readFileSync(path.join(dir, LOCK_FILE_NAME), 'utf8')).toBe('5000\nboot-a/900\n');
    expect(records()).toContainEqual(
      expect.objectContaining({ level: 40, stalePid, msg: expect.stringMatching(/taking over the lock/) }),
    );
  });

  it('a lock written without a start time (not Linux) counts as held while its PID runs', () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, LOCK_FILE_NAME), '4242\n\n');
    expect(() => lockDataDir(dir, { logger: silentLogger(), pid: 5000, ...fake })).toThrow(/PID 4242/);
  });

  it('on this machine: its own start time is recorded and checked', () => {
    const dir = tempDir();
    const lock = lockDataDir(dir, { logger: silentLogger() });
    const [pid, identity] = readFileSync(path.join(dir, LOCK_FILE_NAME), 'utf8').split('\n');
    expect(pid).toBe(String(process.pid));
    if (process.platform === 'linux') expect(identity).toMatch(/^[0-9a-f-]{36}\/\d+$/);
    // Another process's view of this live lock: refused.
    expect(() => lockDataDir(dir, { logger: silentLogger(), pid: process.pid + 1 })).toThrow(
      new RegExp(`PID ${process.pid}`),
    );
    lock.release();
  });

  it('release leaves a lock that another daemon took over in place', () => {
    const dir = tempDir();
    const lock = lockDataDir(dir, { logger: silentLogger(), pid: 31337, ...fake });
    writeFileSync(path.join(dir, LOCK_FILE_NAME), '4242\n');
    lock.release();
    expect(readFileSync(path.join(dir, LOCK_FILE_NAME), 'utf8')).toBe('4242\n');
  });
});
