/**
 * ChargingStatus 0x0005 (periodic) / 0x0006 (answer to 0x8006), §4.5. Payload ≥ 74 bytes, all
 * big-endian (evseMQTT's little-endian reads are a bug, proven by capture B10).
 */
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

export interface ChargingStatus {
  lineId: number;
  /** Byte 1, or byte 74 when that is 18 or 19 ("new protocol"). */
  currentState: number;
  /** Byte 1 as sent. */
  baseCurrentState: number;
  chargeId: string;
  /** 1 = app; 4 seen for clock/schedule-started sessions. */
  startType: number;
  /** 1 normal, 2 timed, 11 forced single phase. */
  chargeType: number;
  /** Null = unlimited (0xFFFF); some firmware also use 0 for unlimited. */
  maxDurationMinutes: number | null;
  /** Null = unlimited (0xFFFF). */
  maxEnergyKwh: number | null;
  param3: number;
  reservationTime: EmTime;
  userId: string;
  currentLimitA: number;
  startTime: EmTime;
  /** Null when the charger reports 0xFFFFFFFF. */
  elapsedS: number | null;
  energyCounterAtStartKwh: number;
  energyCounterKwh: number;
  sessionEnergyKwh: number;
  price: number;
  feeType: number;
  fee: number;
  /** Bytes past offset 74, kept raw. */
  extension: Uint8Array;
}

export type ChargingStatusInput = Omit<
  ChargingStatus,
  'baseCurrentState' | 'extension' | 'reservationTime' | 'startTime'
> & {
  baseCurrentState?: number;
  extension?: Uint8Array;
  reservationTime: Pick<EmTime, 'raw'>;
  startTime: Pick<EmTime, 'raw'>;
};

const CHARGING_STATUS_BYTES = 74;

export function decodeChargingStatus(
  payload: Uint8Array,
  options: { timeZone?: string } = {},
): ChargingStatus {
  requireLength(payload, CHARGING_STATUS_BYTES, 'charging status');
  const baseCurrentState = u8(payload, 1);
  const newProtocolState = payload.length > CHARGING_STATUS_BYTES ? u8(payload, CHARGING_STATUS_BYTES) : null;
  const maxEnergyRaw = u16OrNull(payload, 22);
  const elapsedRaw = u32(payload, 51);
  return {
    lineId: u8(payload, 0),
    currentState: newProtocolState === 18 || newProtocolState === 19 ? newProtocolState : baseCurrentState,
    baseCurrentState,
    chargeId: readText(payload, [2, 16]),
    startType: u8(payload, 18),
    chargeType: u8(payload, 19),
    maxDurationMinutes: u16OrNull(payload, 20),
    maxEnergyKwh: maxEnergyRaw === null ? null : maxEnergyRaw / 100,
    param3: u16(payload, 24),
    reservationTime: decodeEmTime(u32(payload, 26), options.timeZone),
    userId: readText(payload, [30, 16]),
    currentLimitA: u8(payload, 46),
    startTime: decodeEmTime(u32(payload, 47), options.timeZone),
    elapsedS: elapsedRaw === 0xffffffff ? null : elapsedRaw,
    energyCounterAtStartKwh: u32(payload, 55) / 100,
    energyCounterKwh: u32(payload, 59) / 100,
    sessionEnergyKwh: u32(payload, 63) / 100,
    price: u32(payload, 67) / 100,
    feeType: u8(payload, 71),
    fee: u16(payload, 72) / 100,
    extension: payload.slice(CHARGING_STATUS_BYTES),
  };
}

export function encodeChargingStatus(s: ChargingStatusInput): Uint8Array {
  const extension = s.extension ?? new Uint8Array(0);
  const p = new Uint8Array(CHARGING_STATUS_BYTES + extension.length);
  putU8(p, 0, s.lineId, 'lineId');
  putU8(p, 1, s.baseCurrentState ?? s.currentState, 'currentState');
  writeText(p, s.chargeId, 'chargeId', [2, 16]);
  putU8(p, 18, s.startType, 'startType');
  putU8(p, 19, s.chargeType, 'chargeType');
  putU16(p, 20, s.maxDurationMinutes ?? 0xffff, 'maxDurationMinutes');
  putU16(
    p,
    22,
    s.maxEnergyKwh === null ? 0xffff : toRaw(s.maxEnergyKwh, 100, 'maxEnergyKwh'),
    'maxEnergyKwh',
  );
  putU16(p, 24, s.param3, 'param3');
  putU32(p, 26, s.reservationTime.raw, 'reservationTime');
  writeText(p, s.userId, 'userId', [30, 16]);
  putU8(p, 46, s.currentLimitA, 'currentLimitA');
  putU32(p, 47, s.startTime.raw, 'startTime');
  putU32(p, 51, s.elapsedS ?? 0xffffffff, 'elapsedS');
  putU32(p, 55, toRaw(s.energyCounterAtStartKwh, 100, 'energyCounterAtStartKwh'), 'energyCounterAtStartKwh');
  putU32(p, 59, toRaw(s.energyCounterKwh, 100, 'energyCounterKwh'), 'energyCounterKwh');
  putU32(p, 63, toRaw(s.sessionEnergyKwh, 100, 'sessionEnergyKwh'), 'sessionEnergyKwh');
  putU32(p, 67, toRaw(s.price, 100, 'price'), 'price');
  putU8(p, 71, s.feeType, 'feeType');
  putU16(p, 72, toRaw(s.fee, 100, 'fee'), 'fee');
  p.set(extension, CHARGING_STATUS_BYTES);
  return p;
}
