/**
 * Follows one charger's sessions from its core state, whatever kind of charger it is.
 *
 * Opens when energy starts flowing (or a car is plugged in and a charger-side session is authorised
 * but suspended); samples the lifetime register while open; closes when the charger says charging
 * ended (unplugged, finished, stopped, error) or reports a different session. A lost link changes
 * nothing: while the link is down the state is stale, so a BLE drop mid-charge never splits a session.
 * Energy is always meterStop − meterStart of the lifetime register, never a sum of power readings.
 */
import type { Charger, ChargerEvent, ChargerState } from '../core/charger.js';
import type { Clock, TimerHandle } from '../core/clock.js';
import { dayKey } from '../core/zoned-time.js';
import type { Logger } from '../log.js';
import {
  type ChargeRecordView,
  chargeRecordOf,
  endBeforeNext,
  endFromRecord,
  endFromRegister,
  RECORD_WAIT_MS,
  recordAfter,
  recordMatches,
  type SessionEnd,
  type SessionView,
} from './charge-record.js';
import { type SessionRecord, sessionIdFor } from './record.js';
import { RunningSession } from './running-session.js';
import type { SampleKeeperOptions } from './samples.js';
import {
  chargerStartedAt,
  closeReason,
  handoverMeterKwh,
  isRunning,
  pauseKind,
  shouldOpen,
  stopReasonFromCharger,
} from './session-rules.js';
import type { SessionStore } from './store.js';
import { type MeterSample, type Tariff, windowNameAt } from './tariff.js';
import type { UserDirectory } from './users.js';

export interface ChargerSessionsOptions {
  charger: Charger;
  store: SessionStore;
  users: UserDirectory;
  tariff: Tariff | null;
  timeZone: string;
  clock: Clock;
  logger: Logger;
  sampleIntervalMs: number;
  /** Persist the open session at least this often while the meter moves. */
  persistIntervalMs: number;
  /** A stop within this time after noteStopRequested() is recorded as `remote`. */
  remoteStopWindowMs: number;
  /** An RFID event this recent names the session that opens. */
  tagWindowMs: number;
  /**
   * `session_started` waits this long for the charger to name its session (and user field), unless
   * it does so sooner: a BS20 reports them only with its next charging status.
   */
  announceDelayMs: number;
  onStarted: (record: SessionRecord) => void;
  onCompleted: (record: SessionRecord) => void;
  onChanged: () => void;
  /** Keeps track of store writes so tests and shutdown can wait for them. */
  track: (job: Promise<unknown>) => void;
}

export interface LiveSession {
  record: SessionRecord;
  samples: MeterSample[];
  cost: number | null;
}

export class ChargerSessions {
  private readonly o: ChargerSessionsOptions;
  private readonly log: Logger;
  private open: RunningSession | null = null;
  private resumePending = false;
  /** updatedAt of the last reading before the link went down: a state still showing it is stale. */
  private staleMark: number | null = null;
  private fresh = false;
  private lastClosedChargerSessionId: string | null;
  private lastClosedMeterKwh: number | null;
  private lastClosedEndedAt: number;
  private selected: string | null = null;
  /** A reading without a running session was seen since the link came up: later sessions began in our sight. */
  private sawIdle = false;
  /** Opened on the first readings after start or a reconnect, before the charger named it: it may have begun earlier. */
  private joinedLate: RunningSession | null = null;
  private recentTag: { tag: string; at: number } | null = null;
  private stopRequestedAt: number | null = null;
  private chargerStopReason: string | null = null;
  private readonly unsubscribe: Array<() => void> = [];
  /**
   * The open session paused and the link stayed up since: a new charger session id now is a restart
   * inside the same plug-in (the charger's status can show energy before it names the new id).
   */
  private pauseWatched = false;
  /** A charging rule paused the charge (notePauseRequested), with its reason. */
  private pauseRequested: { at: number; reason: string } | null = null;
  /** When a restart began waiting for the charger to name the session it runs. */
  private resumeWaitFrom: number | null = null;
  /** The open session after a restart or link drop, until the charger is seen running it again: it may have ended unseen. */
  private unconfirmed: RunningSession | null = null;
  /**
   * The session restored at start, until the charger names it running again: while the charger runs
   * something it has not named yet, its readings may be a new charge's and are held back.
   */
  private restoredUnseen: RunningSession | null = null;
  /** When readings began to be held back for restoredUnseen. */
  private holdFrom: number | null = null;
  /** Charge records the charger sent since we started (it replays them until acknowledged). */
  private readonly records: ChargeRecordView[] = [];
  /** A session found over after a restart, waiting for the charger's record of it. */
  private settling: { open: RunningSession; timer: TimerHandle } | null = null;

  constructor(options: ChargerSessionsOptions, restored: SessionRecord | null) {
    this.o = options;
    this.log = options.logger.child({ charger: options.charger.id });
    const last = options.store.lastClosed(options.charger.id);
    this.lastClosedChargerSessionId = last?.chargerSessionId ?? null;
    this.lastClosedMeterKwh = last?.meterStopKwh ?? null;
    this.lastClosedEndedAt = last?.endedAt ?? 0;
    if (restored) {
      // The run before announced and saved it (or crashed within seconds of opening it).
      this.open = new RunningSession({
        record: restored,
        keeper: this.keeperOptions(),
        selected: null,
        chargerUserId: null,
        now: options.clock.now(),
        restored: true,
      });
      // Decided at the first fresh reading: continue, or close with the last known meter value.
      this.resumePending = true;
      this.unconfirmed = this.open;
      this.restoredUnseen = this.open;
    }
  }

  start(): void {
    const { charger } = this.o;
    this.unsubscribe.push(
      charger.events.on('state', (next) => this.onState(next)),
      charger.events.on('event', (event) => this.onEvent(event)),
    );
    const state = charger.getState();
    if (state.link === 'online' && state.energyTotalKwh !== null) {
      this.fresh = true;
      this.process(state);
    } else this.staleMark = state.updatedAt;
  }

  /** Stops listening and saves the open session (it stays open for the next start). */
  stop(): void {
    for (const off of this.unsubscribe.splice(0)) off();
    if (this.open) this.o.clock.clearTimeout(this.open.announceTimer);
    if (this.open?.unsaved) this.persist(this.open);
    // Stopping before the record came: close it with what the charger said so far.
    if (this.settling) this.settle(null);
  }

  get selectedUser(): string | null {
    return this.selected;
  }

  selectUser(user: string | null): void {
    this.selected = user;
    // A session that opened without anyone selected takes the choice made just after.
    const open = this.open;
    if (open && open.record.userSource === null && open.record.idTag === null && user !== null) {
      open.selected = user;
      open.attribute(this.o.users);
      this.persist(open);
      this.o.onChanged();
    }
  }

  noteStopRequested(): void {
    this.stopRequestedAt = this.o.clock.now();
    this.pauseRequested = null;
  }

  /** A charging rule (a profile below 6 A) stops the charge for a while: a pause, not the end. */
  notePauseRequested(reason: string): void {
    this.pauseRequested = { at: this.o.clock.now(), reason };
  }

  live(): LiveSession | null {
    // A session waiting for the charger's record is still open (on disk too).
    const open = this.open ?? this.settling?.open ?? null;
    if (!open) return null;
    return {
      record: structuredClone(open.record),
      samples: open.keeper.snapshot(),
      cost: open.costSoFar(this.o.tariff, this.o.timeZone),
    };
  }

  // ---- charger input --------------------------------------------------------------------------

  private onEvent(event: ChargerEvent): void {
    if (event.type === 'rfid') {
      const tag = event.data?.idTag ?? event.data?.tag;
      if (typeof tag === 'string' && tag.trim() !== '') this.recentTag = { tag: tag.trim(), at: event.at };
    } else if (event.type === 'charge_record') {
      const record = chargeRecordOf(event.data);
      if (!record) return;
      this.records.push(record);
      if (this.records.length > 20) this.records.shift();
      if (this.settling && recordMatches(record, viewOf(this.settling.open))) this.settle(record);
      else if (
        this.open &&
        this.open === this.unconfirmed &&
        record.chargerSessionId !== null &&
        record.chargerSessionId === this.open.record.chargerSessionId
      )
        // The charger's record of the session we still hold open (it ended while we were away, and
        // the charger may already run the next one): closed as the charger counted it.
        this.closeByRecord(this.open, record);
    } else if (event.type === 'charging_stopped') {
      const reason = event.data?.reason;
      if (typeof reason === 'string') this.chargerStopReason = stopReasonFromCharger(reason);
    }
  }

  private onState(state: ChargerState): void {
    if (state.link !== 'online') {
      this.fresh = false;
      this.unconfirmed = this.open;
      this.pauseWatched = false;
      this.staleMark = state.updatedAt;
      // While we cannot see the charger a session may begin without us.
      this.sawIdle = false;
      return;
    }
    // Right after a (re)connect a charger may still show what it read before the drop: wait for a
    // new reading (and for the lifetime register, which every session needs).
    if (!this.fresh) {
      if (state.energyTotalKwh === null || state.updatedAt === this.staleMark) return;
      this.fresh = true;
    }
    this.process(state);
  }

  private process(state: ChargerState): void {
    const now = this.o.clock.now();
    const meter = state.energyTotalKwh;
    if (meter === null) return;
    const reportedId = state.session?.chargerSessionId ?? null;
    const newId = reportedId !== null && reportedId !== this.lastClosedChargerSessionId ? reportedId : null;
    if (this.resumePending) {
      // Charging, but not yet named: it may be a new charge begun while we were down. Wait for its
      // name (or the open session's record) before giving it these readings, a bounded while.
      const named = this.open?.record.chargerSessionId ?? null;
      if (state.charging && reportedId === null && named !== null && this.open) {
        this.resumeWaitFrom ??= now;
        if (now - this.resumeWaitFrom < this.o.announceDelayMs) return;
      }
      this.resumePending = false;
      this.resume(state, meter, newId);
    }
    let open = this.open;
    if (open && newId !== null && newId !== open.record.chargerSessionId) {
      // Restored before the charger named it, and the session it names began after our last reading
      // of ours (2 s for whole-second clocks): a new charge, ours ended while we were down.
      const reportedStart = state.session?.startedAt;
      const laterOne =
        open === this.restoredUnseen &&
        typeof reportedStart === 'number' &&
        reportedStart > open.last.at + 2_000;
      if (open.record.chargerSessionId === null && !laterOne) {
        open.adopt(state, newId, this.o.users);
        // The swipe that came with this session is used up (it must not name the next one).
        this.recentTag = null;
        if (open === this.joinedLate) this.startWhereTheChargerDid(open, state, meter);
        this.persist(open);
        this.announce(open);
      } else if (this.pauseWatched && state.plugged && !laterOne) {
        // The charge resumed after a pause a charging rule asked for: the charger numbers it anew,
        // the session goes on.
        open.adopt(state, newId, this.o.users);
        this.pauseWatched = false;
        this.persist(open);
      } else if (open === this.restoredUnseen) {
        // Restored, and the charger now names another session: ours ended while we were down. It
        // closes as a restart finds it over (its record, else where the new one began), and the new
        // one starts where the charger says, not at this moment.
        this.open = null;
        this.unconfirmed = null;
        this.restoredUnseen = null;
        this.awaitRecord(open);
        open = null;
      } else {
        // The charger moved on to another session while we were not looking (link down).
        const handover = handoverMeterKwh(open.last.meterKwh, state, meter);
        this.close(open, 'replaced', Math.min(now, chargerStartedAt(state, open.last.at, now)), handover);
        open = null;
      }
    }
    if (open && open === this.restoredUnseen) {
      if (reportedId !== null && reportedId === open.record.chargerSessionId) {
        this.restoredUnseen = null;
        this.holdFrom = null;
      } else if (reportedId === null && isRunning(state)) {
        // Running but not named yet (a BS20 names its session a moment after the status): it may be
        // a charge begun while we were down, so these readings wait for the name (a bounded while).
        this.holdFrom ??= now;
        if (now - this.holdFrom < this.o.announceDelayMs) return;
      }
    }
    if (open) {
      if (reportedId !== null && reportedId === open.record.chargerSessionId && isRunning(state))
        this.unconfirmed = null;
      const kept = open.observe(state, meter, now, this.o.users);
      if (kept || now - open.lastPersistAt >= this.o.persistIntervalMs) this.persist(open);
      this.o.onChanged();
      const stopRequested =
        this.stopRequestedAt !== null && now - this.stopRequestedAt <= this.o.remoteStopWindowMs;
      const requested =
        this.pauseRequested !== null && now - this.pauseRequested.at <= this.o.remoteStopWindowMs
          ? this.pauseRequested.reason
          : null;
      const announced = requested ?? (open.pause?.announced ? open.pause.reason : null);
      const reason = closeReason(state, {
        stopRequested,
        chargerStopReason: this.chargerStopReason,
        chargerSessionId: open.record.chargerSessionId,
        pauseCause: open.pause?.cause ?? null,
        pauseAnnounced: announced !== null,
      });
      if (reason) this.close(open, reason, now, Math.max(meter, open.last.meterKwh));
      else if (state.charging) open.chargingAt(now);
      else {
        if (announced !== null) this.pauseWatched = true;
        open.pauseAt(now, {
          ...pauseKind(state, this.chargerStopReason, announced),
          announced: announced !== null,
        });
        if (open.unsaved) this.persist(open);
      }
    }
    if (!this.open && shouldOpen(state, newId)) {
      // One open session per charger: the one waiting for its record ends where this one begins.
      if (this.settling) this.settle(null, this.startMeterOf(state, meter, newId));
      this.openSession(state, meter, newId, now);
    }
    if (!isRunning(state)) this.sawIdle = true;
  }

  /**
   * A session found running at start (or after the link was down) and named only now: a BS20 reports
   * its session after the first status. The charger's own start time and session energy say where it
   * began, so the energy charged while we were not looking is not lost.
   */
  private startWhereTheChargerDid(open: RunningSession, state: ChargerState, meter: number): void {
    this.joinedLate = null;
    const sessionKwh = state.session?.energyKwh;
    const meterStart =
      typeof sessionKwh === 'number' && sessionKwh > 0
        ? Math.max(this.lastClosedMeterKwh ?? 0, meter - sessionKwh)
        : meter;
    open.startEarlier(chargerStartedAt(state, this.lastClosedEndedAt, open.record.startedAt), meterStart);
  }

  /** After a restart: the charger still runs the same session → continue; otherwise close it as it was. */
  private resume(state: ChargerState, meter: number, newId: string | null): void {
    const open = this.open;
    if (!open) return;
    const last = open.last;
    const sameSession =
      newId === null || open.record.chargerSessionId === null || newId === open.record.chargerSessionId;
    // Still charging, or plugged in and paused by a charging rule: the same session.
    const paused = state.plugged && open.pause?.announced === true;
    if ((isRunning(state) || paused) && sameSession && meter >= last.meterKwh) {
      this.log.info({ session: open.record.id }, 'resuming the session that was open before the restart');
      return;
    }
    // Over while we were down: the charger's record of it (if it comes) says how it ended.
    this.open = null;
    this.restoredUnseen = null;
    this.awaitRecord(open);
  }

  /** A session found over: closed by the charger's record when it has come or comes soon. */
  private awaitRecord(open: RunningSession): void {
    const view = viewOf(open);
    const record = this.records.find((r) => recordMatches(r, view));
    this.settling = {
      open,
      timer: this.o.clock.setTimeout(() => this.settle(null), record ? 0 : RECORD_WAIT_MS),
    };
    if (record) this.settle(record);
  }

  private closeByRecord(open: RunningSession, record: ChargeRecordView): void {
    const end = endFromRecord(record, viewOf(open));
    const reason = end.reason === null ? 'interrupted' : stopReasonFromCharger(end.reason);
    this.log.info(
      { session: open.record.id, meterStopKwh: end.meterStopKwh, reason },
      "closing the session with the charger's charge record",
    );
    this.close(open, reason, end.endedAt, end.meterStopKwh);
  }

  /** Closes the session found over after a restart: by the charger's record, else by its register. */
  private settle(record: ChargeRecordView | null, nextStartKwh: number | null = null): void {
    const settling = this.settling;
    if (!settling) return;
    this.settling = null;
    this.o.clock.clearTimeout(settling.timer);
    const { open } = settling;
    const view = viewOf(open);
    let end: SessionEnd;
    let source: string;
    if (record) {
      end = endFromRecord(record, view);
      source = "the charger's charge record";
    } else if (nextStartKwh !== null) {
      const later = this.records.filter((r) => recordAfter(r, view));
      end = endBeforeNext(view, nextStartKwh, later);
      source = 'the start of the next session';
    } else {
      const later = this.records.filter((r) => recordAfter(r, view));
      end = endFromRegister(this.o.charger.getState(), view, later);
      source =
        end.meterStopKwh > view.last.meterKwh ? "the charger's lifetime register" : 'the last saved reading';
    }
    if (end.meterStartKwh !== null && end.meterStartKwh >= (this.lastClosedMeterKwh ?? 0))
      open.startEarlier(open.record.startedAt, end.meterStartKwh);
    const reason = end.reason === null ? 'interrupted' : stopReasonFromCharger(end.reason);
    this.log.warn(
      { session: open.record.id, meterStopKwh: end.meterStopKwh, reason },
      `the session open before the restart is over; closing it with ${source}`,
    );
    this.close(open, reason, end.endedAt, end.meterStopKwh);
  }

  // ---- session life ---------------------------------------------------------------------------

  /** Where a session opening now begins on the register (the charger may say it began earlier). */
  private startMeterOf(state: ChargerState, meter: number, newId: string | null): number {
    const sessionKwh = newId !== null ? state.session?.energyKwh : null;
    return typeof sessionKwh === 'number' && sessionKwh > 0 ? meter - sessionKwh : meter;
  }

  private openSession(state: ChargerState, meter: number, newId: string | null, now: number): void {
    const { charger, store } = this.o;
    let startedAt = now;
    let meterStart = meter;
    // Joined late (daemon down when it began): the charger knows how much this session has had.
    const sessionKwh = newId !== null ? state.session?.energyKwh : null;
    if (typeof sessionKwh === 'number' && sessionKwh > 0) {
      meterStart = Math.min(meter, Math.max(this.lastClosedMeterKwh ?? 0, meter - sessionKwh));
      startedAt = chargerStartedAt(state, this.lastClosedEndedAt, now);
    } else if (newId !== null && startAgreesWithDuration(state, now)) {
      // Joined before its first 0.01 kWh (a car slow to draw): it still began when the charger says.
      startedAt = chargerStartedAt(state, this.lastClosedEndedAt, now);
    }
    const recentTag =
      this.recentTag && now - this.recentTag.at <= this.o.tagWindowMs ? this.recentTag.tag : null;
    const open = new RunningSession({
      record: {
        id: store.uniqueId(sessionIdFor(charger.id, startedAt)),
        chargerId: charger.id,
        chargerSessionId: newId,
        startedAt,
        endedAt: null,
        meterStartKwh: Math.round(meterStart * 1000) / 1000,
        meterStopKwh: null,
        energyKwh: 0,
        samples: [],
        peakPowerW: null,
        maxCurrentA: null,
        user: null,
        userSource: null,
        idTag: (newId !== null ? state.session?.idTag : null) ?? recentTag,
        idTagKnown: null,
        stopReason: null,
        cost: null,
        notes: [],
      },
      keeper: this.keeperOptions(),
      selected: this.selected,
      chargerUserId: newId !== null ? (state.session?.userId ?? null) : null,
      now,
      restored: false,
    });
    open.attribute(this.o.users);
    this.open = open;
    this.joinedLate = newId === null && !this.sawIdle ? open : null;
    this.recentTag = null;
    this.chargerStopReason = null;
    this.stopRequestedAt = null;
    open.observe(state, meter, now, this.o.users);
    this.persist(open);
    this.o.onChanged();
    const r = open.record;
    this.log.info({ session: r.id, user: r.user, meterStartKwh: r.meterStartKwh }, 'session started');
    if (newId !== null) this.announce(open);
    else open.announceTimer = this.o.clock.setTimeout(() => this.announce(open), this.o.announceDelayMs);
  }

  private announce(open: RunningSession): void {
    if (open.announced) return;
    open.announced = true;
    this.o.clock.clearTimeout(open.announceTimer);
    open.announceTimer = undefined;
    this.o.onStarted(structuredClone(open.record));
  }

  private close(open: RunningSession, reason: string, endedAt: number, meterStopKwh: number): void {
    this.announce(open);
    this.takeStoredNotes(open);
    const closed = open.finish(reason, endedAt, meterStopKwh, this.o.tariff, this.o.timeZone);
    if (this.open === open) this.open = null;
    if (this.restoredUnseen === open) this.restoredUnseen = null;
    this.pauseWatched = false;
    this.pauseRequested = null;
    if (closed.chargerSessionId !== null) this.lastClosedChargerSessionId = closed.chargerSessionId;
    this.lastClosedMeterKwh = closed.meterStopKwh;
    this.lastClosedEndedAt = closed.endedAt ?? endedAt;
    this.stopRequestedAt = null;
    this.chargerStopReason = null;
    this.o.track(this.o.store.complete(closed));
    this.log.info(
      { session: closed.id, energyKwh: closed.energyKwh, reason, cost: closed.cost?.total ?? null },
      'session completed',
    );
    this.o.onCompleted(closed);
    this.o.onChanged();
  }

  private persist(open: RunningSession): void {
    this.takeStoredNotes(open);
    this.o.track(this.o.store.saveOpen(open.forDisk(this.o.clock.now())));
  }

  /** Notes are added to the store's copy (bridge request `session/note`): keep them over ours. */
  private takeStoredNotes(open: RunningSession): void {
    const stored = this.o.store.get(open.record.id);
    if (stored && stored.notes.length > open.record.notes.length)
      open.record.notes = structuredClone(stored.notes);
  }

  private keeperOptions(): SampleKeeperOptions {
    const { tariff, timeZone, sampleIntervalMs } = this.o;
    return {
      intervalMs: sampleIntervalMs,
      // Split points: tariff window changes and local midnight (daily totals).
      periodOf: (at) => (tariff ? `${windowNameAt(tariff, at, timeZone)}|` : '') + dayKey(at, timeZone),
    };
  }
}

/** The charger's start agrees with the time it says the session has run (a clock far off does not). */
function startAgreesWithDuration(state: ChargerState, now: number): boolean {
  const startedAt = state.session?.startedAt;
  const durationS = state.session?.durationS;
  if (typeof startedAt !== 'number' || typeof durationS !== 'number') return false;
  return Math.abs(now - startedAt - durationS * 1000) <= 20_000;
}

function viewOf(open: RunningSession): SessionView {
  const r = open.record;
  return {
    chargerSessionId: r.chargerSessionId,
    startedAt: r.startedAt,
    meterStartKwh: r.meterStartKwh,
    last: open.last,
  };
}
