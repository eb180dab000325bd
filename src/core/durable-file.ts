/**
 * Small files the daemon must not lose on a power cut (retained MQTT messages, the discovery
 * registry, the OCPP ledger…): write to a temp file, fsync, rename over the old one, fsync the
 * folder, so a reader finds the old content or the new, never half of one. A file that cannot be
 * read is moved aside for inspection, never deleted.
 *
 * Temp files are `<file>.tmp-<pid>-<8 hex>`: unique, so two writers (or an in-process restart while
 * an old write still runs) never share one, and recognisable, so a failed write removes its own and
 * the first write of a file in a process removes what a crash left behind; nothing else is touched.
 */
import { randomBytes } from 'node:crypto';
import * as nodeFs from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { makeDirectory } from './data-dir.js';

/** The file operations used; tests replace single ones to make a write fail (there is no full disk here). */
export type DurableFileFs = Pick<typeof nodeFs, 'open' | 'rename' | 'unlink' | 'readdir'>;

const TEMP_SUFFIX = /^\.tmp-\d+-[0-9a-f]{8}$/;

// Temp files of writes running in this process: never stale, whatever the file's first write thinks.
const inFlight = new Set<string>();
// Files whose leftovers were already looked for in this process.
const swept = new Set<string>();

/** A fresh temp name next to `path`; pair with `releaseTempPath` once the write ended. */
export function claimTempPath(path: string): string {
  const temp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  inFlight.add(temp);
  return temp;
}

export function releaseTempPath(temp: string): void {
  inFlight.delete(temp);
}

/** Whether `name` (a name in the same folder) is one of our temp files for `path`. */
export function isTempFileOf(path: string, name: string): boolean {
  const base = basename(path);
  return name.startsWith(base) && TEMP_SUFFIX.test(name.slice(base.length));
}

/**
 * Removes `<file>.tmp-<pid>-<hex>` files a crashed or failed write left next to `path` (a full disk
 * leaves 0-byte ones), except those of writes running now. Returns the names removed; a folder that
 * cannot be listed removes nothing (the write that follows reports the problem).
 */
export async function removeStaleTempFiles(
  path: string,
  fs: Pick<DurableFileFs, 'readdir' | 'unlink'> = nodeFs,
): Promise<string[]> {
  const dir = dirname(path);
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const full = join(dir, name);
    if (!isTempFileOf(path, name) || inFlight.has(full)) continue;
    try {
      await fs.unlink(full);
      removed.push(name);
    } catch {
      // Gone already, or not ours to remove after all: leave it.
    }
  }
  return removed;
}

export async function writeFileDurably(
  path: string,
  body: string | Uint8Array,
  options: { fs?: Partial<DurableFileFs> } = {},
): Promise<void> {
  const fs: DurableFileFs = { ...nodeFs, ...options.fs };
  // Not fs.mkdir's recursive mode: it never returns on /proc-like folders (see data-dir.ts).
  makeDirectory(dirname(path));
  if (!swept.has(path)) {
    swept.add(path);
    await removeStaleTempFiles(path, fs);
  }
  const temp = claimTempPath(path);
  try {
    const file = await fs.open(temp, 'w', 0o600);
    try {
      await file.writeFile(body);
      await file.sync();
    } finally {
      await file.close();
    }
    await fs.rename(temp, path);
  } catch (err) {
    // A full disk leaves a 0-byte or partial temp file; it holds nothing worth keeping.
    await fs.unlink(temp).catch(() => undefined);
    throw err;
  } finally {
    releaseTempPath(temp);
  }
  const dir = await fs.open(dirname(path), 'r');
  try {
    await dir.sync();
  } catch {
    // Some filesystems refuse fsync on a directory; the rename is still atomic.
  } finally {
    await dir.close();
  }
}

/** `<file>.corrupt-<time>`: where an unreadable file goes. */
export function asidePath(path: string, nowMs: number): string {
  return `${path}.corrupt-${new Date(nowMs).toISOString().replace(/[:.]/g, '-')}`;
}

/** Move an unreadable file aside; returns where it went. */
export async function moveAside(path: string, nowMs: number): Promise<string> {
  const aside = asidePath(path, nowMs);
  await nodeFs.rename(path, aside);
  return aside;
}
