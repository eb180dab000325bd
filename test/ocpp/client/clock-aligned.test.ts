import { describe, expect, it } from 'vitest';
import { nextAlignedReadingAt } from '../../../src/ocpp/client/clock-aligned.js';

const at = (iso: string) => Date.parse(iso);
const next = (nowIso: string, intervalS: number, zone: string) =>
  new Date(nextAlignedReadingAt(at(nowIso), intervalS, zone)).toISOString();

describe('clock-aligned readings count from local midnight', () => {
  it('quarter hours and hours fall on the local clock', () => {
    expect(next('2026-06-01T06:07:00Z', 900, 'Europe/Berlin')).toBe('2026-06-01T06:15:00.000Z');
    expect(next('2026-06-01T06:15:00Z', 900, 'Europe/Berlin')).toBe('2026-06-01T06:30:00.000Z');
    // India is 5:30 ahead: a local hour starts at :30 UTC.
    expect(next('2026-06-01T06:07:00Z', 3600, 'Asia/Kolkata')).toBe('2026-06-01T06:30:00.000Z');
  });

  it('an interval that does not divide the day starts over at local midnight', () => {
    // 08:07 in Berlin (CEST): 7 h steps from 00:00 local are 07:00, 14:00, 21:00, then midnight.
    expect(next('2026-06-01T06:07:00Z', 7 * 3600, 'Europe/Berlin')).toBe('2026-06-01T12:00:00.000Z');
    expect(next('2026-06-01T19:30:00Z', 7 * 3600, 'Europe/Berlin')).toBe('2026-06-01T22:00:00.000Z');
  });

  it('follows the 23-hour and 25-hour days of a DST change', () => {
    // 29 March 2026: Berlin jumps from 02:00 to 03:00; midnight was 23:00Z the day before.
    expect(next('2026-03-29T00:30:00Z', 3600, 'Europe/Berlin')).toBe('2026-03-29T01:00:00.000Z');
    expect(next('2026-03-29T21:30:00Z', 3600, 'Europe/Berlin')).toBe('2026-03-29T22:00:00.000Z');
    // 25 October 2026: 03:00 back to 02:00; the day ends at 23:00Z.
    expect(next('2026-10-25T22:10:00Z', 6 * 3600, 'Europe/Berlin')).toBe('2026-10-25T23:00:00.000Z');
  });

  it('UTC keeps the plain UTC alignment', () => {
    expect(next('2026-06-01T06:07:00Z', 900, 'UTC')).toBe('2026-06-01T06:15:00.000Z');
    expect(next('2026-06-01T23:59:59Z', 86_400, 'UTC')).toBe('2026-06-02T00:00:00.000Z');
  });
});
