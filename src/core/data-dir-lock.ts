/**
 * One data directory, one daemon: two daemons on the same folder would both write the session store,
 * the retained messages and the discovery registry, and each would remove the other's chargers from
 * Home Assistant. The lock is a file holding the owner's PID, created with O_EXCL; a lock whose
 * process is gone (a crash, a power cut) is taken over with a log line. On Linux the file also holds
 * the boot id and the process's start time: after a reboot its old PID may belong to another program.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, linkSync, openSync, readFileSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
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
  /** Boot id + start time of a process, undefined where unknown (injectable for tests). */
  identityOf?: (pid: number) => string | undefined;
}

/** Takes the lock in `dataDir` (which must exist) or throws DataDirLockedError naming the owner. */
export function lockDataDir(dataDir: string, options: LockOptions): DataDirLock {
  const file = join(dataDir, LOCK_FILE_NAME);
  const pid = options.pid ?? process.pid;
  const isAlive = options.isAlive ?? processExists;
  const identityOf = options.identityOf ?? processIdentity;
  const content = `${pid}\n${identityOf(pid) ?? ''}\n`;
  // Twice at most: the second try follows the removal of a stale lock.
  for (let attempt = 0; attempt < 2; attempt++) {
    if (tryCreate(file, content)) return { file, release: () => release(file, pid) };
    const owner = readOwner(file);
    if (owner === 'gone') continue; // released between our two calls
    // Our own PID is stale too: in a container the daemon often gets the same PID after a restart.
    if (owner !== null && owner.pid !== pid && isAlive(owner.pid)) {
      const now = owner.identity ? identityOf(owner.pid) : undefined;
      if (now === undefined || now === owner.identity) throw new DataDirLockedError(file, owner.pid);
    }
    options.logger.warn(
      { file, stalePid: owner?.pid ?? 'unreadable' },
      'taking over the lock of a chargebridge that is no longer running',
    );
    try {
      unlinkSync(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  const owner = readOwner(file);
  throw new DataDirLockedError(file, typeof owner === 'object' && owner !== null ? owner.pid : 0);
}

/**
 * The lock appears whole or not at all: written to a private temp file, then hard-linked into place
 * (which fails if a lock exists). A second daemon never sees an empty lock and takes it for stale.
 */
function tryCreate(file: string, content: string): boolean {
  const temp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  writeFileSync(temp, content, { mode: 0o644, flag: 'wx' });
  try {
    linkSync(temp, file);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    // Filesystems without hard links (FAT, some network shares): create exclusively, then write.
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP')
      return createThenWrite(file, content);
    throw err;
  } finally {
    try {
      unlinkSync(temp);
    } catch {
      // already gone
    }
  }
}

function createThenWrite(file: string, content: string): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
  return true;
}

interface Owner {
  pid: number;
  identity: string | undefined;
}

/** The owner in the lock file; null when it holds no PID; 'gone' when the file no longer exists. */
function readOwner(file: string): Owner | null | 'gone' {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw err;
  }
  const [first = '', second = ''] = text.split('\n');
  const pid = Number(first.trim());
  if (!Number.isSafeInteger(pid) || pid <= 0) return null;
  return { pid, identity: second.trim() || undefined };
}

function release(file: string, pid: number): void {
  try {
    const owner = readOwner(file);
    if (typeof owner === 'object' && owner?.pid === pid) unlinkSync(file);
  } catch {
    // Left behind, it is taken over as stale at the next start.
  }
}

/** Linux: `<boot id>/<start time in ticks>` (field 22 of /proc/<pid>/stat); elsewhere undefined. */
function processIdentity(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; fields after it start at field 3.
    const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    return start ? `${boot}/${start}` : undefined;
  } catch {
    return undefined;
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
