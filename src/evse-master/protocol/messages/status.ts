/**
 * SingleACStatus 0x0004 (also the answer 0x000D to 0x800D), §4.4. Payload 23 bytes (16-bit error
 * field, BS20 over BLE), 25 (32-bit errors) or 33 (adds L2/L3).
 */
import { putU8, putU16, putU32, requireLength, toRaw, u8, u16, u32 } from './payload.js';

export interface SingleAcStatus {
  lineId: number;
  l1VoltageV: number;
  l1CurrentA: number;
  /** Null on single-phase payloads (< 33 bytes). */
  l2VoltageV: number | null;
  l2CurrentA: number | null;
  l3VoltageV: number | null;
  l3CurrentA: number | null;
  /** The charger's power field; on 3-phase units it holds one phase only — see sumPowerW. */
  powerW: number;
  /** Σ V·I over the phases present, rounded to 0.1 W. */
  sumPowerW: number;
  /** Lifetime energy register. */
  energyTotalKwh: number;
  /** Null when the sensor reads 0xFFFF (not available). */
  innerTemperatureC: number | null;
  outerTemperatureC: number | null;
  /** 1 in every capture; other values undocumented. */
  emergencyButton: number;
  plugState: number;
  outputState: number;
  /** Byte 20, or the "new protocol" byte 33 when that is 18 or 19 (emproto4go). */
  currentState: number;
  /** Byte 20 as sent (differs from currentState only with a "new protocol" extension). */
  baseCurrentState: number;
  errorBits: number;
  errorWidthBits: 16 | 32;
  /** Bytes past the known fields (23, 25 or 33), kept raw. */
  extension: Uint8Array;
}

export type SingleAcStatusInput = Omit<SingleAcStatus, 'sumPowerW' | 'extension' | 'baseCurrentState'> & {
  baseCurrentState?: number;
  extension?: Uint8Array;
};

const MIN_STATUS_BYTES = 23;
const THREE_PHASE_BYTES = 33;
const TEMPERATURE_NA = 0xffff;
const TEMPERATURE_ZERO_RAW = 20_000;

function temperatureC(raw: number): number | null {
  return raw === TEMPERATURE_NA ? null : (raw - TEMPERATURE_ZERO_RAW) / 100;
}

function temperatureRaw(celsius: number | null, what: string): number {
  return celsius === null ? TEMPERATURE_NA : toRaw(celsius, 100, what) + TEMPERATURE_ZERO_RAW;
}

export function decodeSingleAcStatus(payload: Uint8Array): SingleAcStatus {
  requireLength(payload, MIN_STATUS_BYTES, 'status');
  const errorWidthBits = payload.length >= 25 ? 32 : 16;
  const threePhase = payload.length >= THREE_PHASE_BYTES;
  const knownBytes = threePhase ? THREE_PHASE_BYTES : errorWidthBits === 32 ? 25 : 23;
  const rawPhases: Array<[number, number]> = [[u16(payload, 1), u16(payload, 3)]];
  if (threePhase) {
    rawPhases.push([u16(payload, 25), u16(payload, 27)], [u16(payload, 29), u16(payload, 31)]);
  }
  // V×0.1 · A×0.01 = mW: sum in integers, then round to 0.1 W.
  const sumMilliwatts = rawPhases.reduce((sum, [v, a]) => sum + v * a, 0);
  const baseCurrentState = u8(payload, 20);
  const newProtocolState = payload.length > THREE_PHASE_BYTES ? u8(payload, THREE_PHASE_BYTES) : null;
  const currentState =
    newProtocolState === 18 || newProtocolState === 19 ? newProtocolState : baseCurrentState;
  return {
    lineId: u8(payload, 0),
    l1VoltageV: u16(payload, 1) / 10,
    l1CurrentA: u16(payload, 3) / 100,
    l2VoltageV: threePhase ? u16(payload, 25) / 10 : null,
    l2CurrentA: threePhase ? u16(payload, 27) / 100 : null,
    l3VoltageV: threePhase ? u16(payload, 29) / 10 : null,
    l3CurrentA: threePhase ? u16(payload, 31) / 100 : null,
    powerW: u32(payload, 5),
    sumPowerW: Math.round(sumMilliwatts / 100) / 10,
    energyTotalKwh: u32(payload, 9) / 100,
    innerTemperatureC: temperatureC(u16(payload, 13)),
    outerTemperatureC: temperatureC(u16(payload, 15)),
    emergencyButton: u8(payload, 17),
    plugState: u8(payload, 18),
    outputState: u8(payload, 19),
    currentState,
    baseCurrentState,
    errorBits: errorWidthBits === 32 ? u32(payload, 21) : u16(payload, 21),
    errorWidthBits,
    extension: payload.slice(knownBytes),
  };
}

/**
 * Builds a status payload: 23 bytes for 16-bit errors, 25 for 32-bit, 33 when L2/L3 are given, plus
 * `extension`. Byte 20 carries `baseCurrentState ?? currentState`; a "new protocol" state (18/19)
 * travels in `extension[0]` of a 3-phase payload.
 */
export function encodeSingleAcStatus(s: SingleAcStatusInput): Uint8Array {
  const threePhase = s.l2VoltageV !== null || s.l3VoltageV !== null;
  if (threePhase && s.errorWidthBits !== 32) {
    throw new RangeError('a 3-phase status (33 bytes) has a 32-bit error field');
  }
  const extension = s.extension ?? new Uint8Array(0);
  const knownBytes = threePhase ? THREE_PHASE_BYTES : s.errorWidthBits === 32 ? 25 : 23;
  const length = knownBytes + extension.length;
  // The decoder tells the layouts apart by length, so an extension must not make them ambiguous.
  if (!threePhase && (length >= THREE_PHASE_BYTES || (s.errorWidthBits === 16 && length >= 25))) {
    throw new RangeError(`a ${length}-byte status would decode as a different layout`);
  }
  const p = new Uint8Array(length);
  putU8(p, 0, s.lineId, 'lineId');
  putU16(p, 1, toRaw(s.l1VoltageV, 10, 'l1VoltageV'), 'l1VoltageV');
  putU16(p, 3, toRaw(s.l1CurrentA, 100, 'l1CurrentA'), 'l1CurrentA');
  putU32(p, 5, s.powerW, 'powerW');
  putU32(p, 9, toRaw(s.energyTotalKwh, 100, 'energyTotalKwh'), 'energyTotalKwh');
  putU16(p, 13, temperatureRaw(s.innerTemperatureC, 'innerTemperatureC'), 'innerTemperatureC');
  putU16(p, 15, temperatureRaw(s.outerTemperatureC, 'outerTemperatureC'), 'outerTemperatureC');
  putU8(p, 17, s.emergencyButton, 'emergencyButton');
  putU8(p, 18, s.plugState, 'plugState');
  putU8(p, 19, s.outputState, 'outputState');
  putU8(p, 20, s.baseCurrentState ?? s.currentState, 'currentState');
  if (s.errorWidthBits === 32) putU32(p, 21, s.errorBits, 'errorBits');
  else putU16(p, 21, s.errorBits, 'errorBits');
  if (threePhase) {
    putU16(p, 25, toRaw(s.l2VoltageV ?? 0, 10, 'l2VoltageV'), 'l2VoltageV');
    putU16(p, 27, toRaw(s.l2CurrentA ?? 0, 100, 'l2CurrentA'), 'l2CurrentA');
    putU16(p, 29, toRaw(s.l3VoltageV ?? 0, 10, 'l3VoltageV'), 'l3VoltageV');
    putU16(p, 31, toRaw(s.l3CurrentA ?? 0, 100, 'l3CurrentA'), 'l3CurrentA');
  }
  p.set(extension, knownBytes);
  return p;
}
