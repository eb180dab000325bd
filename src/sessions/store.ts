/**
 * The session store in the data folder: lowdb files on the durable adapter, in `sessions/`.
 *  - `sessions/YYYY-MM.json`: closed sessions that started in that month (UTC), one file a month, so
 *    closing a session rewrites one month, not the whole history, and a damaged file costs one month.
 *  - `sessions/open.json`: sessions still running, small, written at open and at each sample, so a
 *    crash or restart loses at most the last minute of samples and never counts energy twice.
 * A write that fails keeps everything in memory, is reported (log and onProblem, once per distinct
 * error) and is retried at the next change (or flush()). A closed session leaves open.json only once
 * its month file is written, so a disk that fails and comes back never drops it from both files.
 */
import { statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Low } from 'lowdb';
import { type Clock, systemClock } from '../core/clock.js';
import { describeAge, type UnsavedFile } from '../core/unsaved-data.js';
import { type Logger, silentLogger } from '../log.js';
import { DurableJsonFile, type FileProblem, StoreFileError } from './durable-adapter.js';
import { type JournalEntry, journalPathFor, MonthJournal, replayJournal } from './month-journal.js';
import {
  OPEN_SESSIONS_FORMAT,
  type OpenSessionsFile,
  openSessionsFileSchema,
  refuseNewer,
  SESSIONS_FORMAT,
  type SessionNote,
  type SessionRecord,
  type SessionsFile,
  STORE_VERSION,
  sessionsFileSchema,
} from './record.js';
import { type SessionFilter, SessionIndex } from './session-index.js';

export type { SessionFilter } from './session-index.js';

/** Folder (inside the data folder) of the session files. */
export const SESSIONS_DIR = 'sessions';
export const OPEN_SESSIONS_FILE = 'open.json';
export const NOTE_MAX_LENGTH = 500;
export const NOTES_PER_SESSION_MAX = 50;

// A month whose file and backup are both gone is still there when its journal is.
const SHARD_NAME = /^(\d{4}-\d{2})\.(?:json(?:\.bak)?|journal)$/;

/** `YYYY-MM.json`: the file of the closed sessions that started in that UTC month. */
export function shardFileFor(startedAt: number): string {
  return `${new Date(startedAt).toISOString().slice(0, 7)}.json`;
}

export type SaveResult = { saved: true } | { saved: false; error: string };

export interface SessionStoreOptions {
  dataDir: string;
  /** Zone of the month index (the configured `timezone`). */
  timeZone: string;
  /** Open for reading only (CLI export): nothing on disk changes, bad files stay where they are. */
  readOnly?: boolean;
  clock?: Clock;
  logger?: Logger;
  /** Called for each corrupt or missing file found while loading, and when writes start failing (for bridge/event). */
  onProblem?: (problem: FileProblem) => void;
  /** Called when writes work again after failing: everything kept in memory is on disk. */
  onWritesRecovered?: () => void;
}

interface Shard {
  file: DurableJsonFile<SessionsFile>;
  db: Low<SessionsFile>;
  journal: MonthJournal;
  dirty: boolean;
  /** Sessions changed since the month file was last written → whether the journal has the change. */
  pending: Map<string, boolean>;
}

export class SessionStore {
  readonly timeZone: string;
  readonly readOnly: boolean;
  /** Where the session files are. */
  readonly dir: string;
  /** Incremented on every change, so callers can cache derived totals. */
  version = 0;
  private readonly o: SessionStoreOptions;
  private readonly shards = new Map<string, Shard>();
  private readonly openDb: Low<OpenSessionsFile>;
  private readonly openFile: DurableJsonFile<OpenSessionsFile>;
  private openDirty = false;
  private readonly index: SessionIndex;
  private readonly open = new Map<string, SessionRecord>();
  private readonly log: Logger;
  private lastError: string | null = null;
  /** When open.json was last written by this process (null: not yet). */
  private openWrittenAt: number | null = null;
  /** The running sessions open.json on disk holds. */
  private openOnDisk = new Set<string>();

  private constructor(options: SessionStoreOptions) {
    this.o = options;
    this.timeZone = options.timeZone;
    this.readOnly = options.readOnly ?? false;
    this.dir = join(options.dataDir, SESSIONS_DIR);
    this.log = (options.logger ?? silentLogger()).child({ component: 'session-store' });
    this.openFile = new DurableJsonFile({
      ...this.fileOptions(),
      path: join(this.dir, OPEN_SESSIONS_FILE),
      schema: openSessionsFileSchema,
    });
    this.openDb = new Low(this.openFile, {
      format: OPEN_SESSIONS_FORMAT,
      version: STORE_VERSION,
      sessions: [],
    });
    this.index = new SessionIndex(options.timeZone);
  }

  /** Loads every file. Throws StoreFileError only for files it must not touch (unreadable, newer). */
  static async open(options: SessionStoreOptions): Promise<SessionStore> {
    const store = new SessionStore(options);
    await store.load();
    return store;
  }

  private fileOptions() {
    return {
      clock: this.o.clock ?? systemClock,
      logger: this.log,
      readOnly: this.readOnly,
      refuse: refuseNewer,
      ...(this.o.onProblem ? { onProblem: this.o.onProblem } : {}),
    };
  }

  private shard(name: string): Shard {
    let shard = this.shards.get(name);
    if (!shard) {
      const file = new DurableJsonFile({
        ...this.fileOptions(),
        path: join(this.dir, name),
        schema: sessionsFileSchema,
      });
      const db = new Low<SessionsFile>(file, {
        format: SESSIONS_FORMAT,
        version: STORE_VERSION,
        sessions: [],
      });
      shard = {
        file,
        db,
        journal: new MonthJournal(journalPathFor(file.path)),
        dirty: false,
        pending: new Map(),
      };
      this.shards.set(name, shard);
    }
    return shard;
  }

  private async load(): Promise<void> {
    let names: string[] = [];
    try {
      names = await readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new StoreFileError(`cannot read the session folder ${this.dir}: ${(err as Error).message}`);
      }
    }
    const months = [
      ...new Set(names.map((n) => SHARD_NAME.exec(n)?.[1]).filter((m) => m !== undefined)),
    ].sort();
    for (const month of months) {
      const shard = this.shard(`${month}.json`);
      await shard.db.read();
      const replayed = await this.replayJournal(shard);
      for (const record of shard.db.data.sessions) {
        if (this.index.has(record.id)) {
          this.log.warn({ session: record.id }, 'duplicate session in the store; keeping the first');
          continue;
        }
        this.index.add(record);
      }
      // Recovered from the backup (the bad file is kept aside): make the file whole again.
      if ((shard.file.problems.length > 0 || replayed > 0) && !this.readOnly) await this.persistShard(shard);
    }
    await this.openDb.read();
    for (const record of this.openDb.data.sessions) {
      // Closed already (the daemon stopped between the two writes of complete()): not twice.
      if (this.index.has(record.id)) continue;
      this.open.set(record.id, record);
      this.openOnDisk.add(record.id);
    }
    if (this.openFile.problems.length > 0 && !this.readOnly) await this.persistOpen();
  }

  /** Sessions and notes of the journal missing from the loaded month (torn file, or a stop between the writes). */
  private async replayJournal(shard: Shard): Promise<number> {
    let read: Awaited<ReturnType<MonthJournal['read']>>;
    try {
      read = await shard.journal.read();
    } catch (err) {
      this.log.warn(
        { journal: shard.journal.path, err: (err as Error).message },
        'cannot read the month journal',
      );
      return 0;
    }
    if (read.skipped > 0) {
      this.log.warn({ journal: shard.journal.path, lines: read.skipped }, 'skipped unreadable journal lines');
    }
    const added = replayJournal(shard.db.data.sessions, read.entries);
    if (added > 0) {
      this.log.warn(
        { journal: shard.journal.path, monthFile: shard.file.path, added },
        'restored completed sessions and notes from the month journal that the month file lacked',
      );
    }
    return added;
  }

  /** Appended before the month file is rewritten; a failure is logged, the month write then tells. */
  private async journal(shard: Shard, entry: JournalEntry): Promise<boolean> {
    if (this.readOnly) return false;
    try {
      await shard.journal.append(entry);
      return true;
    } catch (err) {
      this.log.warn(
        { journal: shard.journal.path, err: (err as Error).message },
        'cannot append to the month journal',
      );
      return false;
    }
  }

  /** Corrupt or missing files found while loading. */
  get problems(): FileProblem[] {
    const all = [...this.shards.values()].flatMap((s) => s.file.problems);
    return [...all, ...this.openFile.problems].sort((a, b) => a.at - b.at);
  }

  /** The last write error, or null once a write succeeded again. */
  get writeError(): string | null {
    return this.lastError;
  }

  get closedCount(): number {
    return this.index.size;
  }

  openSessions(): SessionRecord[] {
    return [...this.open.values()];
  }

  /** A closed or open session. */
  get(id: string): SessionRecord | undefined {
    return this.index.get(id) ?? this.open.get(id);
  }

  has(id: string): boolean {
    return this.index.has(id) || this.open.has(id);
  }

  /** Closed sessions matching the filter, oldest first. Do not mutate them. */
  query(filter: SessionFilter = {}): SessionRecord[] {
    return this.index.query(filter);
  }

  lastClosed(chargerId: string): SessionRecord | undefined {
    return this.index.lastOf(chargerId);
  }

  /** Local months (`YYYY-MM`) that have sessions. */
  months(): string[] {
    return this.index.months();
  }

  /** A session id not used yet: `base`, else `base-2`, `base-3`… */
  uniqueId(base: string): string {
    if (!this.has(base)) return base;
    for (let n = 2; ; n++) if (!this.has(`${base}-${n}`)) return `${base}-${n}`;
  }

  /** Records (or updates) a running session. */
  async saveOpen(record: SessionRecord): Promise<SaveResult> {
    if (this.index.has(record.id)) throw new Error(`session ${record.id} is already closed`);
    this.open.set(record.id, structuredClone(record));
    this.version++;
    return this.persistOpen();
  }

  /** Moves a session from open to closed. The month file is written first: a crash in between leaves a duplicate that load() drops. */
  async complete(record: SessionRecord): Promise<SaveResult> {
    if (record.endedAt === null) throw new Error(`session ${record.id} has no end time`);
    const copy = structuredClone(record);
    this.index.add(copy);
    const shard = this.shard(shardFileFor(copy.startedAt));
    shard.db.data.sessions.push(copy);
    const wasOpen = this.open.delete(record.id);
    this.version++;
    // open.json no longer lists it: an open.json write meanwhile (the next session opening) must wait
    // for this month file, or a crash between the two loses the session.
    shard.dirty = true;
    shard.pending.set(copy.id, await this.journal(shard, { session: copy }));
    const closed = await this.persistShard(shard);
    const open = wasOpen ? await this.persistOpen() : closed;
    return closed.saved ? open : closed;
  }

  /** Adds a note to a session (open or closed). Throws on bad input; the note stays in memory if the disk fails. */
  async addNote(id: string, text: string, at: number): Promise<{ note: SessionNote; result: SaveResult }> {
    const clean = text.replace(/\p{Cc}/gu, ' ').trim();
    if (clean === '') throw new Error('a note needs some text');
    if (clean.length > NOTE_MAX_LENGTH) throw new Error(`a note is at most ${NOTE_MAX_LENGTH} characters`);
    const closed = this.index.get(id);
    const record = closed ?? this.open.get(id);
    if (!record) throw new Error(`no session with id ${JSON.stringify(id)}`);
    if (record.notes.length >= NOTES_PER_SESSION_MAX) {
      throw new Error(`session ${id} already has ${NOTES_PER_SESSION_MAX} notes`);
    }
    const note = { at, text: clean };
    record.notes.push(note);
    this.version++;
    let result: SaveResult;
    if (closed) {
      const shard = this.shard(shardFileFor(closed.startedAt));
      const journaled = await this.journal(shard, { note: { id, note } });
      shard.pending.set(id, (shard.pending.get(id) ?? true) && journaled);
      result = await this.persistShard(shard);
    } else result = await this.persistOpen();
    return { note, result };
  }

  /**
   * After a failed flush(): each file that is behind, and where the disk has the data instead (the
   * month journal for completed sessions, the last open.json for running ones).
   */
  unsaved(): UnsavedFile[] {
    const now = (this.o.clock ?? systemClock).now();
    const openPath = this.openFile.path;
    const openAt = this.openWrittenAt ?? modifiedAt(openPath);
    const when = (at: number) => new Date(at).toISOString();
    const out: UnsavedFile[] = [];
    for (const shard of this.shards.values()) {
      if (!shard.dirty) continue;
      const ids = [...shard.pending.keys()];
      const list = ids.length > 0 ? ` (${ids.join(', ')})` : '';
      if (ids.length > 0 && [...shard.pending.values()].every(Boolean)) {
        out.push({
          file: shard.file.path,
          keptIn: shard.journal.path,
          keptSince: null,
          detail: `${shard.file.path} is missing the latest completed sessions or notes${list}; they are kept in ${shard.journal.path} and put back into the month file at the next start`,
        });
      } else {
        out.push({
          file: shard.file.path,
          keptIn: openAt === null ? null : openPath,
          keptSince: openAt,
          detail:
            openAt === null
              ? `${shard.file.path} is missing the latest completed sessions or notes${list}; no copy of them is on disk`
              : `${shard.file.path} is missing the latest completed sessions or notes${list}; the disk has them only as far as ${openPath} from ${when(openAt)} holds them as running sessions`,
        });
      }
    }
    if (this.openDirty) {
      const ids = [...this.open.keys()];
      const kept = ids.filter((id) => this.openOnDisk.has(id));
      const lost = ids.filter((id) => !this.openOnDisk.has(id));
      const sessions = (list: string[]) =>
        list.length === 1 ? `the open session ${list[0]}` : `the open sessions ${list.join(', ')}`;
      const parts: string[] = [];
      if (ids.length === 0) {
        parts.push(
          `${openPath} could not be updated; it still lists sessions closed since, which the next start takes from their month files or journals`,
        );
      }
      if (kept.length > 0 && openAt !== null) {
        parts.push(
          `${sessions(kept)} ${kept.length === 1 ? 'stays' : 'stay'} in ${openPath} from ${when(openAt)}; the last ${describeAge(now - openAt)} of progress were not written`,
        );
      }
      if (lost.length > 0)
        parts.push(
          `${sessions(lost)} could not be written to ${openPath} at all and ${lost.length === 1 ? 'is' : 'are'} lost`,
        );
      const detail = parts.join('; ');
      out.push({ file: openPath, keptIn: openAt === null ? null : openPath, keptSince: openAt, detail });
    }
    return out;
  }

  /** Writes whatever could not be written before. */
  async flush(): Promise<SaveResult> {
    let result: SaveResult = { saved: true };
    for (const shard of this.shards.values()) {
      if (!shard.dirty) continue;
      const r = await this.persistShard(shard);
      if (!r.saved) result = r;
    }
    if (this.openDirty) {
      const r = await this.persistOpen();
      if (!r.saved) result = r;
    }
    return result;
  }

  private persistShard(shard: Shard): Promise<SaveResult> {
    shard.dirty = true;
    const writing = [...shard.pending.keys()];
    return this.persist(shard.db, shard.file.path, () => {
      shard.dirty = false;
      for (const id of writing) shard.pending.delete(id);
    });
  }

  private async persistOpen(): Promise<SaveResult> {
    this.openDb.data.sessions = [...this.open.values()];
    this.openDirty = true;
    // Sessions closed while the disk failed are still open in the old open.json: keep it that way
    // until their month file has them.
    for (const shard of this.shards.values()) {
      if (!shard.dirty) continue;
      const result = await this.persistShard(shard);
      if (!result.saved) return result;
    }
    const writing = new Set(this.open.keys());
    return this.persist(this.openDb, this.openFile.path, () => {
      this.openDirty = false;
      this.openOnDisk = writing;
      this.openWrittenAt = (this.o.clock ?? systemClock).now();
    });
  }

  private async persist(
    db: Low<SessionsFile> | Low<OpenSessionsFile>,
    file: string,
    written: () => void,
  ): Promise<SaveResult> {
    if (this.readOnly) return { saved: false, error: 'the session store is open read-only' };
    try {
      await db.write();
      written();
      if (this.lastError !== null && !this.openDirty && [...this.shards.values()].every((s) => !s.dirty)) {
        this.log.info('session store writes work again; everything kept in memory is saved');
        this.lastError = null;
        this.o.onWritesRecovered?.();
      }
      return { saved: true };
    } catch (err) {
      const error = err instanceof StoreFileError ? err.message : `could not save sessions: ${String(err)}`;
      if (error !== this.lastError) {
        this.log.error({ err: error }, 'session store write failed; sessions are kept in memory');
        this.o.onProblem?.({
          kind: 'write_failed',
          file,
          reason: error,
          movedTo: null,
          recoveredFrom: null,
          at: (this.o.clock ?? systemClock).now(),
        });
      }
      this.lastError = error;
      return { saved: false, error };
    }
  }
}

/** A file's modification time, or null when it is not there. */
function modifiedAt(path: string): number | null {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return null;
  }
}
