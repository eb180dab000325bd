/**
 * Charge start 0x8007 → 0x0007 (§4.6) and charge stop 0x8008 → 0x0008 (§4.7).
 */
import { reservationResultName, startErrorReasonName, stopReasonName } from '../enums.js';
import { decodeEmTime, type EmTime } from '../time.js';
import {
  putU8,
  putU16,
  putU32,
  readText,
  requireLength,
  toRaw,
  u8,
  u16,
  u16OrNull,
  u32,
  writeText,
} from './payload.js';

export interface ChargeStartRequest {
  /** 1 on 1-phase units; references disagree for 3-phase (the BS20 answers with 1 anyway). */
  lineId: number;
  userId: string;
  /** Any 16 ASCII characters, e.g. yyyyMMddHHmm + 4 digits. */
  chargeId: string;
  isReservation: boolean;
  /** Start (or reservation) time; "now" for an immediate start. */
  startTime: EmTime;
  startType: number;
  chargeType: number;
  /** Null = unlimited (0xFFFF). */
  maxDurationMinutes: number | null;
  /** Null = unlimited (0xFFFF). */
  maxEnergyKwh: number | null;
  /** Must be 0xFFFF: 0 makes the session stop after a few seconds. */
  param3: number;
  maxCurrentA: number;
}

export type ChargeStartRequestInput = Pick<
  ChargeStartRequest,
  'lineId' | 'userId' | 'chargeId' | 'maxCurrentA'
> & {
  startTime: Pick<EmTime, 'raw'>;
  isReservation?: boolean;
  startType?: number;
  chargeType?: number;
  maxDurationMinutes?: number | null;
  maxEnergyKwh?: number | null;
  param3?: number;
};

const CHARGE_START_BYTES = 47;

export function encodeChargeStartRequest(r: ChargeStartRequestInput): Uint8Array {
  const p = new Uint8Array(CHARGE_START_BYTES);
  putU8(p, 0, r.lineId, 'lineId');
  writeText(p, r.userId, 'userId', [1, 16]);
  writeText(p, r.chargeId, 'chargeId', [17, 16]);
  p[33] = r.isReservation ? 1 : 0;
  putU32(p, 34, r.startTime.raw, 'startTime');
  putU8(p, 38, r.startType ?? 1, 'startType');
  putU8(p, 39, r.chargeType ?? 1, 'chargeType');
  const maxDuration = r.maxDurationMinutes ?? null;
  const maxEnergy = r.maxEnergyKwh ?? null;
  putU16(p, 40, maxDuration ?? 0xffff, 'maxDurationMinutes');
  putU16(p, 42, maxEnergy === null ? 0xffff : toRaw(maxEnergy, 100, 'maxEnergyKwh'), 'maxEnergyKwh');
  putU16(p, 44, r.param3 ?? 0xffff, 'param3');
  putU8(p, 46, r.maxCurrentA, 'maxCurrentA');
  return p;
}

export function decodeChargeStartRequest(
  payload: Uint8Array,
  options: { timeZone?: string } = {},
): ChargeStartRequest {
  requireLength(payload, CHARGE_START_BYTES, 'charge start');
  const maxEnergyRaw = u16OrNull(payload, 42);
  return {
    lineId: u8(payload, 0),
    userId: readText(payload, [1, 16]),
    chargeId: readText(payload, [17, 16]),
    isReservation: u8(payload, 33) !== 0,
    startTime: decodeEmTime(u32(payload, 34), options.timeZone),
    startType: u8(payload, 38),
    chargeType: u8(payload, 39),
    maxDurationMinutes: u16OrNull(payload, 40),
    maxEnergyKwh: maxEnergyRaw === null ? null : maxEnergyRaw / 100,
    param3: u16(payload, 44),
    maxCurrentA: u8(payload, 46),
  };
}

export interface ChargeStartResponse {
  lineId: number;
  reservationResult: number;
  reservationResultName: string;
  /** 1 seen on success, 0 on failure. */
  startResult: number;
  errorReason: number;
  errorReasonName: string;
  /** Null on a 4-byte payload. */
  maxCurrentA: number | null;
  /** errorReason 0 and reservationResult 0, 1 or 4 (emproto's rule). */
  ok: boolean;
}

export type ChargeStartResponseInput = Pick<
  ChargeStartResponse,
  'lineId' | 'reservationResult' | 'startResult' | 'errorReason' | 'maxCurrentA'
>;

const START_OK_RESERVATION_RESULTS = new Set([0, 1, 4]);

export function decodeChargeStartResponse(payload: Uint8Array): ChargeStartResponse {
  requireLength(payload, 4, 'charge start response');
  const reservationResult = u8(payload, 1);
  const errorReason = u8(payload, 3);
  return {
    lineId: u8(payload, 0),
    reservationResult,
    reservationResultName: reservationResultName(reservationResult),
    startResult: u8(payload, 2),
    errorReason,
    errorReasonName: startErrorReasonName(errorReason),
    maxCurrentA: payload.length > 4 ? u8(payload, 4) : null,
    ok: errorReason === 0 && START_OK_RESERVATION_RESULTS.has(reservationResult),
  };
}

export function encodeChargeStartResponse(r: ChargeStartResponseInput): Uint8Array {
  const p = new Uint8Array(r.maxCurrentA === null ? 4 : 5);
  putU8(p, 0, r.lineId, 'lineId');
  putU8(p, 1, r.reservationResult, 'reservationResult');
  putU8(p, 2, r.startResult, 'startResult');
  putU8(p, 3, r.errorReason, 'errorReason');
  if (r.maxCurrentA !== null) putU8(p, 4, r.maxCurrentA, 'maxCurrentA');
  return p;
}

export interface ChargeStopRequest {
  lineId: number;
  /** Empty when the payload is only `[lineId]` (RafaelSchridi style). */
  userId: string;
}

const CHARGE_STOP_BYTES = 47;

/** `[lineId, userId(16), 30 × 00]`, as the OEM app sends it (A9). */
export function encodeChargeStopRequest(r: ChargeStopRequest): Uint8Array {
  const p = new Uint8Array(CHARGE_STOP_BYTES);
  putU8(p, 0, r.lineId, 'lineId');
  writeText(p, r.userId, 'userId', [1, 16]);
  return p;
}

export function decodeChargeStopRequest(payload: Uint8Array): ChargeStopRequest {
  requireLength(payload, 1, 'charge stop');
  return { lineId: u8(payload, 0), userId: readText(payload, [1, 16]) };
}

export interface ChargeStopResponse {
  lineId: number;
  /** Semantics unknown; evseMQTT maps it with the record stop-reason table (11 = app stop). */
  stopResult: number;
  stopResultName: string;
  /** 0 = OK. */
  failReason: number;
  ok: boolean;
  /** Bytes past offset 3, kept raw. */
  extension: Uint8Array;
}

export type ChargeStopResponseInput = Pick<ChargeStopResponse, 'lineId' | 'stopResult' | 'failReason'> & {
  extension?: Uint8Array;
};

export function decodeChargeStopResponse(payload: Uint8Array): ChargeStopResponse {
  requireLength(payload, 3, 'charge stop response');
  const stopResult = u8(payload, 1);
  const failReason = u8(payload, 2);
  return {
    lineId: u8(payload, 0),
    stopResult,
    stopResultName: stopReasonName(stopResult),
    failReason,
    ok: failReason === 0,
    extension: payload.slice(3),
  };
}

/** Default shape `[01, 0B, 00]` is a guess (py-besen's synthetic test); no real one is published. */
export function encodeChargeStopResponse(r: ChargeStopResponseInput): Uint8Array {
  const extension = r.extension ?? new Uint8Array(0);
  const p = new Uint8Array(3 + extension.length);
  putU8(p, 0, r.lineId, 'lineId');
  putU8(p, 1, r.stopResult, 'stopResult');
  putU8(p, 2, r.failReason, 'failReason');
  p.set(extension, 3);
  return p;
}
