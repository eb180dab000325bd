import { describe, expect, it } from 'vitest';
import {
  type ChargingProfile,
  checkProfile,
  clearProfiles,
  hasRoomFor,
  type InstalledProfile,
  installProfile,
  withoutTxProfiles,
} from '../../../src/ocpp/client/charging-profiles.js';
import {
  chargerSetpoint,
  compositeSchedule,
  type EvalContext,
  limitAt,
} from '../../../src/ocpp/client/smart-charging.js';

const T0 = Date.UTC(2026, 0, 15, 12, 0, 0);
const MIN = 60_000;
const HOUR = 60 * MIN;
const iso = (ms: number) => new Date(ms).toISOString();

const noTx: EvalContext = { transactionId: null, relativeStartMs: null, phases: 1, voltageV: 230 };

let nextId = 1;
function profile(
  patch: Partial<ChargingProfile> & { periods?: Array<[number, number]>; unit?: 'A' | 'W' },
): ChargingProfile {
  const { periods = [[0, 10]], unit = 'A', ...rest } = patch;
  return {
    chargingProfileId: nextId++,
    stackLevel: 0,
    chargingProfilePurpose: 'TxDefaultProfile',
    chargingProfileKind: 'Absolute',
    chargingSchedule: {
      startSchedule: iso(T0),
      chargingRateUnit: unit,
      chargingSchedulePeriod: periods.map(([startPeriod, limit]) => ({ startPeriod, limit })),
    },
    ...rest,
  };
}

const at = (p: ChargingProfile, connectorId = 1): InstalledProfile => ({
  connectorId,
  profile: p,
  installedAt: T0,
});

describe('limitAt', () => {
  it('applies an Absolute profile from its start for its duration, and says when that changes', () => {
    const p = profile({
      chargingSchedule: {
        startSchedule: iso(T0 + 10 * MIN),
        duration: 1800,
        chargingRateUnit: 'A',
        chargingSchedulePeriod: [
          { startPeriod: 0, limit: 8 },
          { startPeriod: 600, limit: 12.5 },
        ],
      },
    });
    const list = [at(p)];
    expect(limitAt(list, T0, noTx)).toEqual({ limitA: null, nextChangeAt: T0 + 10 * MIN });
    expect(limitAt(list, T0 + 10 * MIN, noTx)).toEqual({ limitA: 8, nextChangeAt: T0 + 20 * MIN });
    expect(limitAt(list, T0 + 25 * MIN, noTx)).toEqual({ limitA: 12.5, nextChangeAt: T0 + 40 * MIN });
    expect(limitAt(list, T0 + 40 * MIN, noTx)).toEqual({ limitA: null, nextChangeAt: null });
  });

  it('lets the highest running stack level win, and falls back when it ends', () => {
    const base = profile({ stackLevel: 0, periods: [[0, 16]] });
    const boost = profile({
      stackLevel: 3,
      chargingSchedule: {
        startSchedule: iso(T0 + HOUR),
        duration: 3600,
        chargingRateUnit: 'A',
        chargingSchedulePeriod: [{ startPeriod: 0, limit: 6 }],
      },
    });
    const list = [at(base), at(boost)];
    expect(limitAt(list, T0 + 30 * MIN, noTx).limitA).toBe(16);
    expect(limitAt(list, T0 + 90 * MIN, noTx).limitA).toBe(6);
    expect(limitAt(list, T0 + 2 * HOUR, noTx).limitA).toBe(16);
  });

  it('honours validFrom and validTo', () => {
    const p = profile({ validFrom: iso(T0 + HOUR), validTo: iso(T0 + 2 * HOUR), periods: [[0, 7]] });
    expect(limitAt([at(p)], T0, noTx)).toEqual({ limitA: null, nextChangeAt: T0 + HOUR });
    expect(limitAt([at(p)], T0 + HOUR, noTx)).toEqual({ limitA: 7, nextChangeAt: T0 + 2 * HOUR });
    expect(limitAt([at(p)], T0 + 2 * HOUR, noTx).limitA).toBeNull();
  });

  it('prefers connector 1 TxDefault over connector 0, TxProfile over both, and caps with ChargePointMax', () => {
    const site = profile({ periods: [[0, 20]] });
    const connector = profile({ periods: [[0, 12]] });
    const max = profile({ chargingProfilePurpose: 'ChargePointMaxProfile', periods: [[0, 10]] });
    const tx = profile({ chargingProfilePurpose: 'TxProfile', transactionId: 42, periods: [[0, 8]] });
    expect(limitAt([at(site, 0)], T0, noTx).limitA).toBe(20);
    expect(limitAt([at(site, 0), at(connector)], T0, noTx).limitA).toBe(12);
    expect(limitAt([at(site, 0), at(connector), at(max, 0)], T0, noTx).limitA).toBe(10);
    const inTx = { ...noTx, transactionId: 42, relativeStartMs: T0 };
    expect(limitAt([at(site, 0), at(connector), at(tx)], T0, inTx).limitA).toBe(8);
    // A TxProfile of another transaction does not count.
    expect(limitAt([at(connector), at(tx)], T0, { ...inTx, transactionId: 43 }).limitA).toBe(12);
  });

  it('converts W to A with the charger’s own phase count', () => {
    const p = profile({ unit: 'W', periods: [[0, 3680]] });
    expect(limitAt([at(p)], T0, noTx).limitA).toBeCloseTo(16, 6);
    expect(limitAt([at(p)], T0, { ...noTx, phases: 3 }).limitA).toBeCloseTo(5.333, 3);
  });

  it('repeats a Daily Recurring profile every day', () => {
    // 22:00–06:00 UTC at 8 A, every night.
    const night = profile({
      chargingProfileKind: 'Recurring',
      recurrencyKind: 'Daily',
      chargingSchedule: {
        startSchedule: '2026-01-01T22:00:00.000Z',
        duration: 8 * 3600,
        chargingRateUnit: 'A',
        chargingSchedulePeriod: [{ startPeriod: 0, limit: 8 }],
      },
    });
    const list = [at(night)];
    expect(limitAt(list, Date.UTC(2026, 0, 15, 12), noTx)).toEqual({
      limitA: null,
      nextChangeAt: Date.UTC(2026, 0, 15, 22),
    });
    expect(limitAt(list, Date.UTC(2026, 0, 15, 23), noTx)).toEqual({
      limitA: 8,
      nextChangeAt: Date.UTC(2026, 0, 16, 6),
    });
    expect(limitAt(list, Date.UTC(2026, 0, 16, 5, 59), noTx).limitA).toBe(8);
    expect(limitAt(list, Date.UTC(2026, 0, 16, 6), noTx).limitA).toBeNull();
  });

  it('runs a Relative profile from the transaction start', () => {
    const p = profile({
      chargingProfileKind: 'Relative',
      chargingSchedule: {
        chargingRateUnit: 'A',
        chargingSchedulePeriod: [
          { startPeriod: 0, limit: 6 },
          { startPeriod: 900, limit: 16 },
        ],
      },
    });
    const started = T0 - 10 * MIN;
    const inTx = { ...noTx, transactionId: 1, relativeStartMs: started };
    expect(limitAt([at(p)], T0, inTx)).toEqual({ limitA: 6, nextChangeAt: started + 15 * MIN });
    expect(limitAt([at(p)], T0 + 5 * MIN, inTx).limitA).toBe(16);
    // Without a transaction: its first period, and nothing to wake up for.
    expect(limitAt([at(p)], T0, noTx)).toEqual({ limitA: 6, nextChangeAt: null });
  });
});

describe('compositeSchedule', () => {
  it('lists the periods over the asked duration, capped at the ceiling, in A or W', () => {
    const p = profile({
      chargingSchedule: {
        startSchedule: iso(T0 + 10 * MIN),
        duration: 1200,
        chargingRateUnit: 'A',
        chargingSchedulePeriod: [
          { startPeriod: 0, limit: 8 },
          { startPeriod: 600, limit: 40 },
        ],
      },
    });
    const list = [at(p)];
    expect(compositeSchedule(list, T0, 3600, noTx, 'A', 16)).toEqual([
      { startPeriod: 0, limit: 16 },
      { startPeriod: 600, limit: 8 },
      { startPeriod: 1200, limit: 16 },
    ]);
    expect(compositeSchedule(list, T0, 300, noTx, 'W', 16)).toEqual([{ startPeriod: 0, limit: 3680 }]);
    expect(compositeSchedule([], T0, 60, noTx, 'A', 32)).toEqual([{ startPeriod: 0, limit: 32 }]);
  });
});

describe('chargerSetpoint', () => {
  it('gives whole amps, never rounded up, never above the ceiling; pauses below 6 A', () => {
    expect(chargerSetpoint(null, 16)).toEqual({ kind: 'unconstrained' });
    expect(chargerSetpoint(9.9, 16)).toEqual({ kind: 'current', currentA: 9 });
    expect(chargerSetpoint(6, 16)).toEqual({ kind: 'current', currentA: 6 });
    expect(chargerSetpoint(32, 16)).toEqual({ kind: 'current', currentA: 16 });
    expect(chargerSetpoint(5.9, 16)).toEqual({ kind: 'pause' });
    expect(chargerSetpoint(0, 16)).toEqual({ kind: 'pause' });
  });
});

describe('checkProfile', () => {
  const limits = { maxStackLevel: 8, maxPeriods: 24, maxProfiles: 8 };
  const ctx = { limits, transactionId: null, transactionOpen: false };

  it('accepts a plain TxDefaultProfile on connector 0 or 1', () => {
    expect(checkProfile(0, profile({}), ctx)).toBeNull();
    expect(checkProfile(1, profile({}), ctx)).toBeNull();
  });

  it('refuses what §3.13 forbids', () => {
    expect(checkProfile(2, profile({}), ctx)).toMatch(/connector 2/);
    expect(checkProfile(1, profile({ chargingProfilePurpose: 'ChargePointMaxProfile' }), ctx)).toMatch(
      /connector 0/,
    );
    expect(checkProfile(1, profile({ chargingProfilePurpose: 'TxProfile' }), ctx)).toMatch(
      /running transaction/,
    );
    expect(
      checkProfile(0, profile({ chargingProfilePurpose: 'TxProfile' }), { ...ctx, transactionOpen: true }),
    ).toMatch(/connector 1/);
    const inTx = { ...ctx, transactionOpen: true, transactionId: 5 };
    expect(checkProfile(1, profile({ chargingProfilePurpose: 'TxProfile', transactionId: 6 }), inTx)).toMatch(
      /not running/,
    );
    expect(
      checkProfile(1, profile({ chargingProfilePurpose: 'TxProfile', transactionId: 5 }), inTx),
    ).toBeNull();
    expect(checkProfile(1, profile({ stackLevel: 9 }), ctx)).toMatch(/stackLevel/);
    expect(checkProfile(1, profile({ chargingProfileKind: 'Recurring' }), ctx)).toMatch(/recurrencyKind/);
    expect(
      checkProfile(
        1,
        profile({
          periods: [
            [0, 8],
            [0, 10],
          ],
        }),
        ctx,
      ),
    ).toMatch(/increasing/);
    expect(checkProfile(1, profile({ periods: [[0, -1]] }), ctx)).toMatch(/negative/);
    expect(checkProfile(1, profile({ validTo: 'tomorrow' }), ctx)).toMatch(/validTo/);
    const many = Array.from({ length: 25 }, (_, i): [number, number] => [i * 60, 10]);
    expect(checkProfile(1, profile({ periods: many }), ctx)).toMatch(/at most 24/);
  });
});

describe('profile store', () => {
  it('replaces by id and by connector + purpose + stack level', () => {
    const a = at(profile({ chargingProfileId: 100, stackLevel: 1 }));
    const b = at(profile({ chargingProfileId: 101, stackLevel: 2 }));
    let list = installProfile(installProfile([], a), b);
    expect(list.map((e) => e.profile.chargingProfileId)).toEqual([100, 101]);
    list = installProfile(list, at(profile({ chargingProfileId: 100, stackLevel: 5 })));
    expect(list.map((e) => [e.profile.chargingProfileId, e.profile.stackLevel])).toEqual([
      [101, 2],
      [100, 5],
    ]);
    list = installProfile(list, at(profile({ chargingProfileId: 102, stackLevel: 2 })));
    expect(list.map((e) => e.profile.chargingProfileId)).toEqual([100, 102]);
    // Same level on the other connector is a different slot.
    list = installProfile(list, at(profile({ chargingProfileId: 103, stackLevel: 2 }), 0));
    expect(list).toHaveLength(3);
  });

  it('counts room without the profile it replaces', () => {
    const list = [
      at(profile({ chargingProfileId: 1 })),
      at(profile({ chargingProfileId: 2, stackLevel: 1 })),
    ];
    expect(hasRoomFor(list, at(profile({ chargingProfileId: 1, stackLevel: 3 })), 2)).toBe(true);
    expect(hasRoomFor(list, at(profile({ chargingProfileId: 3, stackLevel: 3 })), 2)).toBe(false);
  });

  it('clears by id, by criteria, or everything', () => {
    const list = [
      at(profile({ chargingProfileId: 1, stackLevel: 1 })),
      at(profile({ chargingProfileId: 2, stackLevel: 2 }), 0),
      at(profile({ chargingProfileId: 3, chargingProfilePurpose: 'TxProfile' })),
    ];
    expect(clearProfiles(list, { id: 2 }).removed).toBe(1);
    expect(clearProfiles(list, { id: 9 }).removed).toBe(0);
    expect(
      clearProfiles(list, { connectorId: 1, chargingProfilePurpose: 'TxDefaultProfile' }).kept,
    ).toHaveLength(2);
    expect(clearProfiles(list, { stackLevel: 2 }).removed).toBe(1);
    expect(clearProfiles(list, {}).kept).toEqual([]);
    expect(withoutTxProfiles(list).map((e) => e.profile.chargingProfileId)).toEqual([1, 2]);
  });
});
