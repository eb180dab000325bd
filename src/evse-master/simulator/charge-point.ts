/**
 * The physical side of the simulated BS20: plug and car, the charging session state machine (§4.6,
 * §8), power and the lifetime energy register, temperatures and error bits. It knows nothing about
 * frames; the charger asks it for telemetry and hands it decoded start/stop requests.
 *
 * Energy is integrated from elapsed clock time whenever something reads or changes it (no ticking);
 * one timer at most is pending: the next moment the session changes by itself (reservation due, car
 * starts drawing, a limit reached, car full).
 */
import type { Clock, TimerHandle } from '../../core/clock.js';
import { CurrentState, OutputState, PlugState, StopReason } from '../protocol/enums.js';
import type { ChargeStartRequest, ChargeStartResponseInput } from '../protocol/messages/charge.js';
import type { ChargeRecordInput } from '../protocol/messages/record.js';
import { type CarOptions, SimulatedCar } from './car.js';
import { buildChargeRecord, printableText, type SimChargeSession } from './charge-session.js';
import { judgeChargeStart, sessionFromRequest } from './charge-start.js';
import type { DeviceClock } from './device-clock.js';
import { MIN_CURRENT_A, type SimConfig } from './options.js';

/** idle: no session · scheduled: reservation pending (state 20) · finished/full: state 15/17 until a stop or unplug. */
export type ChargePhase = 'idle' | 'scheduled' | 'charging' | 'finished' | 'full';

const WH_PER_REGISTER_STEP = 10;
const MS_PER_HOUR = 3_600_000;

/** Record stop reason when an error interrupts charging. */
const STOP_REASON_BY_ERROR: Readonly<Record<number, number>> = {
  6: StopReason.EmergencyStop,
  7: StopReason.MainBoardOverTemperature,
  8: StopReason.PlugOverTemperature,
  11: StopReason.ShortCircuit,
  12: StopReason.OverCurrent,
};

export class ChargePoint {
  phase: ChargePhase = 'idle';
  session: SimChargeSession | null = null;
  configuredCurrentA: number;
  errorBits = 0;
  ambientTemperatureC: number;
  private car: SimulatedCar | null = null;
  private energyWh: number;
  private integratedAtMs: number;
  private timer: TimerHandle | undefined;
  private readonly clock: Clock;

  constructor(
    private readonly config: SimConfig,
    private readonly deviceClock: DeviceClock,
    private readonly onSessionEnded: (record: ChargeRecordInput) => void,
  ) {
    this.clock = config.clock;
    this.configuredCurrentA = config.maxCurrentA;
    this.ambientTemperatureC = config.ambientTemperatureC;
    this.energyWh = Math.round(config.energyTotalKwh * 100) * WH_PER_REGISTER_STEP;
    this.integratedAtMs = this.clock.now();
  }

  // ---- readings -------------------------------------------------------------------------------

  get carConnected(): boolean {
    return this.car !== null;
  }

  /** Lifetime register in 0.01 kWh; only ever grows. */
  energyRegister(): number {
    this.integrate();
    return Math.floor(this.energyWh / WH_PER_REGISTER_STEP);
  }

  /** Unrounded lifetime energy (Wh), for tests and benchmarks. */
  energyTotalWh(): number {
    this.integrate();
    return this.energyWh;
  }

  carSocPercent(): number | null {
    this.integrate();
    return this.car?.socPercent() ?? null;
  }

  /** Per-phase current actually flowing. */
  actualCurrentA(): number {
    const s = this.session;
    if (this.phase !== 'charging' || !s || !this.car || this.clock.now() < s.carDrawsFromMs) return 0;
    return Math.min(s.currentA, this.car.demandA);
  }

  powerW(): number {
    return this.config.phases * this.config.voltageV * this.actualCurrentA();
  }

  currentState(): number {
    if (this.errorBits !== 0) return CurrentState.EvseFault;
    switch (this.phase) {
      case 'scheduled':
        return CurrentState.ChargingReservation;
      case 'charging':
        return CurrentState.Charging;
      case 'finished':
        return CurrentState.Completed;
      case 'full':
        return CurrentState.CompletedFullCharge;
      default:
        return this.car ? CurrentState.ReadyToCharge : CurrentState.NotConnected;
    }
  }

  plugState(): number {
    if (!this.car) return PlugState.Disconnected;
    return this.actualCurrentA() > 0 ? PlugState.ConnectedLocked : PlugState.ConnectedUnlocked;
  }

  outputState(): number {
    return this.phase === 'charging' ? OutputState.Charging : OutputState.Idle;
  }

  /** Warms up with the current drawn; wire temperatures are always °C. */
  temperatureC(): number {
    const rise = (15 * this.actualCurrentA()) / this.config.hardwareMaxCurrentA;
    return Math.round((this.ambientTemperatureC + rise) * 100) / 100;
  }

  /** Session energy in 0.01 kWh, as the counters show it. */
  sessionRegister(): number {
    const s = this.session;
    if (!s || s.startedAtMs === null) return 0;
    return this.energyRegister() - s.startRegister;
  }

  // ---- car and faults -------------------------------------------------------------------------

  plugIn(options: CarOptions = {}): void {
    const car = new SimulatedCar(options);
    this.integrate();
    this.car = car;
    this.reschedule();
  }

  unplug(): void {
    this.integrate();
    if (this.phase === 'charging') this.endSession(StopReason.GunUnplugged, null, 'idle');
    else if (this.phase === 'finished' || this.phase === 'full') this.phase = 'idle';
    this.car = null;
    this.reschedule();
  }

  /** Change what the car asks for (0 = the car pauses). */
  setCarDemand(demandA: number): void {
    if (!this.car) throw new Error('no car is plugged in');
    this.integrate();
    this.car.setDemand(demandA);
    this.reschedule();
  }

  raiseError(code: number): void {
    checkErrorCode(code);
    this.integrate();
    this.errorBits = (this.errorBits | (1 << code)) >>> 0;
    // A real EVSE opens its relay on a fault.
    if (this.phase === 'charging')
      this.endSession(STOP_REASON_BY_ERROR[code] ?? StopReason.PowerFailure, null, 'finished');
  }

  clearError(code: number): void {
    checkErrorCode(code);
    this.errorBits = (this.errorBits & ~(1 << code)) >>> 0;
  }

  // ---- commands -------------------------------------------------------------------------------

  /** Charge start 0x8007 → the 0x0007 answer (§4.6, §8). */
  start(request: ChargeStartRequest): ChargeStartResponseInput {
    this.integrate();
    const verdict = judgeChargeStart(request, {
      phase: this.phase,
      errorBits: this.errorBits,
      carConnected: this.car !== null,
      configuredCurrentA: this.configuredCurrentA,
      hardwareMaxCurrentA: this.config.hardwareMaxCurrentA,
      stopRefusalReason: this.config.stopRefusalReason,
      deviceClock: this.deviceClock,
    });
    if (!verdict.accepted) return verdict.reply;
    // A start also becomes the configured current (Q10).
    this.configuredCurrentA = request.maxCurrentA;
    this.session = sessionFromRequest(request, verdict.dueAtMs);
    if (verdict.dueAtMs === null) this.beginCharging();
    else this.phase = 'scheduled';
    this.reschedule();
    return verdict.reply;
  }

  /** Charge stop 0x8008: ends a session, cancels a reservation, or clears a finished state. */
  stop(userId: string): void {
    this.integrate();
    if (this.phase === 'charging') {
      this.endSession(StopReason.AppStop, printableText(userId, 16), 'finished');
    } else {
      this.session = null;
      this.phase = 'idle';
    }
    this.reschedule();
  }

  /** 0x8107 SET; false (nothing changes) outside 6 … hardware max. Applies to a running session too. */
  setConfiguredCurrent(currentA: number): boolean {
    if (!Number.isInteger(currentA) || currentA < MIN_CURRENT_A || currentA > this.config.hardwareMaxCurrentA)
      return false;
    this.integrate();
    this.configuredCurrentA = currentA;
    if (this.session) this.session.currentA = currentA;
    this.reschedule();
    return true;
  }

  close(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  // ---- internals ------------------------------------------------------------------------------

  private beginCharging(): void {
    const s = this.session;
    if (!s) return;
    const now = this.clock.now();
    s.startedAtMs = now;
    s.startEm = this.deviceClock.nowEm();
    s.startRegister = this.energyRegister();
    s.carDrawsFromMs = now + (this.car?.startDelayMs ?? 0);
    this.phase = 'charging';
  }

  /** Ends the running (or due) session and hands its record on. */
  private endSession(stopReason: number, endUserId: string | null, after: ChargePhase): void {
    const s = this.session;
    if (!s) return;
    this.integrate();
    this.session = null;
    this.phase = after;
    this.onSessionEnded(
      buildChargeRecord(s, {
        stopReason,
        endUserId: endUserId ?? s.userId,
        stopEm: this.deviceClock.nowEm(),
        nowMs: this.clock.now(),
        stopRegister: this.energyRegister(),
      }),
    );
  }

  private integrate(): void {
    const now = this.clock.now();
    const from = this.integratedAtMs;
    this.integratedAtMs = now;
    const s = this.session;
    const car = this.car;
    if (this.phase !== 'charging' || !s || !car) return;
    const drawingMs = now - Math.max(from, s.carDrawsFromMs);
    const powerW = this.config.phases * this.config.voltageV * Math.min(s.currentA, car.demandA);
    if (drawingMs <= 0 || powerW <= 0) return;
    // Cap at the limits so a late timer (real clock) never overshoots them.
    const wh = Math.min((powerW * drawingMs) / MS_PER_HOUR, this.energyLimitRemainingWh(), this.carRoomWh());
    if (wh <= 0) return;
    this.energyWh += wh;
    s.energyWh += wh;
    car.charge(wh);
  }

  private energyLimitRemainingWh(): number {
    const s = this.session;
    if (!s || s.maxEnergyKwh === null) return Number.POSITIVE_INFINITY;
    return Math.max(0, s.maxEnergyKwh * 1000 - s.energyWh);
  }

  private carRoomWh(): number {
    return this.car?.roomWh() ?? Number.POSITIVE_INFINITY;
  }

  private reschedule(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    const at = this.nextEventAtMs();
    if (at === null) return;
    this.timer = this.clock.setTimeout(
      () => {
        this.timer = undefined;
        this.onTimer();
      },
      Math.max(0, at - this.clock.now()),
    );
  }

  private nextEventAtMs(): number | null {
    const s = this.session;
    if (!s) return null;
    if (this.phase === 'scheduled') return s.dueAtMs;
    if (this.phase !== 'charging' || s.startedAtMs === null) return null;
    const now = this.clock.now();
    const candidates: number[] = [];
    if (s.carDrawsFromMs > now) candidates.push(s.carDrawsFromMs);
    if (s.maxDurationMinutes !== null) candidates.push(s.startedAtMs + s.maxDurationMinutes * 60_000);
    if (s.param3 !== 0xffff) candidates.push(s.startedAtMs + this.config.param3StopAfterMs);
    const powerW = this.powerW();
    if (powerW > 0) {
      const remainingWh = Math.min(this.energyLimitRemainingWh(), this.carRoomWh());
      if (Number.isFinite(remainingWh))
        candidates.push(now + Math.ceil((remainingWh * MS_PER_HOUR) / powerW));
    }
    return candidates.length > 0 ? Math.min(...candidates) : null;
  }

  private onTimer(): void {
    this.integrate();
    const s = this.session;
    const now = this.clock.now();
    if (s && this.phase === 'scheduled' && s.dueAtMs !== null && now >= s.dueAtMs) {
      if (this.car && this.errorBits === 0) this.beginCharging();
      else this.endSession(StopReason.ReservationNoCar, null, 'idle');
    } else if (s && this.phase === 'charging' && s.startedAtMs !== null) {
      if (s.maxDurationMinutes !== null && now >= s.startedAtMs + s.maxDurationMinutes * 60_000) {
        this.endSession(StopReason.FixedTimeReached, null, 'finished');
      } else if (this.energyLimitRemainingWh() <= 1e-6) {
        this.endSession(StopReason.FixedEnergyReached, null, 'finished');
      } else if (this.carRoomWh() <= 1e-6) {
        this.car?.setDemand(0);
        this.endSession(StopReason.Full, null, 'full');
      } else if (s.param3 !== 0xffff && now >= s.startedAtMs + this.config.param3StopAfterMs) {
        // emproto4go: param3 other than 0xFFFF stops the session after a few seconds; 14 = "fixed fee reached".
        this.endSession(StopReason.FixedFeeReached, null, 'finished');
      }
    }
    this.reschedule();
  }
}

function checkErrorCode(code: number): void {
  if (!Number.isInteger(code) || code < 0 || code > 31)
    throw new RangeError(`error code must be 0..31, got ${code}`);
}
