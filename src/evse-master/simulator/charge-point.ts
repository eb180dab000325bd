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
import {
  CurrentState,
  OutputState,
  PlugState,
  ReservationResult,
  StartErrorReason,
  StopReason,
} from '../protocol/enums.js';
import type { ChargeStartRequest, ChargeStartResponseInput } from '../protocol/messages/charge.js';
import type { ChargeRecordInput } from '../protocol/messages/record.js';
import { buildChargeRecord, printableText, type SimChargeSession } from './charge-session.js';
import type { DeviceClock } from './device-clock.js';
import { MIN_CURRENT_A, type SimConfig } from './options.js';

export interface CarOptions {
  /** Current per phase the car draws when the charger allows it (default 32 A). */
  demandA?: number;
  /** Usable battery; null = never gets full (default null). */
  batteryKwh?: number | null;
  /** State of charge when plugged in (default 50 %). */
  socPercent?: number;
  /** The car starts drawing this long after charging begins (default 0). */
  startDelayMs?: number;
}

interface Car {
  demandA: number;
  capacityWh: number | null;
  storedWh: number;
  startDelayMs: number;
}

/** idle: no session · scheduled: reservation pending (state 20) · finished/full: state 15/17 until a stop or unplug. */
export type ChargePhase = 'idle' | 'scheduled' | 'charging' | 'finished' | 'full';

const DAY_MS = 86_400_000;
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
  private car: Car | null = null;
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
    const car = this.car;
    return car?.capacityWh ? (car.storedWh / car.capacityWh) * 100 : null;
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
    this.integrate();
    const capacityKwh = options.batteryKwh ?? null;
    const soc = options.socPercent ?? 50;
    if (soc < 0 || soc > 100) throw new RangeError(`socPercent must be 0..100, got ${soc}`);
    this.car = {
      demandA: nonNegative(options.demandA ?? 32, 'demandA'),
      capacityWh: capacityKwh === null ? null : nonNegative(capacityKwh, 'batteryKwh') * 1000,
      storedWh: capacityKwh === null ? 0 : (capacityKwh * 1000 * soc) / 100,
      startDelayMs: nonNegative(options.startDelayMs ?? 0, 'startDelayMs'),
    };
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
    this.car.demandA = nonNegative(demandA, 'demandA');
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
    const reject = (errorReason: number, reservationResult: number = ReservationResult.ImmediateStart) => ({
      lineId: 1,
      reservationResult,
      startResult: 0,
      errorReason,
      maxCurrentA: this.configuredCurrentA,
    });
    const currentA = request.maxCurrentA;
    if (this.errorBits !== 0) return reject(StartErrorReason.SystemError);
    if (currentA < MIN_CURRENT_A || currentA > this.config.hardwareMaxCurrentA)
      return reject(StartErrorReason.SystemError);
    if (this.phase === 'scheduled')
      return reject(StartErrorReason.AlreadyInReservation, ReservationResult.ReservationExists);
    if (this.phase === 'charging') {
      return reject(
        StartErrorReason.AlreadyCharging,
        request.isReservation ? ReservationResult.AlreadyCharging : 0,
      );
    }
    if (this.phase === 'finished' || this.phase === 'full') return reject(this.config.stopRefusalReason);

    let reservationResult: number = ReservationResult.ImmediateStart;
    let dueAtMs: number | null = null;
    if (request.isReservation) {
      const dueDeviceMs = this.deviceClock.fromEm(request.startTime.raw);
      if (dueDeviceMs === null) return reject(0, ReservationResult.BadTime);
      const aheadMs = dueDeviceMs - this.deviceClock.nowMs();
      if (aheadMs > DAY_MS) return reject(0, ReservationResult.MoreThan24hAhead);
      if (aheadMs > 0) {
        reservationResult = ReservationResult.ReservationOk;
        dueAtMs = this.deviceClock.toClockMs(dueDeviceMs);
      } else reservationResult = ReservationResult.TimeInPast;
    }
    // A scheduled start is accepted without a car; an immediate one needs the plug in.
    if (dueAtMs === null && !this.car) return reject(StartErrorReason.PlugNotInserted, reservationResult);

    // A start also becomes the configured current (Q10).
    this.configuredCurrentA = currentA;
    this.session = {
      userId: printableText(request.userId, 16),
      chargeId: printableText(request.chargeId, 16),
      startType: request.startType,
      chargeType: request.chargeType,
      maxDurationMinutes: request.maxDurationMinutes === 0 ? null : request.maxDurationMinutes,
      maxEnergyKwh: request.maxEnergyKwh,
      param3: request.param3,
      hasReservation: request.isReservation,
      reservationEm: request.isReservation ? request.startTime.raw : 0,
      dueAtMs,
      currentA,
      startedAtMs: null,
      startEm: 0,
      startRegister: 0,
      energyWh: 0,
      carDrawsFromMs: 0,
    };
    if (dueAtMs === null) this.beginCharging();
    else this.phase = 'scheduled';
    this.reschedule();
    return { lineId: 1, reservationResult, startResult: 1, errorReason: 0, maxCurrentA: currentA };
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
    car.storedWh += wh;
  }

  private energyLimitRemainingWh(): number {
    const s = this.session;
    if (!s || s.maxEnergyKwh === null) return Number.POSITIVE_INFINITY;
    return Math.max(0, s.maxEnergyKwh * 1000 - s.energyWh);
  }

  private carRoomWh(): number {
    const car = this.car;
    if (!car || car.capacityWh === null) return Number.POSITIVE_INFINITY;
    return Math.max(0, car.capacityWh - car.storedWh);
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
        if (this.car) this.car.demandA = 0;
        this.endSession(StopReason.Full, null, 'full');
      } else if (s.param3 !== 0xffff && now >= s.startedAtMs + this.config.param3StopAfterMs) {
        // emproto4go: param3 other than 0xFFFF stops the session after a few seconds; 14 = "fixed fee reached".
        this.endSession(StopReason.FixedFeeReached, null, 'finished');
      }
    }
    this.reschedule();
  }
}

function nonNegative(value: number, what: string): number {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`${what} must be >= 0, got ${value}`);
  return value;
}

function checkErrorCode(code: number): void {
  if (!Number.isInteger(code) || code < 0 || code > 31)
    throw new RangeError(`error code must be 0..31, got ${code}`);
}
