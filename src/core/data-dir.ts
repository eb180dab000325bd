/**
 * data_dir is made and checked before anything else starts: a folder that cannot be created or
 * written would otherwise fail later, one store at a time, or worse. Node's recursive mkdir loops
 * forever (blocking the event loop, so SIGTERM is never handled) on filesystems such as /proc that
 * answer ENOENT for a folder whose parent exists; makeDirectory walks the path itself instead.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** Thrown when data_dir cannot be used; the message names the key, the path and why. */
export class DataDirError extends Error {
  override readonly name = 'DataDirError';
  constructor(
    readonly dir: string,
    readonly code: string | undefined,
    reason: string,
  ) {
    super(`data_dir ${dir} cannot be used: ${reason}; set data_dir to a folder chargebridge may write`);
  }
}

/**
 * mkdir -p without Node's recursive mode: each missing folder from the top down is made with one
 * plain mkdir, so every failure is an error, never a retry loop.
 */
export function makeDirectory(dir: string): void {
  const missing: string[] = [];
  for (let d = resolve(dir); ; d = dirname(d)) {
    // Stop at anything that exists: a file in the way then fails the mkdir below with ENOTDIR.
    if (exists(d)) break;
    missing.unshift(d);
    if (dirname(d) === d) break;
  }
  for (const d of missing) {
    try {
      mkdirSync(d);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || !isDirectory(d)) throw err;
    }
  }
}

/** Creates `dir` if needed and proves it writable with a probe file (written, fsynced, removed). */
export function prepareDataDir(dir: string): void {
  try {
    makeDirectory(dir);
  } catch (err) {
    throw dataDirError(dir, err, 'it cannot be created');
  }
  const probe = join(dir, `.chargebridge-write-probe-${process.pid}`);
  try {
    const fd = openSync(probe, 'w', 0o600);
    try {
      writeSync(fd, 'ok\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    unlinkSync(probe);
  } catch (err) {
    try {
      unlinkSync(probe);
    } catch {
      // Never created.
    }
    throw dataDirError(dir, err, 'it cannot be written');
  }
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function dataDirError(dir: string, err: unknown, what: string): DataDirError {
  const e = err as NodeJS.ErrnoException;
  return new DataDirError(dir, e.code, `${what} (${e.message ?? String(err)})`);
}
