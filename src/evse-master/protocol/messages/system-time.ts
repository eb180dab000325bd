/**
 * System time 0x8101 / 0x0101 (§4.9): `[action, u32 EM timestamp]`. GET requests are `[02, 00]`;
 * unsolicited reports use action 0 and some firmware send fewer than 5 bytes.
 */
import { decodeEmTime, type EmTime } from '../time.js';
import { putU8, putU32, u8, u32 } from './payload.js';

export interface SystemTime {
  /** 1 set, 2 get, 0 unsolicited report; null for an empty payload. */
  action: number | null;
  /** Null when the payload has no 4-byte time. */
  time: EmTime | null;
}

export interface SystemTimeInput {
  action: number;
  time: Pick<EmTime, 'raw'> | null;
}

/** Lenient, for both directions: never throws. */
export function decodeSystemTime(payload: Uint8Array, options: { timeZone?: string } = {}): SystemTime {
  return {
    action: payload.length > 0 ? u8(payload, 0) : null,
    time: payload.length >= 5 ? decodeEmTime(u32(payload, 1), options.timeZone) : null,
  };
}

/** SET `[01, t3 t2 t1 t0]`; without a time (GET) `[action, 00]` as evseMQTT/py-besen send. */
export function encodeSystemTimeRequest(s: SystemTimeInput): Uint8Array {
  const p = new Uint8Array(s.time === null ? 2 : 5);
  putU8(p, 0, s.action, 'system time action');
  if (s.time !== null) putU32(p, 1, s.time.raw, 'system time');
  return p;
}

/** The charger's echo/report `[action, time]`; `[action]` alone when there is no time. */
export function encodeSystemTimeReport(s: SystemTimeInput): Uint8Array {
  const p = new Uint8Array(s.time === null ? 1 : 5);
  putU8(p, 0, s.action, 'system time action');
  if (s.time !== null) putU32(p, 1, s.time.raw, 'system time');
  return p;
}
