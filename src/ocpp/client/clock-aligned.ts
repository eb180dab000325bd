/**
 * When the next clock-aligned meter reading is due (ClockAlignedDataInterval): intervals count from
 * local midnight in the configured time zone, as a user reading "every 15 min from 00:00" expects, and
 * each day starts over at midnight (so a 7 h interval gives 00:00, 07:00, 14:00, 21:00, then 00:00),
 * also on the 23- and 25-hour days of a DST change.
 */
import { startOfLocalDay, startOfNextLocalDay } from '../../core/zoned-time.js';

export function nextAlignedReadingAt(nowMs: number, intervalS: number, timeZone: string): number {
  const intervalMs = intervalS * 1000;
  const dayStart = startOfLocalDay(nowMs, timeZone);
  const next = dayStart + (Math.floor((nowMs - dayStart) / intervalMs) + 1) * intervalMs;
  return Math.min(next, startOfNextLocalDay(nowMs, timeZone));
}
