import { describe, expect, it } from 'vitest';
import { dayKey } from '../../src/core/zoned-time.js';
import { energyWithin, SampleKeeper } from '../../src/sessions/samples.js';
import { windowNameAt } from '../../src/sessions/tariff.js';
import { sessionShare } from '../../src/sessions/totals.js';
import { UserDirectory } from '../../src/sessions/users.js';
import { TARIFF, TZ } from './bs20-rig.js';

const MIN = 60_000;
const T0 = Date.parse('2026-01-15T20:00:00+01:00'); // Thursday 20:00 in Berlin

describe('SampleKeeper', () => {
  it('keeps one reading per interval, both sides of a window change, and stays bounded', () => {
    const keeper = new SampleKeeper([{ at: T0, meterKwh: 0 }], {
      periodOf: (at) => `${windowNameAt(TARIFF, at, TZ)}|${dayKey(at, TZ)}`,
    });
    // 8 hours of readings every 10 s at 7.2 kW, in 10 Wh register steps.
    for (let at = T0 + 10_000; at <= T0 + 8 * 60 * MIN; at += 10_000) {
      keeper.observe({ at, meterKwh: Math.floor((7.2 * (at - T0)) / 3_600_000 / 0.01) * 0.01 });
    }
    const samples = keeper.snapshot();
    // 96 five-minute points, plus a few at 22:00 and midnight.
    expect(samples.length).toBeGreaterThan(90);
    expect(samples.length).toBeLessThan(110);
    const at22 = Date.parse('2026-01-15T22:00:00+01:00');
    expect(samples.some((s) => s.at < at22 && s.at >= at22 - 10_000)).toBe(true);
    expect(samples.some((s) => s.at >= at22 && s.at <= at22 + 10_000)).toBe(true);
    expect(
      samples.every(
        (s, i) => i === 0 || (s.at > samples[i - 1]!.at && s.meterKwh >= samples[i - 1]!.meterKwh),
      ),
    ).toBe(true);
  });

  it('marks where the meter starts moving again after standing still', () => {
    const keeper = new SampleKeeper([{ at: T0, meterKwh: 10 }]);
    for (let at = T0 + 10_000; at <= T0 + 60 * MIN; at += 10_000) keeper.observe({ at, meterKwh: 10 });
    keeper.observe({ at: T0 + 60 * MIN + 10_000, meterKwh: 10.02 });
    const samples = keeper.finish({ at: T0 + 70 * MIN, meterKwh: 11 });
    expect(samples).toContainEqual({ at: T0 + 60 * MIN, meterKwh: 10 });
    // So the hour of standing still holds no energy.
    expect(energyWithin(samples, T0, T0 + 60 * MIN)).toBe(0);
    expect(energyWithin(samples, T0, T0 + 70 * MIN)).toBeCloseTo(1, 9);
  });

  it('ignores readings that go back in time or down in energy', () => {
    const keeper = new SampleKeeper([{ at: T0, meterKwh: 5 }], { intervalMs: 1000 });
    expect(keeper.observe({ at: T0 + 5000, meterKwh: 4 })).toBe(false);
    expect(keeper.observe({ at: T0 - 5000, meterKwh: 6 })).toBe(false);
    expect(keeper.observe({ at: T0 + 5000, meterKwh: 6 })).toBe(true);
    expect(keeper.snapshot()).toEqual([
      { at: T0, meterKwh: 5 },
      { at: T0 + 5000, meterKwh: 6 },
    ]);
  });
});

describe('sessionShare', () => {
  it('splits energy and cost of a session by period, and gives a fee-only session to its start period', () => {
    const samples = [
      { at: T0, meterKwh: 0 },
      { at: T0 + 60 * MIN, meterKwh: 10 },
    ];
    expect(sessionShare(samples, T0, 4, T0, T0 + 15 * MIN)).toEqual({ energyKwh: 2.5, cost: 1 });
    const fee = [
      { at: T0, meterKwh: 3 },
      { at: T0 + MIN, meterKwh: 3 },
    ];
    expect(sessionShare(fee, T0, 0.5, T0, T0 + MIN)).toEqual({ energyKwh: 0, cost: 0.5 });
    expect(sessionShare(fee, T0, 0.5, T0 + MIN, T0 + 2 * MIN)).toEqual({ energyKwh: 0, cost: 0 });
  });
});

describe('UserDirectory', () => {
  const users = new UserDirectory([
    { name: 'alice', idTags: ['04a1b2c3'], bs20UserId: 'alice01' },
    { name: 'Bartholomew the Third', idTags: [] },
  ]);

  it('maps tags (any case), BS20 user fields and names', () => {
    expect(users.userForTag(' 04A1B2C3')).toBe('alice');
    expect(users.userForTag('ffff')).toBeNull();
    expect(users.userForChargerId('alice01')).toBe('alice');
    expect(users.userForChargerId('alice')).toBe('alice');
    // A long name is cut to the BS20's 16 characters both ways.
    expect(users.chargerUserIdFor('Bartholomew the Third')).toBe('Bartholomew the ');
    expect(users.userForChargerId('Bartholomew the ')).toBe('Bartholomew the Third');
    expect(users.chargerUserIdFor('nobody')).toBeNull();
  });

  it('prefers a tag, then the charger user field, then the selection', () => {
    expect(
      users.attribute({ idTag: '04A1B2C3', chargerUserId: null, selected: 'Bartholomew the Third' }),
    ).toEqual({
      user: 'alice',
      userSource: 'id_tag',
      idTag: '04A1B2C3',
      idTagKnown: true,
    });
    expect(users.attribute({ idTag: 'CAFE', chargerUserId: 'alice01', selected: 'alice' })).toEqual({
      user: null,
      userSource: null,
      idTag: 'CAFE',
      idTagKnown: false,
    });
    expect(
      users.attribute({ idTag: null, chargerUserId: 'alice01', selected: 'Bartholomew the Third' }).user,
    ).toBe('alice');
    expect(
      users.attribute({ idTag: null, chargerUserId: 'chargebridge', selected: 'Bartholomew the Third' }),
    ).toEqual({
      user: 'Bartholomew the Third',
      userSource: 'selected',
      idTag: null,
      idTagKnown: null,
    });
  });
});
