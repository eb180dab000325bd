/**
 * The session store in the data folder: two lowdb files on the durable adapter.
 *  - `sessions.json`: closed sessions, written when a session closes or gets a note.
 *  - `sessions-open.json`: sessions still running, small, written at open and at each sample, so a
 *    crash or restart loses at most the last minute of samples and never counts energy twice.
 * A write that fails keeps everything in memory and is retried at the next change (or flush()).
 */
import { join } from 'node:path';
import { Low } from 'lowdb';
import { type Clock, systemClock } from '../core/clock.js';
import { type Logger, silentLogger } from '../log.js';
import { DurableJsonFile, type FileProblem, StoreFileError } from './durable-adapter.js';
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

export const SESSIONS_FILE = 'sessions.json';
export const OPEN_SESSIONS_FILE = 'sessions-open.json';
export const NOTE_MAX_LENGTH = 500;
export const NOTES_PER_SESSION_MAX = 50;

export type SaveResult = { saved: true } | { saved: false; error: string };

export interface SessionStoreOptions {
  dataDir: string;
  /** Zone of the month index (the configured `timezone`). */
  timeZone: string;
  /** Open for reading only (CLI export): nothing on disk changes, bad files stay where they are. */
  readOnly?: boolean;
  clock?: Clock;
  logger?: Logger;
  /** Called for each corrupt or missing file found while loading (for bridge/event). */
  onProblem?: (problem: FileProblem) => void;
}

export class SessionStore {
  readonly timeZone: string;
  readonly readOnly: boolean;
  /** Incremented on every change, so callers can cache derived totals. */
  version = 0;
  private readonly closedDb: Low<SessionsFile>;
  private readonly openDb: Low<OpenSessionsFile>;
  private readonly closedFile: DurableJsonFile<SessionsFile>;
  private readonly openFile: DurableJsonFile<OpenSessionsFile>;
  private readonly index: SessionIndex;
  private readonly open = new Map<string, SessionRecord>();
  private readonly log: Logger;
  private readonly dirty = { closed: false, open: false };
  private lastError: string | null = null;

  private constructor(options: SessionStoreOptions) {
    this.timeZone = options.timeZone;
    this.readOnly = options.readOnly ?? false;
    this.log = (options.logger ?? silentLogger()).child({ component: 'session-store' });
    const common = {
      clock: options.clock ?? systemClock,
      logger: this.log,
      readOnly: this.readOnly,
      refuse: refuseNewer,
      ...(options.onProblem ? { onProblem: options.onProblem } : {}),
    };
    this.closedFile = new DurableJsonFile({
      ...common,
      path: join(options.dataDir, SESSIONS_FILE),
      schema: sessionsFileSchema,
    });
    this.openFile = new DurableJsonFile({
      ...common,
      path: join(options.dataDir, OPEN_SESSIONS_FILE),
      schema: openSessionsFileSchema,
    });
    this.closedDb = new Low(this.closedFile, {
      format: SESSIONS_FORMAT,
      version: STORE_VERSION,
      sessions: [],
    });
    this.openDb = new Low(this.openFile, {
      format: OPEN_SESSIONS_FORMAT,
      version: STORE_VERSION,
      sessions: [],
    });
    this.index = new SessionIndex(options.timeZone);
  }

  /** Loads both files. Throws StoreFileError only for files it must not touch (unreadable, newer). */
  static async open(options: SessionStoreOptions): Promise<SessionStore> {
    const store = new SessionStore(options);
    await store.load();
    return store;
  }

  private async load(): Promise<void> {
    await this.closedDb.read();
    await this.openDb.read();
    for (const record of this.closedDb.data.sessions) {
      if (this.index.has(record.id)) {
        this.log.warn({ session: record.id }, 'duplicate session in the store; keeping the first');
        continue;
      }
      this.index.add(record);
    }
    for (const record of this.openDb.data.sessions) {
      // Closed already (the daemon stopped between the two writes of complete()): not twice.
      if (this.index.has(record.id)) continue;
      this.open.set(record.id, record);
    }
  }

  /** Corrupt or missing files found while loading. */
  get problems(): FileProblem[] {
    return [...this.closedFile.problems, ...this.openFile.problems].sort((a, b) => a.at - b.at);
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
    return this.persist('open');
  }

  /** Moves a session from open to closed. The closed file is written first: a crash in between leaves a duplicate that load() drops. */
  async complete(record: SessionRecord): Promise<SaveResult> {
    if (record.endedAt === null) throw new Error(`session ${record.id} has no end time`);
    const copy = structuredClone(record);
    this.index.add(copy);
    this.closedDb.data.sessions.push(copy);
    const wasOpen = this.open.delete(record.id);
    this.version++;
    const closed = await this.persist('closed');
    const open = wasOpen ? await this.persist('open') : closed;
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
    return { note, result: await this.persist(closed ? 'closed' : 'open') };
  }

  /** Writes whatever could not be written before. */
  async flush(): Promise<SaveResult> {
    let result: SaveResult = { saved: true };
    for (const which of ['closed', 'open'] as const) {
      if (this.dirty[which]) {
        const r = await this.persist(which);
        if (!r.saved) result = r;
      }
    }
    return result;
  }

  private async persist(which: 'closed' | 'open'): Promise<SaveResult> {
    if (this.readOnly) return { saved: false, error: 'the session store is open read-only' };
    if (which === 'open') this.openDb.data.sessions = [...this.open.values()];
    this.dirty[which] = true;
    try {
      await (which === 'open' ? this.openDb : this.closedDb).write();
      this.dirty[which] = false;
      if (!this.dirty.closed && !this.dirty.open) this.lastError = null;
      return { saved: true };
    } catch (err) {
      const error = err instanceof StoreFileError ? err.message : `could not save sessions: ${String(err)}`;
      if (error !== this.lastError) this.log.error({ err: error }, 'session store write failed');
      this.lastError = error;
      return { saved: false, error };
    }
  }
}
