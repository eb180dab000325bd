/**
 * Charge records (§4.8): 0x0009 current record and 0x000A uploaded local record (replayed until
 * acknowledged), plus the acknowledgements 0x8009 / 0x800A.
 */
import { stopReasonName } from '../enums.js';
import { decodeEmTime, type EmTime } from '../time.js';
import { putU8, putU16, putU32, readText, requireLength, toRaw, u8, u16, u32, writeText } from './payload.js';

export interface ChargeRecord {
  lineId: number;
  startUserId: string;
  endUserId: string;
  chargeId: string;
  hasReservation: boolean;
  startType: number;
  chargeType: number;
  /** Time limit in minutes (180 = timed 3 h); 0xFFFF presumably none. */
  param1Minutes: number;
  /** No agreed scale between references: raw. */
  param2Raw: number;
  param3Raw: number;
  stopReason: number;
  stopReasonName: string;
  hasStopCharge: boolean;
  reservationTime: EmTime;
  startTime: EmTime;
  stopTime: EmTime;
  chargedTimeS: number;
  startEnergyCounterKwh: number;
  stopEnergyCounterKwh: number;
  sessionEnergyKwh: number;
  price: number;
  feeType: number;
  fee: number;
  logLength: number;
  /** Everything from offset 97 on (logs of inconsistent layout), raw. */
  logBytes: Uint8Array;
}

export type ChargeRecordInput = Omit<
  ChargeRecord,
  'stopReasonName' | 'reservationTime' | 'startTime' | 'stopTime' | 'logBytes'
> & {
  reservationTime: Pick<EmTime, 'raw'>;
  startTime: Pick<EmTime, 'raw'>;
  stopTime: Pick<EmTime, 'raw'>;
  logBytes?: Uint8Array;
};

const RECORD_BYTES = 97;

export function decodeChargeRecord(payload: Uint8Array, options: { timeZone?: string } = {}): ChargeRecord {
  requireLength(payload, RECORD_BYTES, 'charge record');
  const stopReason = u8(payload, 58);
  return {
    lineId: u8(payload, 0),
    startUserId: readText(payload, [1, 16]),
    endUserId: readText(payload, [17, 16]),
    chargeId: readText(payload, [33, 16]),
    hasReservation: u8(payload, 49) !== 0,
    startType: u8(payload, 50),
    chargeType: u8(payload, 51),
    param1Minutes: u16(payload, 52),
    param2Raw: u16(payload, 54),
    param3Raw: u16(payload, 56),
    stopReason,
    stopReasonName: stopReasonName(stopReason),
    hasStopCharge: u8(payload, 59) !== 0,
    reservationTime: decodeEmTime(u32(payload, 60), options.timeZone),
    startTime: decodeEmTime(u32(payload, 64), options.timeZone),
    stopTime: decodeEmTime(u32(payload, 68), options.timeZone),
    chargedTimeS: u32(payload, 72),
    startEnergyCounterKwh: u32(payload, 76) / 100,
    stopEnergyCounterKwh: u32(payload, 80) / 100,
    sessionEnergyKwh: u32(payload, 84) / 100,
    price: u32(payload, 88) / 100,
    feeType: u8(payload, 92),
    fee: u16(payload, 93) / 100,
    logLength: u16(payload, 95),
    logBytes: payload.slice(RECORD_BYTES),
  };
}

export function encodeChargeRecord(r: ChargeRecordInput): Uint8Array {
  const logBytes = r.logBytes ?? new Uint8Array(0);
  const p = new Uint8Array(RECORD_BYTES + logBytes.length);
  putU8(p, 0, r.lineId, 'lineId');
  writeText(p, r.startUserId, 'startUserId', [1, 16]);
  writeText(p, r.endUserId, 'endUserId', [17, 16]);
  writeText(p, r.chargeId, 'chargeId', [33, 16]);
  p[49] = r.hasReservation ? 1 : 0;
  putU8(p, 50, r.startType, 'startType');
  putU8(p, 51, r.chargeType, 'chargeType');
  putU16(p, 52, r.param1Minutes, 'param1Minutes');
  putU16(p, 54, r.param2Raw, 'param2Raw');
  putU16(p, 56, r.param3Raw, 'param3Raw');
  putU8(p, 58, r.stopReason, 'stopReason');
  p[59] = r.hasStopCharge ? 1 : 0;
  putU32(p, 60, r.reservationTime.raw, 'reservationTime');
  putU32(p, 64, r.startTime.raw, 'startTime');
  putU32(p, 68, r.stopTime.raw, 'stopTime');
  putU32(p, 72, r.chargedTimeS, 'chargedTimeS');
  putU32(p, 76, toRaw(r.startEnergyCounterKwh, 100, 'startEnergyCounterKwh'), 'startEnergyCounterKwh');
  putU32(p, 80, toRaw(r.stopEnergyCounterKwh, 100, 'stopEnergyCounterKwh'), 'stopEnergyCounterKwh');
  putU32(p, 84, toRaw(r.sessionEnergyKwh, 100, 'sessionEnergyKwh'), 'sessionEnergyKwh');
  putU32(p, 88, toRaw(r.price, 100, 'price'), 'price');
  putU8(p, 92, r.feeType, 'feeType');
  putU16(p, 93, toRaw(r.fee, 100, 'fee'), 'fee');
  putU16(p, 95, r.logLength, 'logLength');
  p.set(logBytes, RECORD_BYTES);
  return p;
}

/**
 * Record acknowledgement. 0x8009: `[lineId, chargeId(16), status]` per emproto (one source);
 * 0x800A's payload is unknown, so decoding is lenient and absent fields are null.
 */
export interface ChargeRecordAck {
  lineId: number | null;
  chargeId: string | null;
  status: number | null;
}

export function decodeChargeRecordAck(payload: Uint8Array): ChargeRecordAck {
  return {
    lineId: payload.length > 0 ? u8(payload, 0) : null,
    chargeId: payload.length >= 17 ? readText(payload, [1, 16]) : null,
    status: payload.length >= 18 ? u8(payload, 17) : null,
  };
}

export function encodeChargeRecordAck(a: { lineId: number; chargeId: string; status: number }): Uint8Array {
  const p = new Uint8Array(18);
  putU8(p, 0, a.lineId, 'lineId');
  writeText(p, a.chargeId, 'chargeId', [1, 16]);
  putU8(p, 17, a.status, 'status');
  return p;
}
