/**
 * The charger's verdict on a charge start 0x8007 (§4.6, §8, Q10): what it answers in 0x0007 and,
 * when accepted, whether charging begins now or at a scheduled time.
 */
import { ReservationResult, StartErrorReason } from '../protocol/enums.js';
import type { ChargeStartRequest, ChargeStartResponseInput } from '../protocol/messages/charge.js';
import type { ChargePhase } from './charge-point.js';
import { printableText, type SimChargeSession } from './charge-session.js';
import type { DeviceClock } from './device-clock.js';
import { MIN_CURRENT_A } from './options.js';

const DAY_MS = 86_400_000;

export interface StartConditions {
  phase: ChargePhase;
  errorBits: number;
  carConnected: boolean;
  configuredCurrentA: number;
  hardwareMaxCurrentA: number;
  /** errorReason for a start after a finished session, before a stop. */
  stopRefusalReason: number;
  deviceClock: DeviceClock;
}

export type StartVerdict =
  | { accepted: false; reply: ChargeStartResponseInput }
  /** dueAtMs: injected-clock time of a scheduled start; null = start now. */
  | { accepted: true; reply: ChargeStartResponseInput; dueAtMs: number | null };

export function judgeChargeStart(request: ChargeStartRequest, c: StartConditions): StartVerdict {
  const reject = (errorReason: number, reservationResult: number = ReservationResult.ImmediateStart) => ({
    accepted: false as const,
    reply: { lineId: 1, reservationResult, startResult: 0, errorReason, maxCurrentA: c.configuredCurrentA },
  });
  const currentA = request.maxCurrentA;
  // No documented code for a bad current; "system error" is the closest.
  if (c.errorBits !== 0) return reject(StartErrorReason.SystemError);
  if (currentA < MIN_CURRENT_A || currentA > c.hardwareMaxCurrentA)
    return reject(StartErrorReason.SystemError);
  if (c.phase === 'scheduled')
    return reject(StartErrorReason.AlreadyInReservation, ReservationResult.ReservationExists);
  if (c.phase === 'charging') {
    const reservationResult = request.isReservation ? ReservationResult.AlreadyCharging : 0;
    return reject(StartErrorReason.AlreadyCharging, reservationResult);
  }
  if (c.phase === 'finished' || c.phase === 'full') return reject(c.stopRefusalReason);

  let reservationResult: number = ReservationResult.ImmediateStart;
  let dueAtMs: number | null = null;
  if (request.isReservation) {
    const dueDeviceMs = c.deviceClock.fromEm(request.startTime.raw);
    if (dueDeviceMs === null) return reject(0, ReservationResult.BadTime);
    const aheadMs = dueDeviceMs - c.deviceClock.nowMs();
    if (aheadMs > DAY_MS) return reject(0, ReservationResult.MoreThan24hAhead);
    if (aheadMs > 0) {
      reservationResult = ReservationResult.ReservationOk;
      dueAtMs = c.deviceClock.toClockMs(dueDeviceMs);
    } else reservationResult = ReservationResult.TimeInPast;
  }
  // A scheduled start is accepted without a car; an immediate one needs the plug in.
  if (dueAtMs === null && !c.carConnected) return reject(StartErrorReason.PlugNotInserted, reservationResult);
  return {
    accepted: true,
    reply: { lineId: 1, reservationResult, startResult: 1, errorReason: 0, maxCurrentA: currentA },
    dueAtMs,
  };
}

/** A new session for an accepted start, not yet charging. */
export function sessionFromRequest(request: ChargeStartRequest, dueAtMs: number | null): SimChargeSession {
  return {
    userId: printableText(request.userId, 16),
    chargeId: printableText(request.chargeId, 16),
    startType: request.startType,
    chargeType: request.chargeType,
    // 0 also means unlimited on some firmware (RafaelSchridi, py-besen).
    maxDurationMinutes: request.maxDurationMinutes === 0 ? null : request.maxDurationMinutes,
    maxEnergyKwh: request.maxEnergyKwh,
    param3: request.param3,
    hasReservation: request.isReservation,
    reservationEm: request.isReservation ? request.startTime.raw : 0,
    dueAtMs,
    currentA: request.maxCurrentA,
    startedAtMs: null,
    startEm: 0,
    startRegister: 0,
    energyWh: 0,
    carDrawsFromMs: 0,
  };
}
