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
import type { Logger } from '../log.js';
import { type SessionRecord, sessionIdFor } from './record.js';
import { SampleKeeper } from './samples.js';
import type { SessionStore } from './store.js';
import { costSession, type MeterSample, type Tariff, windowNameAt } from './tariff.js';
import type { UserDirectory } from './users.js';
import { dayKey } from './zoned-time.js';

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

interface OpenSession {
  record: SessionRecord;
  keeper: SampleKeeper;
  selected: string | null;
  chargerUserId: string | null;
  lastPersistAt: number;
  unsaved: boolean;
  announced: boolean;
  announceTimer: TimerHandle | undefined;
}

/** OCPP StopTransaction reasons (and similar words from other chargers) → our stop reasons. */
const CHARGER_STOP_REASONS: Record<string, string> = {
  evdisconnected: 'unplugged',
  remote: 'remote',
  local: 'local',
  emergencystop: 'error',
  powerloss: 'power_loss',
  reboot: 'reboot',
  hardreset: 'reboot',
  softreset: 'reboot',
  deauthorized: 'deauthorized',
  unlockcommand: 'remote',
  other: 'other',
};

const round3 = (value: number) => Math.round(value * 1000) / 1000;

export class ChargerSessions {
  private readonly o: ChargerSessionsOptions;
  private readonly log: Logger;
  private open: OpenSession | null = null;
  private resumePending = false;
  /** updatedAt of the last reading before the link went down: a state still showing it is stale. */
  private staleMark: number | null = null;
  private fresh = false;
  private lastClosedChargerSessionId: string | null;
  private lastClosedMeterKwh: number | null;
  private lastClosedEndedAt: number;
  private selected: string | null = null;
  private recentTag: { tag: string; at: number } | null = null;
  private stopRequestedAt: number | null = null;
  private chargerStopReason: string | null = null;
  private liveCostCache: { at: number; cost: number | null } | null = null;
  private readonly unsubscribe: Array<() => void> = [];

  constructor(options: ChargerSessionsOptions, restored: SessionRecord | null) {
    this.o = options;
    this.log = options.logger.child({ charger: options.charger.id });
    const last = options.store.lastClosed(options.charger.id);
    this.lastClosedChargerSessionId = last?.chargerSessionId ?? null;
    this.lastClosedMeterKwh = last?.meterStopKwh ?? null;
    this.lastClosedEndedAt = last?.endedAt ?? 0;
    if (restored) {
      this.open = {
        record: structuredClone(restored),
        keeper: this.newKeeper(restored.samples),
        selected: null,
        chargerUserId: null,
        lastPersistAt: options.clock.now(),
        unsaved: false,
        // The run before announced it (or crashed within seconds of opening it).
        announced: true,
        announceTimer: undefined,
      };
      // Decided at the first fresh reading: continue, or close with the last known meter value.
      this.resumePending = true;
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
      this.applyAttribution(open);
      this.persist(open);
      this.o.onChanged();
    }
  }

  noteStopRequested(): void {
    this.stopRequestedAt = this.o.clock.now();
  }

  live(): LiveSession | null {
    const open = this.open;
    if (!open) return null;
    const samples = open.keeper.snapshot();
    const lastAt = samples.at(-1)?.at ?? 0;
    if (this.liveCostCache?.at !== lastAt) {
      const tariff = this.o.tariff;
      this.liveCostCache = {
        at: lastAt,
        cost: tariff ? costSession(samples, tariff, this.o.timeZone).total : null,
      };
    }
    return { record: structuredClone(open.record), samples, cost: this.liveCostCache.cost };
  }

  // ---- charger input --------------------------------------------------------------------------

  private onEvent(event: ChargerEvent): void {
    if (event.type === 'rfid') {
      const tag = event.data?.idTag ?? event.data?.tag;
      if (typeof tag === 'string' && tag.trim() !== '') this.recentTag = { tag: tag.trim(), at: event.at };
    } else if (event.type === 'charging_stopped') {
      const reason = event.data?.reason;
      if (typeof reason === 'string') {
        this.chargerStopReason = CHARGER_STOP_REASONS[reason.toLowerCase().replace(/[^a-z]/g, '')] ?? 'other';
      }
    }
  }

  private onState(state: ChargerState): void {
    if (state.link !== 'online') {
      this.fresh = false;
      this.staleMark = state.updatedAt;
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
      this.resumePending = false;
      this.resume(state, meter, newId);
    }
    let open = this.open;
    if (open && newId !== null && newId !== open.record.chargerSessionId) {
      if (open.record.chargerSessionId === null) this.adopt(open, state, newId);
      else {
        // The charger moved on to another session while we were not looking (link down).
        const handover = this.handoverMeter(open, state, meter);
        this.close(
          open,
          'replaced',
          Math.min(now, this.chargerStartedAt(state, open.keeper.last?.at ?? 0, now)),
          handover,
        );
        open = null;
      }
    }
    if (open) {
      this.observe(open, state, meter, now);
      const reason = this.closeReason(state);
      if (reason) this.close(open, reason, now, Math.max(meter, open.keeper.last?.meterKwh ?? meter));
    }
    if (!this.open && this.shouldOpen(state, newId)) this.openSession(state, meter, newId, now);
  }

  // ---- decisions ------------------------------------------------------------------------------

  private shouldOpen(state: ChargerState, newId: string | null): boolean {
    if (state.charging) return true;
    // OCPP: a transaction authorised and the car plugged in, but not drawing yet.
    return state.plugged && state.status === 'suspended' && newId !== null;
  }

  private closeReason(state: ChargerState): string | null {
    if (state.charging) return null;
    if (!state.plugged) return 'unplugged';
    if (state.status === 'suspended' || state.status === 'scheduled') return null;
    if (state.status === 'error') return 'error';
    const now = this.o.clock.now();
    if (this.stopRequestedAt !== null && now - this.stopRequestedAt <= this.o.remoteStopWindowMs)
      return 'remote';
    if (this.chargerStopReason !== null) return this.chargerStopReason;
    return state.status === 'finished' ? 'finished' : 'stopped';
  }

  /** After a restart: the charger still runs the same session → continue; otherwise close it as it was. */
  private resume(state: ChargerState, meter: number, newId: string | null): void {
    const open = this.open;
    if (!open) return;
    const last = open.keeper.last ?? {
      at: open.record.startedAt,
      meterKwh: open.record.meterStartKwh ?? meter,
    };
    const running = state.charging || (state.plugged && state.status === 'suspended');
    const sameSession =
      newId === null || open.record.chargerSessionId === null || newId === open.record.chargerSessionId;
    if (running && sameSession && meter >= last.meterKwh) {
      this.log.info({ session: open.record.id }, 'resuming the session that was open before the restart');
      return;
    }
    this.log.warn(
      { session: open.record.id, charging: state.charging, reportedId: newId },
      'the session open before the restart is over; closing it with the last known meter value',
    );
    this.close(open, 'interrupted', last.at, last.meterKwh);
  }

  /** Where the old session ends and a replacing one begins on the register (never overlapping). */
  private handoverMeter(open: OpenSession, state: ChargerState, meter: number): number {
    const floor = open.keeper.last?.meterKwh ?? open.record.meterStartKwh ?? meter;
    const newEnergy = state.session?.energyKwh;
    const start = typeof newEnergy === 'number' && newEnergy > 0 ? meter - newEnergy : meter;
    return Math.min(meter, Math.max(floor, start));
  }

  /** The charger's own start time for its session, kept within [notBefore, now]. */
  private chargerStartedAt(state: ChargerState, notBefore: number, now: number): number {
    const reported = state.session?.startedAt;
    if (typeof reported !== 'number' || !Number.isFinite(reported)) return now;
    return Math.min(now, Math.max(notBefore, reported));
  }

  // ---- session life ---------------------------------------------------------------------------

  private openSession(state: ChargerState, meter: number, newId: string | null, now: number): void {
    const { charger, store } = this.o;
    let startedAt = now;
    let meterStart = meter;
    // Joined late (daemon down when it began): the charger knows how much this session has had.
    const sessionKwh = newId !== null ? state.session?.energyKwh : null;
    if (typeof sessionKwh === 'number' && sessionKwh > 0) {
      meterStart = Math.min(meter, Math.max(this.lastClosedMeterKwh ?? 0, meter - sessionKwh));
      startedAt = this.chargerStartedAt(state, this.lastClosedEndedAt, now);
    }
    const tagWindow =
      this.recentTag && now - this.recentTag.at <= this.o.tagWindowMs ? this.recentTag.tag : null;
    const record: SessionRecord = {
      id: store.uniqueId(sessionIdFor(charger.id, startedAt)),
      chargerId: charger.id,
      chargerSessionId: newId,
      startedAt,
      endedAt: null,
      meterStartKwh: round3(meterStart),
      meterStopKwh: null,
      energyKwh: round3(meter - meterStart),
      samples: [],
      peakPowerW: null,
      maxCurrentA: null,
      user: null,
      userSource: null,
      idTag: (newId !== null ? state.session?.idTag : null) ?? tagWindow,
      idTagKnown: null,
      stopReason: null,
      cost: null,
      notes: [],
    };
    const open: OpenSession = {
      record,
      keeper: this.newKeeper([{ at: startedAt, meterKwh: meterStart }]),
      selected: this.selected,
      chargerUserId: newId !== null ? (state.session?.userId ?? null) : null,
      lastPersistAt: now,
      unsaved: true,
      announced: false,
      announceTimer: undefined,
    };
    this.applyAttribution(open);
    this.open = open;
    this.recentTag = null;
    this.chargerStopReason = null;
    this.stopRequestedAt = null;
    this.observe(open, state, meter, now);
    this.persist(open);
    this.log.info(
      { session: record.id, user: record.user, meterStartKwh: record.meterStartKwh },
      'session started',
    );
    if (newId !== null) this.announce(open);
    else open.announceTimer = this.o.clock.setTimeout(() => this.announce(open), this.o.announceDelayMs);
  }

  private announce(open: OpenSession): void {
    if (open.announced) return;
    open.announced = true;
    this.o.clock.clearTimeout(open.announceTimer);
    open.announceTimer = undefined;
    this.o.onStarted(structuredClone(open.record));
  }

  /** The charger told us its id for the session we opened: take it, and its user field and tag. */
  private adopt(open: OpenSession, state: ChargerState, id: string): void {
    open.record.chargerSessionId = id;
    open.chargerUserId = state.session?.userId ?? open.chargerUserId;
    if (open.record.idTag === null && state.session?.idTag) open.record.idTag = state.session.idTag;
    this.applyAttribution(open);
    open.unsaved = true;
    this.persist(open);
    this.announce(open);
  }

  private observe(open: OpenSession, state: ChargerState, meter: number, now: number): void {
    const r = open.record;
    const kept = open.keeper.observe({ at: now, meterKwh: meter });
    const latest = open.keeper.last?.meterKwh ?? meter;
    r.energyKwh = round3(Math.max(0, latest - (r.meterStartKwh ?? latest)));
    if (state.powerW !== null && state.powerW > (r.peakPowerW ?? Number.NEGATIVE_INFINITY))
      r.peakPowerW = state.powerW;
    for (const phase of state.phases) {
      if (phase.currentA !== null && phase.currentA > (r.maxCurrentA ?? Number.NEGATIVE_INFINITY)) {
        r.maxCurrentA = phase.currentA;
      }
    }
    if (r.chargerSessionId !== null && state.session?.chargerSessionId === r.chargerSessionId) {
      const userField = state.session.userId ?? open.chargerUserId;
      if (userField !== open.chargerUserId || (state.session.idTag && r.idTag === null)) {
        open.chargerUserId = userField;
        if (r.idTag === null && state.session.idTag) r.idTag = state.session.idTag;
        this.applyAttribution(open);
      }
    }
    open.unsaved = true;
    if (kept || now - open.lastPersistAt >= this.o.persistIntervalMs) this.persist(open);
    this.o.onChanged();
  }

  private close(open: OpenSession, reason: string, endedAt: number, meterStop: number): void {
    this.announce(open);
    const r = open.record;
    const end = Math.max(endedAt, r.startedAt);
    const samples = open.keeper.finish({ at: end, meterKwh: meterStop });
    r.samples = samples;
    r.endedAt = end;
    r.meterStopKwh = round3(meterStop);
    r.energyKwh = round3(Math.max(0, meterStop - (r.meterStartKwh ?? meterStop)));
    r.stopReason = reason;
    r.cost = this.o.tariff ? costSession(samples, this.o.tariff, this.o.timeZone) : null;
    this.open = null;
    this.liveCostCache = null;
    if (r.chargerSessionId !== null) this.lastClosedChargerSessionId = r.chargerSessionId;
    this.lastClosedMeterKwh = r.meterStopKwh;
    this.lastClosedEndedAt = end;
    this.stopRequestedAt = null;
    this.chargerStopReason = null;
    const closed = structuredClone(r);
    this.o.track(this.o.store.complete(closed));
    this.log.info(
      { session: r.id, energyKwh: r.energyKwh, reason, cost: r.cost?.total ?? null },
      'session completed',
    );
    this.o.onCompleted(closed);
    this.o.onChanged();
  }

  private applyAttribution(open: OpenSession): void {
    const who = this.o.users.attribute({
      idTag: open.record.idTag,
      chargerUserId: open.chargerUserId,
      selected: open.selected,
    });
    open.record.user = who.user;
    open.record.userSource = who.userSource;
    open.record.idTagKnown = who.idTagKnown;
  }

  private persist(open: OpenSession): void {
    open.record.samples = open.keeper.snapshot();
    open.lastPersistAt = this.o.clock.now();
    open.unsaved = false;
    this.o.track(this.o.store.saveOpen(open.record));
  }

  private newKeeper(initial: readonly MeterSample[]): SampleKeeper {
    const { tariff, timeZone, sampleIntervalMs } = this.o;
    return new SampleKeeper(initial, {
      intervalMs: sampleIntervalMs,
      // Split points: tariff window changes and local midnight (daily totals).
      periodOf: (at) => (tariff ? `${windowNameAt(tariff, at, timeZone)}|` : '') + dayKey(at, timeZone),
    });
  }
}
