/**
 * EM timestamps (§5): the charger reads every u32 time as Asia/Shanghai wall-clock time, so clients
 * send their local wall-clock time as if it were UTC+8:
 *   em = unixSeconds + localUtcOffsetSeconds − 28800
 * using the offset valid at that instant (DST-aware). 0 and 0xFFFFFFFF mean "unset".
 */

import { isTimeZone, offsetMs } from '../../core/zoned-time.js';

const SHANGHAI_OFFSET_S = 8 * 3600;
const DAY_MS = 86_400_000;
const UNSET_VALUES = new Set([0, 0xffffffff]);

export interface EmTime {
  /** The u32 on the wire, kept so a decoded frame re-encodes byte for byte. */
  raw: number;
  /** The instant it stands for, or null when unset (0 or 0xFFFFFFFF). */
  unixMs: number | null;
}

/** True when `timeZone` is an IANA zone name this runtime knows. */
export function isValidTimeZone(timeZone: string): boolean {
  return isTimeZone(timeZone);
}

/** UTC offset (ms, east positive) of `timeZone` at instant `ms`; the process's zone when undefined. */
export function utcOffsetMs(ms: number, timeZone?: string): number {
  const wholeSecondMs = Math.floor(ms / 1000) * 1000;
  if (timeZone === undefined) return -new Date(wholeSecondMs).getTimezoneOffset() * 60_000;
  return offsetMs(wholeSecondMs, timeZone);
}

/**
 * The instant whose local wall clock reads `wallMs` (wall time written as if UTC). In a DST overlap
 * the earlier instant wins; in a DST gap the pre-transition offset is used (the time moves forward).
 */
function wallClockToInstant(wallMs: number, timeZone?: string): number {
  const offsetBefore = utcOffsetMs(wallMs - DAY_MS, timeZone);
  const offsetAfter = utcOffsetMs(wallMs + DAY_MS, timeZone);
  const candidates = [wallMs - offsetBefore, wallMs - offsetAfter].filter(
    (instant) => utcOffsetMs(instant, timeZone) === wallMs - instant,
  );
  return candidates.length > 0 ? Math.min(...candidates) : wallMs - offsetBefore;
}

/** EM timestamp → epoch ms, or null for the unset values 0 and 0xFFFFFFFF. */
export function emToUnixMs(raw: number, timeZone?: string): number | null {
  if (!Number.isInteger(raw) || raw < 0 || raw > 0xffffffff || UNSET_VALUES.has(raw)) return null;
  return wallClockToInstant((raw + SHANGHAI_OFFSET_S) * 1000, timeZone);
}

/** Epoch ms → EM timestamp (whole seconds). Throws RangeError outside the u32 range. */
export function unixMsToEm(ms: number, timeZone?: string): number {
  if (!Number.isFinite(ms)) throw new RangeError(`not a time: ${ms}`);
  const offsetS = Math.round(utcOffsetMs(ms, timeZone) / 1000);
  const em = Math.floor(ms / 1000) + offsetS - SHANGHAI_OFFSET_S;
  if (em < 0 || em > 0xffffffff) {
    throw new RangeError(`${new Date(ms).toISOString()} does not fit an EM timestamp`);
  }
  return em;
}

export function decodeEmTime(raw: number, timeZone?: string): EmTime {
  return { raw, unixMs: emToUnixMs(raw, timeZone) };
}

/** An EmTime for an instant, e.g. "now" in a charge start request. */
export function emTimeFromUnixMs(ms: number, timeZone?: string): EmTime {
  const raw = unixMsToEm(ms, timeZone);
  return { raw, unixMs: emToUnixMs(raw, timeZone) };
}

/** The unset value 0 ("no time"). */
export const EM_TIME_UNSET: EmTime = Object.freeze({ raw: 0, unixMs: null });
