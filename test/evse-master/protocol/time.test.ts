import { describe, expect, it } from 'vitest';
import {
  decodeEmTime,
  emTimeFromUnixMs,
  emToUnixMs,
  isValidTimeZone,
  unixMsToEm,
  utcOffsetMs,
} from '../../../src/evse-master/protocol/index.js';

const PARIS = 'Europe/Paris';
const H = 3600;

describe('EM timestamps (§5)', () => {
  it('A7: raw 1649433820 in Paris (CEST) is 2022-04-08T22:03:40Z', () => {
    expect(emToUnixMs(1649433820, PARIS)).toBe(Date.parse('2022-04-08T22:03:40Z'));
    expect(unixMsToEm(Date.parse('2022-04-08T22:03:40Z'), PARIS)).toBe(1649433820);
  });

  it('A10: the OEM app sent true epoch − 6 h from France in summer', () => {
    expect(unixMsToEm(1649455421_000, PARIS)).toBe(1649433821);
  });

  it('B10: evseMQTT time 1738557128 is 12:32:08 CET on 2025-02-03', () => {
    expect(emToUnixMs(1738557128, PARIS)).toBe(Date.parse('2025-02-03T11:32:08Z'));
  });

  it('uses the offset valid at the instant around the spring DST switch (2022-03-27 01:00Z)', () => {
    const before = Date.parse('2022-03-27T00:59:59Z'); // 01:59:59 CET
    const after = Date.parse('2022-03-27T01:00:00Z'); // 03:00:00 CEST
    const emBefore = unixMsToEm(before, PARIS);
    const emAfter = unixMsToEm(after, PARIS);
    expect(emBefore).toBe(before / 1000 + 1 * H - 8 * H);
    expect(emAfter).toBe(after / 1000 + 2 * H - 8 * H);
    // One real second apart, but the wall clock jumped an hour.
    expect(emAfter - emBefore).toBe(3601);
    expect(emToUnixMs(emBefore, PARIS)).toBe(before);
    expect(emToUnixMs(emAfter, PARIS)).toBe(after);
  });

  it('resolves wall times that do not exist (gap) forward and doubled ones (overlap) to the earlier instant', () => {
    // 02:30 on 2022-03-27 does not exist in Paris; read with the winter offset → 01:30Z (03:30 CEST).
    const gapWall = Date.parse('2022-03-27T02:30:00Z') / 1000 - 8 * H;
    expect(emToUnixMs(gapWall, PARIS)).toBe(Date.parse('2022-03-27T01:30:00Z'));
    // 02:30 on 2022-10-30 happens twice (00:30Z CEST and 01:30Z CET).
    const overlapWall = Date.parse('2022-10-30T02:30:00Z') / 1000 - 8 * H;
    expect(emToUnixMs(overlapWall, PARIS)).toBe(Date.parse('2022-10-30T00:30:00Z'));
    expect(unixMsToEm(Date.parse('2022-10-30T01:30:00Z'), PARIS)).toBe(overlapWall);
  });

  it('round-trips whole seconds across a year in Paris and in a zone without DST', () => {
    for (const zone of [PARIS, 'Asia/Shanghai', 'America/New_York', 'UTC']) {
      for (
        let ms = Date.parse('2024-01-01T00:00:07Z');
        ms < Date.parse('2025-01-01T00:00:00Z');
        ms += 86_400_000 * 3.1
      ) {
        const em = unixMsToEm(ms, zone);
        const back = emToUnixMs(em, zone)!;
        // Only the doubled hour of an autumn switch can come back one hour earlier.
        expect([0, -3_600_000]).toContain(back - Math.floor(ms / 1000) * 1000);
      }
    }
    expect(unixMsToEm(Date.parse('2024-05-05T05:05:05Z'), 'Asia/Shanghai')).toBe(
      Date.parse('2024-05-05T05:05:05Z') / 1000,
    );
  });

  it('treats 0 and 0xFFFFFFFF as unset', () => {
    expect(emToUnixMs(0, PARIS)).toBeNull();
    expect(emToUnixMs(0xffffffff, PARIS)).toBeNull();
    expect(decodeEmTime(0)).toEqual({ raw: 0, unixMs: null });
    expect(decodeEmTime(1649433820, PARIS)).toEqual({
      raw: 1649433820,
      unixMs: Date.parse('2022-04-08T22:03:40Z'),
    });
    expect(emTimeFromUnixMs(Date.parse('2022-04-08T22:03:40.900Z'), PARIS)).toEqual({
      raw: 1649433820,
      unixMs: Date.parse('2022-04-08T22:03:40Z'),
    });
  });

  it('uses the process zone by default and validates zone names', () => {
    const ms = Date.parse('2023-07-01T12:00:00Z');
    expect(utcOffsetMs(ms)).toBe(-new Date(ms).getTimezoneOffset() * 60_000);
    expect(utcOffsetMs(ms, PARIS)).toBe(2 * H * 1000);
    expect(isValidTimeZone(PARIS)).toBe(true);
    expect(isValidTimeZone('Mars/Olympus_Mons')).toBe(false);
    expect(() => unixMsToEm(Date.parse('1960-01-01T00:00:00Z'), PARIS)).toThrow(RangeError);
  });
});
