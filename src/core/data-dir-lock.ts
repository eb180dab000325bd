/**
 * One data directory, one daemon: two daemons on the same folder would both write the session store,
 * the retained messages and the discovery registry, and each would remove the other's chargers from
 * Home Assistant. The lock is a file holding the owner's PID, created with O_EXCL; a lock whose
 * process is gone (a crash, a power cut) is taken over with a log line.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../log.js';

export const LOCK_FILE_NAME = 'chargebridge.pid';

export class DataDirLockedError extends Error {
  override readonly name = 'DataDirLockedError';
  constructor(
    readonly file: string,
    readonly ownerPid: number,
  ) {
    super(
      `another chargebridge (PID ${ownerPid}) is already running on this data_dir (lock file ${file}); ` +
        'stop it first, or give this one its own data_dir',
    );
  }
}

export interface DataDirLock {
  readonly file: string;
  /** Removes the lock file if it is still ours; never throws. */
  release(): void;
}

export interface LockOptions {
  logger: Logger;
  /** This process's id (injectable for tests). */
  pid?: number;
  /** Whether a process exists (injectable for tests). */
  isAlive?: (pid: number) => boolean;
}

/** Takes the lock in `dataDir` (which must exist) or throws DataDirLockedError naming the owner. */
export function lockDataDir(dataDir: string, options: LockOptions): DataDirLock {
  const file = join(dataDir, LOCK_FILE_NAME);
  const pid = options.pid ?? process.pid;
  const isAlive = options.isAlive ?? processExists;
  // Twice at most: the second try follows the removal of a stale lock.
  for (let attempt = 0; attempt < 2; attempt++) {
    if (tryCreate(file, pid)) return { file, release: () => release(file, pid) };
    const owner = readOwner(file);
    if (owner === 'gone') continue; // released between our two calls
    // Our own PID is stale too: in a container the daemon often gets the same PID after a restart.
    if (owner !== null && owner !== pid && isAlive(owner)) throw new DataDirLockedError(file, owner);
    options.logger.warn(
      { file, stalePid: owner ?? 'unreadable' },
      'taking over the lock of a chargebridge that is no longer running',
    );
    try {
      unlinkSync(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  const owner = readOwner(file);
  throw new DataDirLockedError(file, typeof owner === 'number' ? owner : 0);
}

function tryCreate(file: string, pid: number): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    writeSync(fd, `${pid}\n`);
  } finally {
    closeSync(fd);
  }
  return true;
}

/** The PID in the lock file; null when it holds no PID; 'gone' when the file no longer exists. */
function readOwner(file: string): number | null | 'gone' {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw err;
  }
  const pid = Number(text.trim());
  return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
}

function release(file: string, pid: number): void {
  try {
    if (readOwner(file) === pid) unlinkSync(file);
  } catch {
    // Left behind, it is taken over as stale at the next start.
  }
}

/** Signal 0 checks existence; EPERM means it exists but belongs to another user. */
function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
