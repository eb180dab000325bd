/**
 * OCPP transactions from the charger's core state: a transaction opens when energy starts to flow
 * (whoever started it: Home Assistant, the charger itself, a RemoteStart) and closes when the
 * charger's session ends, with the reason that fits. A pause we ordered (charging profile below
 * 6 A) keeps it open. Start/Stop/MeterValues go through the offline queue, in order.
 *
 * Readings right after the BLE link comes back are stale until the next message: nothing is decided
 * on them, so a link drop never splits or ends a transaction.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Charger, ChargerState } from '../../core/charger.js';
import type { Clock, TimerHandle } from '../../core/clock.js';
import { TypedEmitter } from '../../core/emitter.js';
import type { Logger } from '../../log.js';
import { chargerStartedAt } from '../../sessions/session-rules.js';
import { type IdTagInfo, type MeterValue, ocppTimestamp, type StopReason } from '../types.js';
import { nextAlignedReadingAt } from './clock-aligned.js';
import type { ConfigurationKeys } from './config-keys.js';
import {
  energyRegisterWh,
  parseMeasurandList,
  type ReadingContext,
  sampleMeterValue,
} from './meter-values.js';
import type { OfflineQueue } from './offline-queue.js';

/** How long a charge found running waits for the BS20's session details before its transaction starts. */
const SESSION_DETAILS_WAIT_MS = 10_000;

const openTransactionSchema = z.object({
  txRef: z.string(),
  idTag: z.string(),
  startedAt: z.number(),
  meterStartWh: z.number().int(),
  lastMeterWh: z.number().int(),
  remote: z.boolean(),
  /** We paused the energy flow (profile below 6 A, refused idTag): the transaction stays open. */
  paused: z.boolean(),
  /**
   * The central system refused the idTag and StopTransactionOnInvalidId is false: energy stopped,
   * the transaction stays open until the cable is pulled or the backend stops it; nothing resumes it.
   */
  deauthorized: z.boolean().default(false),
  beginSample: z.unknown().nullable(),
});
export type OpenTransaction = z.infer<typeof openTransactionSchema>;

export type TransactionEvents = {
  opened: [tx: OpenTransaction];
  closed: [tx: OpenTransaction, reason: StopReason];
  /** StartTransaction.conf arrived (maybe long after the start). */
  authorized: [tx: OpenTransaction, idTagInfo: IdTagInfo];
  /** Something the connector status depends on changed. */
  changed: [];
};

export interface TransactionTrackerOptions {
  charger: Charger;
  queue: OfflineQueue;
  keys: ConfigurationKeys;
  clock: Clock;
  logger: Logger;
  /** idTag for sessions started without one (Home Assistant, plug and charge). */
  defaultIdTag: string;
  /** The current we offer now (0 while paused), for Current.Offered. */
  offeredCurrentA: () => number | null;
  /** Clock-aligned values outside a transaction are not queued: sent if possible, else lost. */
  sendUnqueued: (meterValue: MeterValue) => void;
  /** IANA zone whose midnight clock-aligned readings count from (the daemon's `timezone`). */
  timeZone: string;
}

export class TransactionTracker {
  readonly events = new TypedEmitter<TransactionEvents>();
  private readonly o: TransactionTrackerOptions;
  private readonly log: Logger;
  private tx: OpenTransaction | null = null;
  /** Restored from disk: decided at the first fresh reading. */
  private restored = false;
  private expected: { idTag: string } | null = null;
  private stopReason: StopReason | null = null;
  private linkDown = true;
  /** updatedAt of the stale state seen when the link came up; readings count once it moves on. */
  private staleMark: number | null = null;
  private sampleTimer: TimerHandle | undefined;
  private alignedTimer: TimerHandle | undefined;
  /** Seen not charging since the link came up: a charge now is a new one, not one we join. */
  private idleSinceLinkUp = false;
  /** A charge seen running without its session details yet (see onState). */
  private runningSeenAt: number | null = null;
  private detailsTimer: TimerHandle | undefined;
  /** When our last transaction ended: a later one is never dated before it. */
  private lastStopAt = Number.NEGATIVE_INFINITY;
  private readonly unsubscribe: Array<() => void> = [];

  constructor(options: TransactionTrackerOptions) {
    this.o = options;
    this.log = options.logger;
  }

  get open(): OpenTransaction | null {
    return this.tx;
  }

  /** The central system's id for the open transaction (null until StartTransaction.conf). */
  get transactionId(): number | null {
    return this.tx ? this.o.queue.transactionIdOf(this.tx.txRef) : null;
  }

  get awaitingStart(): boolean {
    return this.expected !== null;
  }

  start(): void {
    const parsed = openTransactionSchema.safeParse(this.o.queue.openTransaction);
    if (parsed.success) {
      this.tx = parsed.data;
      this.restored = true;
      this.log.info({ txRef: this.tx.txRef }, 'resuming the transaction that was open before the restart');
    }
    const { charger } = this.o;
    this.unsubscribe.push(charger.events.on('state', (next) => this.onState(next)));
    this.restartAlignedTimer();
    if (this.tx) this.restartSampleTimer();
    this.onState(charger.getState());
  }

  stop(): void {
    for (const off of this.unsubscribe.splice(0)) off();
    this.o.clock.clearInterval(this.sampleTimer);
    this.o.clock.clearTimeout(this.alignedTimer);
    this.o.clock.clearTimeout(this.detailsTimer);
  }

  /** A RemoteStart was accepted: the next session carries this idTag. */
  expectStart(idTag: string): void {
    this.expected = { idTag };
    this.events.emit('changed');
  }

  cancelExpectedStart(): void {
    if (!this.expected) return;
    this.expected = null;
    this.events.emit('changed');
  }

  /** The reason for the stop we are about to cause (Remote, Reset, Unlock, DeAuthorized). */
  noteStopReason(reason: StopReason): void {
    this.stopReason = reason;
  }

  setPaused(paused: boolean): void {
    if (!this.tx || this.tx.paused === paused) return;
    this.tx.paused = paused;
    this.o.queue.setOpenTransaction(this.tx);
    this.events.emit('changed');
  }

  /** Ends the open transaction now (a stop while paused: the charger has nothing left to stop). */
  stopNow(reason: StopReason): void {
    this.closeTransaction(this.o.charger.getState(), reason);
  }

  get paused(): boolean {
    return this.tx?.paused ?? false;
  }

  get deauthorized(): boolean {
    return this.tx?.deauthorized ?? false;
  }

  /** The idTag was refused but the transaction must stay open: paused for good. */
  setDeauthorized(): void {
    if (!this.tx || this.tx.deauthorized) return;
    this.tx.deauthorized = true;
    this.tx.paused = true;
    this.o.queue.setOpenTransaction(this.tx);
    this.events.emit('changed');
  }

  /** From the queue: StartTransaction answered (or given up: null). */
  onStartAnswered(txRef: string, response: { idTagInfo: IdTagInfo } | null): void {
    const tx = this.tx;
    if (!tx || tx.txRef !== txRef) return;
    if (!response) {
      this.log.error({ txRef }, 'the central system never took this transaction; it stays local');
      return;
    }
    this.events.emit('authorized', tx, response.idTagInfo);
  }

  /** MeterValueSampleInterval or ClockAlignedDataInterval changed. */
  intervalsChanged(): void {
    if (this.tx) this.restartSampleTimer();
    this.restartAlignedTimer();
  }

  /** TriggerMessage(MeterValues): one sample now, outside the queue order rules. */
  triggeredSample(): { meterValue: MeterValue; transactionId: number | null } {
    const list = this.measurands('MeterValuesSampledData');
    return { meterValue: this.sample(list, 'Trigger'), transactionId: this.transactionId };
  }

  // ---- state ----------------------------------------------------------------------------------

  private onState(next: ChargerState): void {
    if (next.link !== 'online') {
      this.linkDown = true;
      this.idleSinceLinkUp = false;
      return;
    }
    if (this.linkDown) {
      // The state still holds what was read before the link came up.
      this.linkDown = false;
      this.staleMark = next.updatedAt;
      return;
    }
    if (this.staleMark !== null) {
      if (next.updatedAt <= this.staleMark) return;
      this.staleMark = null;
    }
    const running = next.charging || next.status === 'suspended';
    const tx = this.tx;
    if (!tx) {
      if (!running) {
        this.runningSeenAt = null;
        this.idleSinceLinkUp = true;
        return;
      }
      // A charge that began while we watched starts now. One already running when the link came up
      // (daemon or link down when it began) is given a few seconds for the BS20's session details,
      // which come a moment after "charging", so the transaction starts where the charge began.
      const now = this.o.clock.now();
      const joining = !this.idleSinceLinkUp;
      if (
        joining &&
        next.session?.startedAt == null &&
        (this.runningSeenAt ?? now) + SESSION_DETAILS_WAIT_MS > now
      ) {
        if (this.runningSeenAt === null) {
          this.runningSeenAt = now;
          this.o.clock.clearTimeout(this.detailsTimer);
          this.detailsTimer = this.o.clock.setTimeout(
            () => this.onState(this.o.charger.getState()),
            SESSION_DETAILS_WAIT_MS,
          );
        }
        return;
      }
      this.runningSeenAt = null;
      this.o.clock.clearTimeout(this.detailsTimer);
      this.openTransaction(next);
      return;
    }
    const meter = energyRegisterWh(next);
    if (meter !== null && meter > tx.lastMeterWh) tx.lastMeterWh = meter;
    if (this.restored) {
      this.restored = false;
      if (running) {
        if (tx.paused) this.setPaused(false);
        return;
      }
      if (tx.paused && next.plugged) return;
      this.closeTransaction(next, next.plugged ? 'Reboot' : 'EVDisconnected');
      return;
    }
    if (running) return;
    if (tx.paused && next.plugged && next.errors.length === 0) return;
    this.closeTransaction(next, this.stopReason ?? inferReason(next));
  }

  private openTransaction(state: ChargerState): void {
    const meterNowWh = energyRegisterWh(state);
    if (meterNowWh === null) return;
    const now = this.o.clock.now();
    // Joined late (the daemon or the link was down when charging began): the BS20 knows when its
    // session started and how much it has had, so the transaction starts there, not now.
    // Same rule as the session tracker: the charger's start, never before our last stop nor after now.
    const chargerStart = chargerStartedAt(state, this.lastStopAt, now);
    const sessionKwh = state.session?.energyKwh ?? null;
    const lateWh = sessionKwh !== null ? Math.round(sessionKwh * 1000) : 0;
    const late = chargerStart < now && chargerStart > this.lastStopAt && lateWh > 0;
    const startedAt = late ? chargerStart : now;
    const meterStartWh = late ? Math.max(0, meterNowWh - lateWh) : meterNowWh;
    if (late) this.log.info({ startedAt, sessionWh: lateWh }, 'joined a charge already running');
    const idTag = (this.expected?.idTag ?? state.session?.idTag ?? this.o.defaultIdTag).slice(0, 20);
    const stopList = this.measurands('StopTxnSampledData');
    const tx: OpenTransaction = {
      txRef: randomUUID(),
      idTag,
      startedAt,
      meterStartWh,
      lastMeterWh: meterNowWh,
      remote: this.expected !== null,
      paused: false,
      deauthorized: false,
      beginSample: stopList.length > 0 ? this.sample(stopList, 'Transaction.Begin') : null,
    };
    this.expected = null;
    this.stopReason = null;
    this.tx = tx;
    this.log.info({ idTag, meterStartWh, remote: tx.remote }, 'transaction started');
    this.o.queue.enqueue(
      'StartTransaction',
      { connectorId: 1, idTag, meterStart: meterStartWh, timestamp: ocppTimestamp(startedAt) },
      tx.txRef,
      tx,
    );
    this.restartSampleTimer();
    this.events.emit('opened', tx);
    this.events.emit('changed');
  }

  private closeTransaction(state: ChargerState, reason: StopReason): void {
    const tx = this.tx;
    if (!tx) return;
    const now = this.o.clock.now();
    this.lastStopAt = now;
    const meterStop = Math.max(tx.meterStartWh, energyRegisterWh(state) ?? tx.lastMeterWh);
    const payload: Record<string, unknown> = { meterStop, timestamp: ocppTimestamp(now), reason };
    const stopList = this.measurands('StopTxnSampledData');
    if (stopList.length > 0) {
      const end = this.sample(stopList, 'Transaction.End');
      payload.transactionData = tx.beginSample ? [tx.beginSample, end] : [end];
    }
    this.tx = null;
    this.stopReason = null;
    this.o.clock.clearInterval(this.sampleTimer);
    this.sampleTimer = undefined;
    this.log.info({ reason, meterStop, energyWh: meterStop - tx.meterStartWh }, 'transaction stopped');
    this.o.queue.enqueue('StopTransaction', payload, tx.txRef, null);
    this.events.emit('closed', tx, reason);
    this.events.emit('changed');
  }

  // ---- meter values ---------------------------------------------------------------------------

  private restartSampleTimer(): void {
    this.o.clock.clearInterval(this.sampleTimer);
    this.sampleTimer = undefined;
    const intervalS = this.o.keys.getInt('MeterValueSampleInterval');
    if (intervalS <= 0) return;
    this.sampleTimer = this.o.clock.setInterval(() => this.periodicSample(), intervalS * 1000);
  }

  private periodicSample(): void {
    const tx = this.tx;
    const list = this.measurands('MeterValuesSampledData');
    if (!tx || list.length === 0 || this.o.charger.getState().link !== 'online') return;
    const meterValue = this.sample(list, 'Sample.Periodic');
    this.o.queue.enqueue('MeterValues', { connectorId: 1, meterValue: [meterValue] }, tx.txRef);
  }

  private restartAlignedTimer(): void {
    this.o.clock.clearTimeout(this.alignedTimer);
    this.alignedTimer = undefined;
    const intervalS = this.o.keys.getInt('ClockAlignedDataInterval');
    if (intervalS <= 0) return;
    const now = this.o.clock.now();
    const delay = nextAlignedReadingAt(now, intervalS, this.o.timeZone) - now;
    this.alignedTimer = this.o.clock.setTimeout(() => {
      this.alignedSample();
      this.restartAlignedTimer();
    }, delay);
  }

  private alignedSample(): void {
    const list = this.measurands('MeterValuesAlignedData');
    if (list.length === 0 || this.o.charger.getState().link !== 'online') return;
    const meterValue = this.sample(list, 'Sample.Clock');
    const tx = this.tx;
    if (tx) this.o.queue.enqueue('MeterValues', { connectorId: 1, meterValue: [meterValue] }, tx.txRef);
    else this.o.sendUnqueued(meterValue);
  }

  private measurands(key: string) {
    const parsed = parseMeasurandList(this.o.keys.get(key));
    return parsed.ok ? parsed.measurands : [];
  }

  private sample(list: ReturnType<TransactionTracker['measurands']>, context: ReadingContext): MeterValue {
    const info = this.o.charger.getInfo();
    return sampleMeterValue(
      { state: this.o.charger.getState(), offeredCurrentA: this.o.offeredCurrentA(), phases: info.phases },
      list,
      context,
      this.o.clock.now(),
    );
  }
}

/** Why the charger's session ended, when we did not cause it. */
function inferReason(state: ChargerState): StopReason {
  if (!state.plugged) return 'EVDisconnected';
  if (state.errors.includes('emergency_stop')) return 'EmergencyStop';
  if (state.errors.length > 0 || state.status === 'error') return 'Other';
  return 'Local';
}
