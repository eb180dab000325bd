/**
 * The record of one session while it runs: its register samples, peak power and current, who it
 * belongs to, and the finished record when it closes (energy from the register, cost by window).
 */
import type { ChargerState } from '../core/charger.js';
import type { TimerHandle } from '../core/clock.js';
import type { SessionRecord } from './record.js';
import { SampleKeeper, type SampleKeeperOptions } from './samples.js';
import { costSession, type MeterSample, type Tariff } from './tariff.js';
import type { UserDirectory } from './users.js';

/** Pause reasons that charging rules give (notePauseRequested): such a pause survives a restart. */
export const ANNOUNCED_PAUSES = new Set(['charging_profile', 'deauthorized']);

const round3 = (value: number) => Math.round(value * 1000) / 1000;

export interface RunningSessionInit {
  record: SessionRecord;
  keeper: SampleKeeperOptions;
  /** The user selected for the charger when the session opened. */
  selected: string | null;
  /** The user field the charger reports for this session. */
  chargerUserId: string | null;
  now: number;
  /** Restored after a restart: already announced and saved. */
  restored: boolean;
}

export class RunningSession {
  readonly record: SessionRecord;
  readonly keeper: SampleKeeper;
  selected: string | null;
  chargerUserId: string | null;
  lastPersistAt: number;
  unsaved: boolean;
  announced: boolean;
  announceTimer: TimerHandle | undefined;
  /** Energy flowed at least once: only then is a spell without it a pause. */
  charged: boolean;
  /** The pause going on (also the last entry of record.pauses, with `to` null), and how it would end the session. */
  pause: { from: number; reason: string; cause: string | null; announced: boolean } | null = null;
  private costCache: { at: number; cost: number | null } | null = null;

  constructor(init: RunningSessionInit) {
    this.record = structuredClone(init.record);
    const initial =
      init.record.samples.length > 0
        ? init.record.samples
        : [{ at: init.record.startedAt, meterKwh: init.record.meterStartKwh ?? 0 }];
    this.keeper = new SampleKeeper(initial, init.keeper);
    this.selected = init.selected;
    this.chargerUserId = init.chargerUserId;
    this.lastPersistAt = init.now;
    this.unsaved = !init.restored;
    this.announced = init.restored;
    this.charged = init.restored;
    const ongoing = this.record.pauses?.at(-1);
    if (ongoing && ongoing.to === null) {
      const cause = ongoing.reason === 'fault' ? 'error' : ongoing.reason === 'stopped' ? 'stopped' : null;
      const announced = ANNOUNCED_PAUSES.has(ongoing.reason);
      this.pause = { from: ongoing.from, reason: ongoing.reason, cause, announced };
    }
  }

  /** No energy now: a pause begins (or a fault takes over the one going on). */
  pauseAt(at: number, kind: { reason: string; cause: string | null; announced: boolean }): void {
    if (!this.charged) return;
    this.record.pauses ??= [];
    const pauses = this.record.pauses;
    if (this.pause && (this.pause.reason === kind.reason || this.pause.reason === 'fault')) {
      this.pause.cause ??= kind.cause;
      return;
    }
    if (this.pause) {
      // A fault inside a pause: the rest of the pause is the fault's.
      pauses.at(-1)!.to = at;
    }
    this.pause = { from: at, ...kind };
    pauses.push({ from: at, to: null, reason: kind.reason });
    this.unsaved = true;
  }

  /** Energy flows (again): the pause going on ends. */
  chargingAt(at: number): void {
    this.charged = true;
    if (!this.pause) return;
    const last = this.record.pauses?.at(-1);
    if (last && last.to === null) last.to = at;
    this.pause = null;
    this.unsaved = true;
  }

  /** The latest reading (kept or not), or the start. */
  get last(): MeterSample {
    return this.keeper.last ?? { at: this.record.startedAt, meterKwh: this.record.meterStartKwh ?? 0 };
  }

  /** A reading while open. Returns true when a sample was kept (time to save). */
  observe(state: ChargerState, meterKwh: number, now: number, users: UserDirectory): boolean {
    const r = this.record;
    const kept = this.keeper.observe({ at: now, meterKwh });
    if (state.charging) this.charged = true;
    r.energyKwh = round3(Math.max(0, this.last.meterKwh - (r.meterStartKwh ?? this.last.meterKwh)));
    if (state.powerW !== null && state.powerW > (r.peakPowerW ?? Number.NEGATIVE_INFINITY))
      r.peakPowerW = state.powerW;
    for (const phase of state.phases) {
      if (phase.currentA !== null && phase.currentA > (r.maxCurrentA ?? Number.NEGATIVE_INFINITY)) {
        r.maxCurrentA = phase.currentA;
      }
    }
    // The charger's view of this very session may name its user (BS20 user field) or tag later.
    if (r.chargerSessionId !== null && state.session?.chargerSessionId === r.chargerSessionId) {
      const userField = state.session.userId ?? this.chargerUserId;
      if (userField !== this.chargerUserId || (state.session.idTag && r.idTag === null)) {
        this.chargerUserId = userField;
        if (r.idTag === null && state.session.idTag) r.idTag = state.session.idTag;
        this.attribute(users);
      }
    }
    this.unsaved = true;
    return kept;
  }

  /** The charger named the session we opened: take its id, user field and tag (over a guessed one). */
  adopt(state: ChargerState, id: string, users: UserDirectory): void {
    this.record.chargerSessionId = id;
    this.chargerUserId = state.session?.userId ?? this.chargerUserId;
    if (state.session?.idTag) this.record.idTag = state.session.idTag;
    this.attribute(users);
    this.unsaved = true;
  }

  /**
   * Opened on a charger already charging when we joined (daemon start), before it named the session:
   * its own start time and session energy say where the session really began.
   */
  startEarlier(startedAt: number, meterStartKwh: number): void {
    const r = this.record;
    const meterStart = round3(Math.min(meterStartKwh, r.meterStartKwh ?? meterStartKwh));
    const start = Math.min(startedAt, r.startedAt);
    if (start === r.startedAt && meterStart === r.meterStartKwh) return;
    r.startedAt = start;
    r.meterStartKwh = meterStart;
    this.keeper.startEarlier({ at: start, meterKwh: meterStart });
    r.energyKwh = round3(Math.max(0, this.last.meterKwh - meterStart));
    this.costCache = null;
    this.unsaved = true;
  }

  attribute(users: UserDirectory): void {
    const who = users.attribute({
      idTag: this.record.idTag,
      chargerUserId: this.chargerUserId,
      selected: this.selected,
    });
    this.record.user = who.user;
    this.record.userSource = who.userSource;
    this.record.idTagKnown = who.idTagKnown;
  }

  /** What goes to the open-sessions file. */
  forDisk(now: number): SessionRecord {
    this.record.samples = this.keeper.snapshot();
    this.lastPersistAt = now;
    this.unsaved = false;
    return this.record;
  }

  /** Cost so far, recomputed only when a new reading came in. */
  costSoFar(tariff: Tariff | null, timeZone: string): number | null {
    const samples = this.keeper.snapshot();
    const lastAt = samples.at(-1)?.at ?? 0;
    if (this.costCache?.at !== lastAt) {
      this.costCache = { at: lastAt, cost: tariff ? costSession(samples, tariff, timeZone).total : null };
    }
    return this.costCache.cost;
  }

  /** The closed record: final sample, energy from the register, cost split by window. */
  finish(
    reason: string,
    endedAt: number,
    meterStopKwh: number,
    tariff: Tariff | null,
    timeZone: string,
  ): SessionRecord {
    const r = this.record;
    const end = Math.max(endedAt, r.startedAt);
    const samples = this.keeper.finish({ at: end, meterKwh: meterStopKwh });
    r.samples = samples;
    r.endedAt = end;
    r.meterStopKwh = round3(meterStopKwh);
    r.energyKwh = round3(Math.max(0, meterStopKwh - (r.meterStartKwh ?? meterStopKwh)));
    r.stopReason = reason;
    // A spell without energy at the end is how the session ended (its stop reason), not a pause in it.
    if (r.pauses) r.pauses = r.pauses.filter((p) => p.to !== null);
    r.cost = tariff ? costSession(samples, tariff, timeZone) : null;
    return structuredClone(r);
  }
}
