/**
 * The central system's transaction ledger (ocpp.md §3 item 4): transaction ids are strictly
 * increasing and never reused across restarts (the id is on disk before the charger hears it), a
 * replayed StartTransaction gets the id it got the first time, and every StopTransaction is
 * answered — also for ids we never issued.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { Clock } from '../../core/clock.js';
import { moveAside, writeFileDurably } from '../../core/durable-file.js';
import type { Logger } from '../../log.js';

export interface TransactionRecord {
  id: number;
  /** chargebridge station id (config `id`). */
  stationId: string;
  connectorId: number;
  idTag: string;
  meterStartWh: number;
  /** The charger's timestamp text as sent (replays are recognised by it). */
  startTimestamp: string;
  startedAt: number;
  stoppedAt: number | null;
  meterStopWh: number | null;
  stopReason: string | null;
}

export interface StartInput {
  stationId: string;
  connectorId: number;
  idTag: string;
  meterStartWh: number;
  startTimestamp: string;
  startedAt: number;
}

export interface StopInput {
  meterStopWh: number;
  stoppedAt: number;
  reason: string | null;
}

export interface StartResult {
  record: TransactionRecord;
  /** The same StartTransaction was seen before (offline replay): same id, nothing changed. */
  replay: boolean;
  /** A transaction left open on this connector, closed because a new one began. */
  superseded: TransactionRecord | null;
}

const FORMAT = 'chargebridge-ocpp-transactions';
/** Closed transactions kept for replay detection. */
const KEEP_CLOSED = 500;
/** Ids stay inside a signed 32-bit integer: many chargers store them that way. */
const MAX_ID = 2_147_483_647;
/** Seed after a lost ledger: seconds since 2020, always above anything issued before (one a second). */
const SEED_EPOCH_MS = Date.UTC(2020, 0, 1);

const recordSchema = z.object({
  id: z.number().int().positive(),
  stationId: z.string(),
  connectorId: z.number().int().nonnegative(),
  idTag: z.string(),
  meterStartWh: z.number(),
  startTimestamp: z.string(),
  startedAt: z.number(),
  stoppedAt: z.number().nullable(),
  meterStopWh: z.number().nullable(),
  stopReason: z.string().nullable(),
});

const fileSchema = z.object({
  format: z.literal(FORMAT),
  version: z.literal(1),
  nextId: z.number().int().positive(),
  transactions: z.array(recordSchema),
});

export interface TransactionLedgerOptions {
  /** null keeps everything in memory (tests, benchmarks). */
  path: string | null;
  clock: Clock;
  logger: Logger;
}

export class TransactionLedger {
  private readonly o: TransactionLedgerOptions;
  private nextId = 1;
  private readonly byId = new Map<number, TransactionRecord>();
  private writing: Promise<void> = Promise.resolve();

  private constructor(options: TransactionLedgerOptions) {
    this.o = options;
  }

  /** Loads the ledger; a missing file starts at 1, an unreadable one is moved aside and ids jump ahead. */
  static async open(options: TransactionLedgerOptions): Promise<TransactionLedger> {
    const ledger = new TransactionLedger(options);
    if (options.path) await ledger.load(options.path);
    return ledger;
  }

  get(id: number): TransactionRecord | null {
    return this.byId.get(id) ?? null;
  }

  /** The open transaction on a connector, if any. */
  openOn(stationId: string, connectorId: number): TransactionRecord | null {
    let found: TransactionRecord | null = null;
    for (const r of this.byId.values()) {
      if (r.stoppedAt === null && r.stationId === stationId && r.connectorId === connectorId) {
        if (!found || r.id > found.id) found = r;
      }
    }
    return found;
  }

  async start(input: StartInput): Promise<StartResult> {
    for (const r of this.byId.values()) {
      if (
        r.stationId === input.stationId &&
        r.connectorId === input.connectorId &&
        r.idTag.toUpperCase() === input.idTag.toUpperCase() &&
        r.meterStartWh === input.meterStartWh &&
        r.startTimestamp === input.startTimestamp
      ) {
        return { record: { ...r }, replay: true, superseded: null };
      }
    }
    const previous = this.openOn(input.stationId, input.connectorId);
    let superseded: TransactionRecord | null = null;
    if (previous) {
      // The charger never told us this one ended; a new one on the connector means it did.
      previous.stoppedAt = Math.max(previous.startedAt, input.startedAt);
      previous.meterStopWh = Math.max(previous.meterStartWh, input.meterStartWh);
      previous.stopReason = 'Superseded';
      superseded = { ...previous };
    }
    if (this.nextId > MAX_ID) this.nextId = 1;
    const record: TransactionRecord = {
      id: this.nextId++,
      ...input,
      stoppedAt: null,
      meterStopWh: null,
      stopReason: null,
    };
    this.byId.set(record.id, record);
    try {
      await this.save();
    } catch (err) {
      // Not on disk, so not issued: the charger gets an error and retries (the id stays burnt).
      this.byId.delete(record.id);
      throw err;
    }
    return { record: { ...record }, replay: false, superseded };
  }

  /** Closes a transaction; null when the id is unknown. A second stop changes nothing. */
  async stop(id: number, input: StopInput): Promise<TransactionRecord | null> {
    const record = this.byId.get(id);
    if (!record) return null;
    if (record.stoppedAt !== null) return { ...record };
    record.stoppedAt = input.stoppedAt;
    record.meterStopWh = input.meterStopWh;
    record.stopReason = input.reason;
    await this.save();
    return { ...record };
  }

  /** Waits for pending writes (shutdown, tests). */
  async flush(): Promise<void> {
    await this.writing;
  }

  private async load(path: string): Promise<void> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    let parsed: z.infer<typeof fileSchema> | null = null;
    try {
      const result = fileSchema.safeParse(JSON.parse(text));
      if (result.success) parsed = result.data;
    } catch {
      parsed = null;
    }
    if (!parsed) {
      const now = this.o.clock.now();
      const aside = await moveAside(path, now);
      this.nextId = Math.max(1, Math.floor((now - SEED_EPOCH_MS) / 1000));
      this.o.logger.error(
        { file: path, movedTo: aside, nextTransactionId: this.nextId },
        'OCPP transaction ledger is unreadable; moved it aside, new transaction ids start above any issued before',
      );
      return;
    }
    for (const r of parsed.transactions) this.byId.set(r.id, r);
    const highest = Math.max(0, ...this.byId.keys());
    this.nextId = Math.max(parsed.nextId, highest + 1);
  }

  private save(): Promise<void> {
    const path = this.o.path;
    if (!path) return Promise.resolve();
    this.prune();
    const body = JSON.stringify({
      format: FORMAT,
      version: 1,
      nextId: this.nextId,
      transactions: [...this.byId.values()],
    });
    // One write at a time, in order; a failure is reported to the caller (the charger gets an error and retries).
    const job = this.writing.catch(() => undefined).then(() => writeFileDurably(path, body));
    this.writing = job.catch(() => undefined);
    return job;
  }

  private prune(): void {
    const closed = [...this.byId.values()].filter((r) => r.stoppedAt !== null).sort((a, b) => a.id - b.id);
    for (const r of closed.slice(0, Math.max(0, closed.length - KEEP_CLOSED))) this.byId.delete(r.id);
  }
}
