/**
 * One charging session of the simulated charger (scheduled or running) and the charge record
 * (§4.8) it leaves behind.
 */
import type { ChargeRecordInput } from '../protocol/messages/record.js';

export interface SimChargeSession {
  userId: string;
  chargeId: string;
  startType: number;
  chargeType: number;
  maxDurationMinutes: number | null;
  maxEnergyKwh: number | null;
  param3: number;
  hasReservation: boolean;
  /** EM timestamp of the reservation (0 for an immediate start). */
  reservationEm: number;
  /** Injected-clock time the reservation falls due (scheduled sessions only). */
  dueAtMs: number | null;
  currentA: number;
  /** Injected-clock time charging began; null while scheduled. */
  startedAtMs: number | null;
  startEm: number;
  /** Lifetime register (0.01 kWh) when charging began. */
  startRegister: number;
  /** Energy delivered in this session, Wh (unrounded). */
  energyWh: number;
  /** The car draws nothing before this (its own delayed start). */
  carDrawsFromMs: number;
}

/** Bytes after the 97-byte record head on a BS20 (155-byte payload, a 180-byte frame). */
const BS20_RECORD_LOG_BYTES = 58;

export interface RecordEnd {
  stopReason: number;
  endUserId: string;
  stopEm: number;
  nowMs: number;
  stopRegister: number;
}

export function buildChargeRecord(s: SimChargeSession, end: RecordEnd): ChargeRecordInput {
  const started = s.startedAtMs !== null;
  const startRegister = started ? s.startRegister : end.stopRegister;
  return {
    lineId: 1,
    startUserId: s.userId,
    endUserId: end.endUserId,
    chargeId: s.chargeId,
    hasReservation: s.hasReservation,
    startType: s.startType,
    chargeType: s.chargeType,
    param1Minutes: s.maxDurationMinutes ?? 0xffff,
    param2Raw: s.maxEnergyKwh === null ? 0xffff : Math.round(s.maxEnergyKwh * 100),
    param3Raw: s.param3,
    stopReason: end.stopReason,
    hasStopCharge: true,
    reservationTime: { raw: s.reservationEm },
    startTime: { raw: started ? s.startEm : 0 },
    stopTime: { raw: end.stopEm },
    chargedTimeS: s.startedAtMs === null ? 0 : Math.max(0, Math.floor((end.nowMs - s.startedAtMs) / 1000)),
    startEnergyCounterKwh: startRegister / 100,
    stopEnergyCounterKwh: end.stopRegister / 100,
    sessionEnergyKwh: (end.stopRegister - startRegister) / 100,
    price: 0,
    feeType: 0,
    fee: 0,
    logLength: 0,
    logBytes: new Uint8Array(BS20_RECORD_LOG_BYTES),
  };
}

/** Client text (user id, charge id) made encodable again: printable ASCII, at most `max` chars. */
export function printableText(text: string, max: number): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, max);
}
