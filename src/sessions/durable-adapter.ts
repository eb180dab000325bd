/**
 * A lowdb adapter for a JSON file that must survive power cuts and bad files.
 *
 * Write: serialize to a temp file `<file>.tmp-<pid>-<hex>` (core/durable-file.ts: unique, removed when
 * the write fails, leftovers of a crash removed by read()), fsync, keep the current file as
 * `<file>.bak` (hard link, or a copy where links are not supported), rename the temp file over the
 * file, fsync the directory. At every step the disk holds a complete old or new file.
 *
 * Read: a file that is not JSON or fails the schema is moved aside to `<file>.corrupt-<time>` (never
 * deleted), reported, and the last good copy `<file>.bak` is loaded instead.
 */
import * as syncFs from 'node:fs';
import * as nodeFs from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { Adapter } from 'lowdb';
import type { z } from 'zod';
import { type Clock, systemClock } from '../core/clock.js';
import { makeDirectory } from '../core/data-dir.js';
import { claimTempPath, releaseTempPath, removeStaleTempFiles } from '../core/durable-file.js';
import { type Logger, silentLogger } from '../log.js';

/** `write_failed`: a file could not be written; its data stays in memory and is written at the next change. */
export type FileProblemKind = 'corrupt' | 'main_missing' | 'backup_corrupt' | 'write_failed';

/** Something the daemon should tell the user about (log + bridge/event). */
export interface FileProblem {
  kind: FileProblemKind;
  /** The file that was bad, missing or could not be written. */
  file: string;
  reason: string;
  /** Where the bad file now is; null when it was left in place (read-only) or missing. */
  movedTo: string | null;
  /** The file the data was loaded from instead; null = started empty. */
  recoveredFrom: string | null;
  at: number;
}

/** A file we cannot read or write for a reason other than its content (permissions, a newer version). */
export class StoreFileError extends Error {
  readonly code: string | undefined;
  constructor(message: string, code?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreFileError';
    this.code = code;
  }
}

/** The file operations used; tests replace single ones to simulate a crash between steps. */
export type DurableFs = Pick<
  typeof nodeFs,
  'readFile' | 'open' | 'rename' | 'link' | 'unlink' | 'copyFile' | 'mkdir' | 'access' | 'readdir'
>;

export interface DurableJsonFileOptions<T> {
  path: string;
  schema: z.ZodType<T>;
  /** A message refuses the file outright (e.g. written by a newer version): nothing is moved. */
  refuse?: (json: unknown) => string | null;
  /** Never changes anything on disk (CLI export): bad files are reported but left in place. */
  readOnly?: boolean;
  clock?: Clock;
  logger?: Logger;
  onProblem?: (problem: FileProblem) => void;
  fs?: Partial<DurableFs>;
}

type Loaded<T> = { status: 'ok'; data: T } | { status: 'missing' } | { status: 'bad'; reason: string };

interface QueuedWrite {
  body: string;
  waiters: Array<{ resolve: () => void; reject: (err: unknown) => void }>;
}

export class DurableJsonFile<T> implements Adapter<T> {
  readonly path: string;
  readonly backupPath: string;
  /** Every problem met so far, oldest first. */
  readonly problems: FileProblem[] = [];
  private readonly o: DurableJsonFileOptions<T>;
  private readonly fs: DurableFs;
  private readonly clock: Clock;
  private readonly log: Logger;
  private queued: QueuedWrite | null = null;
  private running: Promise<void> | null = null;

  constructor(options: DurableJsonFileOptions<T>) {
    this.o = options;
    this.path = options.path;
    this.backupPath = `${options.path}.bak`;
    this.fs = { ...nodeFs, ...options.fs } as DurableFs;
    this.clock = options.clock ?? systemClock;
    this.log = (options.logger ?? silentLogger()).child({ store: basename(options.path) });
  }

  async read(): Promise<T | null> {
    if (!this.o.readOnly) {
      // Temp files of writes a crash or a full disk cut short hold nothing the file does not.
      for (const p of [this.path, this.backupPath]) await removeStaleTempFiles(p, this.fs);
    }
    const main = await this.load(this.path);
    if (main.status === 'ok') return main.data;
    const backup = await this.load(this.backupPath);
    const recoveredFrom = backup.status === 'ok' ? this.backupPath : null;
    if (main.status === 'bad') {
      this.report({
        kind: 'corrupt',
        file: this.path,
        reason: main.reason,
        movedTo: await this.moveAside(this.path),
        recoveredFrom,
      });
    } else if (backup.status !== 'missing') {
      this.report({
        kind: 'main_missing',
        file: this.path,
        reason: 'the file is missing but its backup exists',
        movedTo: null,
        recoveredFrom,
      });
    }
    if (backup.status === 'bad') {
      this.report({
        kind: 'backup_corrupt',
        file: this.backupPath,
        reason: backup.reason,
        movedTo: await this.moveAside(this.backupPath),
        recoveredFrom: null,
      });
    }
    return backup.status === 'ok' ? backup.data : null;
  }

  /**
   * Writes are queued one at a time; a write asked for while another runs replaces any still-waiting
   * one (the newest data wins). Rejects with StoreFileError; the caller keeps its data and tries again.
   */
  write(data: T): Promise<void> {
    if (this.o.readOnly) return Promise.reject(new StoreFileError(`${this.path} is open read-only`));
    const body = `${JSON.stringify(data)}\n`;
    return new Promise<void>((resolve, reject) => {
      if (this.queued) {
        this.queued.body = body;
        this.queued.waiters.push({ resolve, reject });
      } else this.queued = { body, waiters: [{ resolve, reject }] };
      if (!this.running) this.running = this.pump();
    });
  }

  /**
   * The same durable write, done before returning: for a journal whose entry must be on disk before
   * the message it records leaves the machine (the OCPP offline queue). Blocks for one fsync. Use
   * either this or write() on one file, never both.
   */
  writeSync(data: T): void {
    if (this.o.readOnly) throw new StoreFileError(`${this.path} is open read-only`);
    if (this.running || this.queued) throw new Error(`${this.path}: writeSync while a write() is running`);
    const body = `${JSON.stringify(data)}\n`;
    const tempPath = claimTempPath(this.path);
    try {
      makeDirectory(dirname(this.path));
      const temp = syncFs.openSync(tempPath, 'w', 0o600);
      try {
        syncFs.writeFileSync(temp, body, 'utf8');
        syncFs.fsyncSync(temp);
      } finally {
        syncFs.closeSync(temp);
      }
      if (syncFs.existsSync(this.path)) this.keepBackupSync();
      syncFs.renameSync(tempPath, this.path);
      syncDirectorySync(dirname(this.path));
    } catch (err) {
      // A full disk leaves a 0-byte or partial temp file; it holds nothing worth keeping.
      try {
        syncFs.rmSync(tempPath, { force: true });
      } catch {
        // No folder to hold it (the error below says why).
      }
      throw new StoreFileError(
        `cannot write ${this.path}: ${describeFsError(err)}; the data stays in memory and is written again at the next change`,
        (err as NodeJS.ErrnoException).code,
        { cause: err },
      );
    } finally {
      releaseTempPath(tempPath);
    }
  }

  private keepBackupSync(): void {
    const staging = claimTempPath(this.backupPath);
    try {
      this.stageBackupSync(staging);
      syncFs.renameSync(staging, this.backupPath);
    } catch (err) {
      syncFs.rmSync(staging, { force: true });
      throw err;
    } finally {
      releaseTempPath(staging);
    }
  }

  private stageBackupSync(staging: string): void {
    try {
      syncFs.linkSync(this.path, staging);
    } catch {
      syncFs.copyFileSync(this.path, staging);
      const copy = syncFs.openSync(staging, 'r+');
      try {
        syncFs.fsyncSync(copy);
      } finally {
        syncFs.closeSync(copy);
      }
    }
  }

  private async pump(): Promise<void> {
    while (this.queued) {
      const job = this.queued;
      this.queued = null;
      try {
        await this.writeNow(job.body);
        for (const w of job.waiters) w.resolve();
      } catch (err) {
        for (const w of job.waiters) w.reject(err);
      }
    }
    this.running = null;
  }

  private async writeNow(body: string): Promise<void> {
    const { fs } = this;
    const tempPath = claimTempPath(this.path);
    try {
      // Not fs.mkdir's recursive mode: it never returns on /proc-like folders (core/data-dir.ts).
      makeDirectory(dirname(this.path));
      const temp = await fs.open(tempPath, 'w', 0o600);
      try {
        await temp.writeFile(body, 'utf8');
        await temp.sync();
      } finally {
        await temp.close();
      }
      if (await exists(fs, this.path)) await this.keepBackup();
      await fs.rename(tempPath, this.path);
      await syncDirectory(fs, dirname(this.path));
    } catch (err) {
      // A full disk leaves a 0-byte or partial temp file; it holds nothing worth keeping.
      await fs.unlink(tempPath).catch(() => undefined);
      const code = (err as NodeJS.ErrnoException).code;
      throw new StoreFileError(
        `cannot write ${this.path}: ${describeFsError(err)}; the data stays in memory and is written again at the next change`,
        code,
        { cause: err },
      );
    } finally {
      releaseTempPath(tempPath);
    }
  }

  /** `<file>.bak` becomes the current file, atomically (link or copy to a temp name, then rename). */
  private async keepBackup(): Promise<void> {
    const staging = claimTempPath(this.backupPath);
    try {
      await this.stageBackup(staging);
      await this.fs.rename(staging, this.backupPath);
    } catch (err) {
      await this.fs.unlink(staging).catch(() => undefined);
      throw err;
    } finally {
      releaseTempPath(staging);
    }
  }

  private async stageBackup(staging: string): Promise<void> {
    const { fs } = this;
    try {
      await fs.link(this.path, staging);
    } catch {
      // FAT, some network and container filesystems have no hard links.
      await fs.copyFile(this.path, staging);
      const copy = await fs.open(staging, 'r+');
      try {
        await copy.sync();
      } finally {
        await copy.close();
      }
    }
  }

  private async load(path: string): Promise<Loaded<T>> {
    let text: string;
    try {
      text = await this.fs.readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { status: 'missing' };
      throw new StoreFileError(
        `cannot read ${path}: ${describeFsError(err)}`,
        (err as NodeJS.ErrnoException).code,
        {
          cause: err,
        },
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      return { status: 'bad', reason: `not valid JSON (${(err as Error).message})` };
    }
    const refusal = this.o.refuse?.(json) ?? null;
    if (refusal !== null) throw new StoreFileError(`refusing to use ${path}: ${refusal}`);
    const checked = this.o.schema.safeParse(json);
    if (!checked.success) {
      const issue = checked.error.issues[0];
      return {
        status: 'bad',
        reason: `unexpected content at ${issue?.path.join('.') || '(top level)'}: ${issue?.message ?? 'invalid'}`,
      };
    }
    return { status: 'ok', data: checked.data };
  }

  /** `<file>.corrupt-20260115T120000Z` (a numeric suffix if taken); null when read-only. */
  private async moveAside(path: string): Promise<string | null> {
    if (this.o.readOnly) return null;
    const stamp = new Date(this.clock.now()).toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '');
    for (let n = 0; ; n++) {
      const target = `${path}.corrupt-${stamp}${n === 0 ? '' : `-${n}`}`;
      if (await exists(this.fs, target)) continue;
      await this.fs.rename(path, target);
      return target;
    }
  }

  private report(problem: Omit<FileProblem, 'at'>): void {
    const full: FileProblem = { ...problem, at: this.clock.now() };
    this.problems.push(full);
    this.log.error(
      full,
      full.recoveredFrom
        ? 'store file unusable; loaded the last good copy'
        : 'store file unusable and no good copy; starting without its data',
    );
    this.o.onProblem?.(full);
  }
}

async function exists(fs: DurableFs, path: string): Promise<boolean> {
  try {
    await fs.access(path);
    return true;
  } catch {
    return false;
  }
}

async function syncDirectory(fs: DurableFs, dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } catch {
    // Some filesystems refuse fsync on a directory; the rename itself is still atomic.
  } finally {
    await handle.close();
  }
}

function syncDirectorySync(dir: string): void {
  const handle = syncFs.openSync(dir, 'r');
  try {
    syncFs.fsyncSync(handle);
  } catch {
    // As above: the rename is atomic even where a folder cannot be fsynced.
  } finally {
    syncFs.closeSync(handle);
  }
}

function describeFsError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  const why: Record<string, string> = {
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EROFS: 'the filesystem is read-only',
    ENOSPC: 'the disk is full',
    ENOTDIR: 'a part of the path is not a folder',
    EISDIR: 'the path is a folder',
    EDQUOT: 'disk quota exceeded',
  };
  const text = (e.code && why[e.code]) ?? e.message ?? String(err);
  return e.code ? `${text} (${e.code})` : text;
}
