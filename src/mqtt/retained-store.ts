/**
 * Keeps the embedded broker's retained messages on disk so discovery configs and last states survive
 * a restart, without rewriting all of them on every change (28 MB at 1,000 OCPP stations): a
 * snapshot file (`mqtt-retained.json`) plus an append-only journal of changes
 * (`mqtt-retained.journal`); formats in retained-format.ts.
 *
 * - Changes are coalesced for `batchMs` (1 s): one append per batch, one line per changed topic.
 * - The journal is fsynced at most once every `syncEveryMs` (60 s) and at a clean stop.
 * - When the journal outgrows max(1 MiB, 2 × the live data) it is compacted: a new snapshot written
 *   durably (temp + fsync + rename), then a new, empty journal (same way). A snapshot and journal
 *   share a generation number, so a journal left over from an interrupted compaction is ignored.
 * - A version 1 file (the whole-file format before the journal) is read and migrated at start.
 *
 * What can be lost:
 * - SIGKILL or a crash of the daemon: the changes of the last ~1 s (the batch not appended yet).
 *   Appended lines are in the kernel's page cache and survive the process. A line cut short by the
 *   kill is ignored with a warning at the next start. During a compaction, changes wait until it
 *   ends, so a kill then also loses those made while it ran (the time to write and fsync one
 *   snapshot: well under a second for a few MB, longer for tens of MB on an SD card).
 * - Power loss or a kernel crash: the changes of the last ~61 s at most (since the last fsync, which
 *   happens at most once every 60 s, plus the batch being coalesced).
 * - A clean stop loses nothing (the batch is appended and fsynced).
 *
 * A file that cannot be read is moved aside as `<file>.corrupt-<time>`, never deleted, and what
 * could be read of it is kept.
 */
import { type FileHandle, open, readFile, stat } from 'node:fs/promises';
import { type Clock, systemClock, type TimerHandle } from '../core/clock.js';
import { moveAside, writeFileDurably } from '../core/durable-file.js';
import { LogThrottle } from '../core/log-throttle.js';
import { describeAge, type UnsavedFile } from '../core/unsaved-data.js';
import type { Logger } from '../log.js';
import {
  type JournalEntry,
  journalEntryLine,
  journalHeaderLine,
  parseJournal,
  parseSnapshot,
  type RetainedMessage,
  serializeSnapshot,
} from './retained-format.js';

export type { QoS, RetainedMessage } from './retained-format.js';

export interface RetainedStoreOptions {
  /** The snapshot, `<data_dir>/mqtt-retained.json`; the journal goes next to it. */
  path: string;
  logger: Logger;
  clock?: Clock;
  /** How long changes are coalesced before one append. */
  batchMs?: number;
  /** Least time between two fsyncs of the journal. */
  syncEveryMs?: number;
  /** The journal is compacted once over max(this, 2 × the live data). */
  compactMinBytes?: number;
}

const SETTING = 'mqtt.embedded_broker.persist_retained';

export class RetainedStore {
  readonly path: string;
  readonly journalPath: string;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly batchMs: number;
  private readonly syncEveryMs: number;
  private readonly compactMinBytes: number;
  private readonly failures: LogThrottle;
  private readonly messages = new Map<string, RetainedMessage>();
  /** Changed since the last append, by topic (a later change replaces an earlier one). */
  private readonly pending = new Map<string, JournalEntry>();
  /** Roughly the size of a snapshot of `messages`. */
  private liveBytes = 0;
  private journalBytes = 0;
  private generation = 0;
  private journal: FileHandle | undefined;
  private unsynced = false;
  /** A write failed (or a file was damaged): only a full snapshot brings the disk up to date. */
  private mustCompact = false;
  private batchTimer: TimerHandle | undefined;
  private syncTimer: TimerHandle | undefined;
  /** File work runs one task at a time, in order. */
  private queue: Promise<void> = Promise.resolve();
  private closed = false;
  /** When a batch or snapshot last reached the disk (null: not in this process). */
  private writtenAt: number | null = null;

  constructor(options: RetainedStoreOptions) {
    this.path = options.path;
    this.journalPath = `${options.path.replace(/\.json$/, '')}.journal`;
    this.logger = options.logger;
    this.clock = options.clock ?? systemClock;
    this.batchMs = options.batchMs ?? 1_000;
    this.syncEveryMs = options.syncEveryMs ?? 60_000;
    this.compactMinBytes = options.compactMinBytes ?? 1024 * 1024;
    this.failures = new LogThrottle(this.clock);
  }

  /** Read snapshot and journal. Missing → empty; damaged → moved aside, what could be read kept. */
  async load(): Promise<RetainedMessage[]> {
    this.messages.clear();
    const snapshotText = await this.read(this.path, 'retained message file');
    const journalText = await this.read(this.journalPath, 'retained message journal');
    let compactNow = false;
    let snapshotGeneration: number | undefined = 0;
    let legacy = false;

    if (snapshotText !== undefined) {
      const snapshot = parseSnapshot(snapshotText);
      for (const m of snapshot.messages) this.messages.set(m.topic, m);
      snapshotGeneration = snapshot.generation;
      if (snapshot.problem !== undefined) {
        const aside = await moveAside(this.path, this.clock.now());
        this.logger.error(
          { file: this.path, movedTo: aside, reason: snapshot.problem, kept: snapshot.messages.length },
          'retained message file is unreadable; moved it aside and kept the messages it could read',
        );
        compactNow = true;
      } else if (snapshot.generation === undefined) {
        legacy = true;
        compactNow = true;
        this.logger.info({ file: this.path }, 'converting the retained message file to snapshot + journal');
      }
    }

    // An empty journal is one whose header never made it to disk: nothing in it.
    if (journalText !== undefined && journalText !== '') {
      const journal = parseJournal(journalText);
      const stale =
        legacy ||
        (snapshotGeneration !== undefined &&
          journal.generation !== undefined &&
          journal.generation < snapshotGeneration);
      if (stale) {
        // Left by a compaction cut short (its changes are in the newer snapshot), or older than a
        // version 1 file written since: replaying it would bring back old values.
        this.logger.info(
          { file: this.journalPath },
          'ignoring a retained message journal older than the file',
        );
        compactNow = true;
      } else {
        for (const entry of journal.entries) this.apply(entry);
        if (journal.generation !== undefined && journal.generation > (snapshotGeneration ?? 0)) {
          this.logger.warn(
            { file: this.journalPath, snapshot: this.path },
            'retained message journal is newer than the file; replayed it on what the file has',
          );
        }
      }
      if (journal.tornTail) {
        this.logger.warn(
          { file: this.journalPath },
          'the last line of the retained message journal was cut short (the daemon was stopped while writing it); ignored it',
        );
        compactNow = true;
      }
      if (journal.problem !== undefined) {
        const aside = await moveAside(this.journalPath, this.clock.now());
        this.logger.error(
          { file: this.journalPath, movedTo: aside, reason: journal.problem, kept: journal.entries.length },
          'retained message journal is damaged; moved it aside and kept the changes it could read',
        );
        compactNow = true;
      }
      this.generation = Math.max(snapshotGeneration ?? 0, journal.generation ?? 0);
      this.journalBytes = Buffer.byteLength(journalText);
    } else {
      this.generation = snapshotGeneration ?? 0;
    }

    this.liveBytes = 0;
    for (const m of this.messages.values()) this.liveBytes += estimate(m);
    if (compactNow) {
      this.mustCompact = true;
      await this.enqueue(() => this.compact());
    }
    return [...this.messages.values()];
  }

  /** Record a retained publish; an empty payload clears the topic, as in MQTT. */
  set(message: RetainedMessage): void {
    if (this.closed) return;
    const old = this.messages.get(message.topic);
    if (message.payload.length === 0) {
      if (!old) return;
      this.messages.delete(message.topic);
      this.liveBytes -= estimate(old);
      this.pending.set(message.topic, { topic: message.topic, deleted: true });
    } else {
      if (old && old.qos === message.qos && old.payload.equals(message.payload)) return;
      const copy = { ...message, payload: Buffer.from(message.payload) };
      this.messages.set(message.topic, copy);
      this.liveBytes += estimate(copy) - (old ? estimate(old) : 0);
      this.pending.set(message.topic, copy);
    }
    this.scheduleBatch(this.batchMs);
  }

  size(): number {
    return this.messages.size;
  }

  /** Append what is pending and fsync now. Never throws: failures are logged and retried. */
  async flush(): Promise<void> {
    this.clock.clearTimeout(this.batchTimer);
    this.batchTimer = undefined;
    await this.enqueue(async () => {
      await this.appendPending();
      await this.sync();
    });
  }

  /** Resolves once the file work started so far is done (tests wait on it instead of sleeping). */
  idle(): Promise<void> {
    return this.queue;
  }

  /** Flush and release the journal; later changes are ignored. */
  async close(): Promise<void> {
    if (this.closed) return this.queue;
    await this.flush();
    this.closed = true;
    this.clock.clearTimeout(this.syncTimer);
    this.syncTimer = undefined;
    // A failed flush schedules a retry; after a stop nobody is left to do it.
    this.clock.clearTimeout(this.batchTimer);
    this.batchTimer = undefined;
    await this.enqueue(() => this.closeJournal());
  }

  /**
   * After close(): the changes that did not reach the disk, if any. The files keep the messages as
   * of the last good write; the daemon publishes its own again at the next start.
   */
  unsaved(): UnsavedFile[] {
    if (!this.closed || (!this.mustCompact && !this.unsynced)) return [];
    const since = this.writtenAt;
    const age = since === null ? '' : ` (the last ${describeAge(this.clock.now() - since)})`;
    return [
      {
        file: this.path,
        keptIn: this.path,
        keptSince: since,
        detail: `retained messages changed ${since === null ? 'since the start' : `since ${new Date(since).toISOString()}`}${age} are not in ${this.path} and ${this.journalPath}; chargebridge publishes its own discovery and states again at the next start, retained messages other clients sent since then are lost`,
      },
    ];
  }

  private apply(entry: JournalEntry): void {
    if ('deleted' in entry) this.messages.delete(entry.topic);
    else this.messages.set(entry.topic, entry);
  }

  private scheduleBatch(ms: number): void {
    if (this.batchTimer || this.closed) return;
    this.batchTimer = this.clock.setTimeout(() => {
      this.batchTimer = undefined;
      void this.enqueue(() => this.appendPending());
    }, ms);
  }

  private enqueue(task: () => Promise<void>): Promise<void> {
    this.queue = this.queue.then(task).catch((err: unknown) => this.failed('retained message store', err));
    return this.queue;
  }

  private async appendPending(): Promise<void> {
    // A compaction starts after the batch is appended (while the journal is sound), so a kill
    // during it loses only what changes while it runs.
    if (!this.mustCompact && this.pending.size > 0) {
      let text = '';
      for (const entry of this.pending.values()) text += journalEntryLine(entry);
      this.pending.clear();
      try {
        const journal = await this.openJournal();
        await journal.write(text);
        this.writtenAt = this.clock.now();
        this.journalBytes += Buffer.byteLength(text);
        this.markUnsynced();
      } catch (err) {
        // These changes are still in memory: the next snapshot carries them. No more appends until
        // then, so nothing lands after a half-written line.
        this.failed(this.journalPath, err);
        this.mustCompact = true;
        this.scheduleBatch(this.syncEveryMs);
        return;
      }
    }
    if (this.mustCompact || this.journalBytes > Math.max(this.compactMinBytes, 2 * this.liveBytes)) {
      await this.compact();
    }
  }

  private async compact(): Promise<void> {
    const generation = this.generation + 1;
    // Taken in one synchronous step: changes made from here on go to the new journal.
    const body = serializeSnapshot(generation, this.messages.values());
    this.pending.clear();
    try {
      await this.closeJournal();
      await writeFileDurably(this.path, body);
      this.generation = generation;
      const header = journalHeaderLine(generation);
      await writeFileDurably(this.journalPath, header);
      this.journalBytes = Buffer.byteLength(header);
      this.mustCompact = false;
      this.writtenAt = this.clock.now();
      this.unsynced = false;
      this.clock.clearTimeout(this.syncTimer);
      this.syncTimer = undefined;
    } catch (err) {
      this.failed(this.path, err);
      this.mustCompact = true;
      this.scheduleBatch(this.syncEveryMs);
    }
  }

  private async openJournal(): Promise<FileHandle> {
    if (this.journal) return this.journal;
    const existing = await stat(this.journalPath).catch(() => undefined);
    // A new journal starts with its header, written durably so the file itself survives power loss.
    if (!existing || existing.size === 0) {
      const header = journalHeaderLine(this.generation);
      await writeFileDurably(this.journalPath, header);
      this.journalBytes = Buffer.byteLength(header);
    }
    this.journal = await open(this.journalPath, 'a', 0o600);
    return this.journal;
  }

  private async closeJournal(): Promise<void> {
    const journal = this.journal;
    this.journal = undefined;
    await journal?.close();
  }

  private markUnsynced(): void {
    this.unsynced = true;
    if (this.syncTimer) return;
    this.syncTimer = this.clock.setTimeout(() => {
      this.syncTimer = undefined;
      void this.enqueue(() => this.sync());
    }, this.syncEveryMs);
  }

  private async sync(): Promise<void> {
    if (!this.unsynced || !this.journal) return;
    this.unsynced = false;
    try {
      await this.journal.sync();
    } catch (err) {
      this.unsynced = true;
      this.failed(this.journalPath, err);
    }
  }

  private async read(path: string, what: string): Promise<string | undefined> {
    try {
      return await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      // Node's message (e.g. EISDIR) does not say which file: the user needs the path to fix it.
      throw new Error(`cannot read the ${what} ${path}: ${(err as Error).message} (${SETTING})`, {
        cause: err,
      });
    }
  }

  /** A disk that keeps failing logs once a minute, with a count. */
  private failed(file: string, err: unknown): void {
    const count = this.failures.take(file);
    if (count !== null) this.logger.error({ file, err, count }, 'could not write retained messages');
  }
}

/** About what a message takes in the snapshot: base64 payload, topic, JSON around them. */
function estimate(m: RetainedMessage): number {
  return Buffer.byteLength(m.topic, 'utf8') + Math.ceil(m.payload.length / 3) * 4 + 48;
}
