/**
 * The persistent, ordered queue of transaction messages (ocpp.md §2.9): StartTransaction,
 * StopTransaction and transaction MeterValues, delivered one at a time, oldest first, only while
 * the central system is reachable and has accepted us.
 *
 * - The central system assigns transaction ids, so queued messages name their transaction by a
 *   local reference; the real id is filled in at send time, once StartTransaction.conf gave it.
 * - No answer (timeout, lost socket) is not a failure: the entry stays at the head and goes again
 *   after the reconnect. A CALLERROR is: retried after interval × attempt, dropped after
 *   TransactionMessageAttempts.
 * - The whole journal (queue, id map, open transaction) is one durable JSON file written
 *   atomically, so a crash never leaves a StopTransaction queued for a transaction still "open".
 *   It is written before enqueue() returns, so nothing leaves the machine that is not on disk: a
 *   crash can make us send a message again, never lose one or start a transaction twice.
 */
import { z } from 'zod';
import type { Clock, TimerHandle } from '../../core/clock.js';
import type { Logger } from '../../log.js';
import type { DurableJsonFile } from '../../sessions/durable-adapter.js';
import type { ResponseOf } from '../types.js';
import type { CallOutcome } from './connection.js';

const UNREACHABLE_RETRY_MS = 5_000;

export const QUEUED_ACTIONS = ['StartTransaction', 'StopTransaction', 'MeterValues'] as const;
export type QueuedAction = (typeof QUEUED_ACTIONS)[number];

const entrySchema = z.object({
  seq: z.number().int(),
  action: z.enum(QUEUED_ACTIONS),
  /** The request without `transactionId` (added at send time from `txRef`). */
  payload: z.record(z.string(), z.unknown()),
  txRef: z.string(),
  attempts: z.number().int().min(0),
  queuedAt: z.number(),
});
export type QueueEntry = z.infer<typeof entrySchema>;

export const journalSchema = z.object({
  version: z.literal(1),
  nextSeq: z.number().int(),
  entries: z.array(entrySchema),
  /** txRef → transactionId from StartTransaction.conf. */
  transactionIds: z.record(z.string(), z.number().int()),
  /** The transaction in progress, owned by the transaction tracker (it checks the shape). */
  openTransaction: z.unknown().nullable(),
});
export type Journal = z.infer<typeof journalSchema>;

export interface QueueSender {
  /** Socket open and boot Accepted. */
  ready(): boolean;
  send(action: QueuedAction, payload: Record<string, unknown>): Promise<CallOutcome<QueuedAction>>;
}

export interface OfflineQueueOptions {
  file: DurableJsonFile<Journal>;
  sender: QueueSender;
  clock: Clock;
  logger: Logger;
  /** TransactionMessageAttempts / TransactionMessageRetryInterval, read at each failure. */
  retryPolicy: () => { attempts: number; intervalS: number };
  /** StartTransaction answered (response) or given up (null). */
  onStartAnswered: (txRef: string, response: ResponseOf<'StartTransaction'> | null) => void;
  /** Keep at most this many entries; beyond it the oldest periodic MeterValues go first. */
  maxEntries?: number;
}

export class OfflineQueue {
  private readonly o: OfflineQueueOptions;
  private readonly log: Logger;
  private journal: Journal = emptyJournal();
  private pumping = false;
  private kickAgain = false;
  private retryAt = 0;
  private retryTimer: TimerHandle | undefined;
  private closed = false;

  constructor(options: OfflineQueueOptions) {
    this.o = options;
    this.log = options.logger;
  }

  /** Reads the journal from disk (a bad file is moved aside by the durable adapter). */
  async load(): Promise<void> {
    this.journal = (await this.o.file.read()) ?? emptyJournal();
  }

  get size(): number {
    return this.journal.entries.length;
  }

  /** A copy of the queued entries, oldest first (diagnostics, tests). */
  entries(): QueueEntry[] {
    return structuredClone(this.journal.entries);
  }

  get openTransaction(): unknown {
    return this.journal.openTransaction;
  }

  transactionIdOf(txRef: string): number | null {
    return this.journal.transactionIds[txRef] ?? null;
  }

  /** Appends a message and records the open transaction in the same write. */
  enqueue(
    action: QueuedAction,
    payload: Record<string, unknown>,
    txRef: string,
    openTransaction?: unknown,
  ): void {
    const { journal } = this;
    journal.entries.push({
      seq: journal.nextSeq++,
      action,
      payload,
      txRef,
      attempts: 0,
      queuedAt: this.o.clock.now(),
    });
    if (openTransaction !== undefined) journal.openTransaction = openTransaction;
    this.trim();
    this.save();
    this.kick();
  }

  setOpenTransaction(openTransaction: unknown): void {
    this.journal.openTransaction = openTransaction;
    this.save();
  }

  /** Try to send now (after a reconnect, or after enqueue). */
  kick(): void {
    if (this.closed) return;
    if (this.pumping) {
      this.kickAgain = true;
      return;
    }
    void this.pump();
  }

  /** Every change is on disk when the call that made it returns; kept for callers that wait. */
  async flush(): Promise<void> {}

  async close(): Promise<void> {
    this.closed = true;
    this.o.clock.clearTimeout(this.retryTimer);
  }

  // ---- sending --------------------------------------------------------------------------------

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      do {
        this.kickAgain = false;
        await this.drain();
      } while (this.kickAgain && !this.closed);
    } finally {
      this.pumping = false;
    }
  }

  private async drain(): Promise<void> {
    while (!this.closed && this.o.sender.ready()) {
      const entry = this.journal.entries[0];
      if (!entry) return;
      const now = this.o.clock.now();
      if (now < this.retryAt) {
        this.scheduleRetry(this.retryAt - now);
        return;
      }
      const payload = this.resolve(entry);
      if (!payload) {
        this.log.error(
          { action: entry.action, txRef: entry.txRef },
          'dropping a message of a transaction without id',
        );
        this.remove(entry);
        continue;
      }
      const outcome = await this.o.sender.send(entry.action, payload);
      if (this.journal.entries[0] !== entry) continue;
      if (outcome.ok) {
        this.delivered(entry, outcome.response);
        continue;
      }
      if (outcome.kind === 'unreachable') {
        // Normally the socket is gone now and the next `ready` kicks us; if it still looks ready,
        // back off instead of spinning.
        if (this.o.sender.ready()) {
          this.kickAgain = false;
          this.scheduleRetry(UNREACHABLE_RETRY_MS);
        }
        return;
      }
      if (outcome.kind === 'bug') {
        this.log.error(
          { action: entry.action, problem: outcome.message },
          'dropping a message we built wrong',
        );
        this.giveUp(entry);
        continue;
      }
      this.failed(entry, `${outcome.code}: ${outcome.message}`);
      if (this.journal.entries[0] === entry) return;
    }
  }

  private resolve(entry: QueueEntry): Record<string, unknown> | null {
    if (entry.action === 'StartTransaction') return entry.payload;
    const transactionId = this.journal.transactionIds[entry.txRef];
    if (transactionId === undefined) return null;
    return { ...entry.payload, transactionId };
  }

  private delivered(entry: QueueEntry, response: unknown): void {
    if (entry.action === 'StartTransaction') {
      const conf = response as Partial<ResponseOf<'StartTransaction'>> | undefined;
      if (typeof conf?.transactionId !== 'number' || !Number.isInteger(conf.transactionId)) {
        this.failed(entry, 'StartTransaction.conf without a transactionId');
        return;
      }
      this.journal.transactionIds[entry.txRef] = conf.transactionId;
      this.remove(entry);
      this.o.onStartAnswered(entry.txRef, conf as ResponseOf<'StartTransaction'>);
      return;
    }
    this.remove(entry);
    if (entry.action === 'StopTransaction') this.forget(entry.txRef);
  }

  private failed(entry: QueueEntry, problem: string): void {
    entry.attempts++;
    const policy = this.o.retryPolicy();
    if (entry.attempts >= policy.attempts) {
      this.log.error(
        { action: entry.action, attempts: entry.attempts, problem },
        'central system keeps refusing; dropping',
      );
      this.giveUp(entry);
      return;
    }
    const delayMs = policy.intervalS * 1000 * entry.attempts;
    this.log.warn(
      { action: entry.action, attempts: entry.attempts, retryInS: delayMs / 1000, problem },
      'retrying later',
    );
    this.retryAt = this.o.clock.now() + delayMs;
    this.save();
    this.scheduleRetry(delayMs);
  }

  /** Drops `entry`; a StartTransaction given up takes the rest of its transaction with it. */
  private giveUp(entry: QueueEntry): void {
    this.remove(entry);
    if (entry.action === 'StartTransaction') {
      this.journal.entries = this.journal.entries.filter((e) => e.txRef !== entry.txRef);
      this.save();
      this.o.onStartAnswered(entry.txRef, null);
    } else if (entry.action === 'StopTransaction') this.forget(entry.txRef);
  }

  private remove(entry: QueueEntry): void {
    this.journal.entries = this.journal.entries.filter((e) => e !== entry);
    this.retryAt = 0;
    this.save();
  }

  private forget(txRef: string): void {
    if (this.journal.entries.some((e) => e.txRef === txRef)) return;
    delete this.journal.transactionIds[txRef];
    this.save();
  }

  private scheduleRetry(delayMs: number): void {
    this.o.clock.clearTimeout(this.retryTimer);
    this.retryTimer = this.o.clock.setTimeout(() => {
      this.retryTimer = undefined;
      this.kick();
    }, delayMs);
  }

  private trim(): void {
    const max = this.o.maxEntries ?? 10_000;
    const entries = this.journal.entries;
    while (entries.length > max) {
      const index = entries.findIndex((e, i) => i > 0 && e.action === 'MeterValues');
      if (index < 0) break;
      entries.splice(index, 1);
      this.log.warn('offline queue full: dropped the oldest meter values');
    }
  }

  /** Synchronous: the entry is on disk before the pump can hand it to the socket. */
  private save(): void {
    try {
      this.o.file.writeSync(this.journal);
    } catch (err) {
      // Kept in memory and written again with the next change; the daemon goes on charging.
      this.log.error({ err: err instanceof Error ? err.message : String(err) }, 'cannot save the OCPP queue');
    }
  }
}

function emptyJournal(): Journal {
  return { version: 1, nextSeq: 1, entries: [], transactionIds: {}, openTransaction: null };
}
