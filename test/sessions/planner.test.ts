import { describe, expect, it } from 'vitest';
import { parseLocalDateTime } from '../../src/core/zoned-time.js';
import { planCharge } from '../../src/sessions/planner.js';

const NOW = Date.parse('2026-01-15T22:00:00+01:00');
const HOUR = 3_600_000;
const base = {
  batteryKwh: 60,
  socNowPercent: 20,
  socTargetPercent: 80,
  deadlineMs: NOW + 8 * HOUR,
  nowMs: NOW,
  phases: 3 as const,
  maxCurrentA: 16,
};

describe('planCharge', () => {
  it('computes whole amps from energy, losses, phases and time, rounded up', () => {
    // 36 kWh into the battery, 40 kWh from the grid at 90 %, in 8 h: 5 kW over 3 × 230 V = 7.25 A.
    const plan = planCharge(base);
    expect(plan).toMatchObject({
      status: 'ok',
      currentA: 8,
      energyToBatteryKwh: 36,
      energyFromGridKwh: 40,
      hoursAvailable: 8,
      powerW: 8 * 690,
      socAtDeadlinePercent: 80,
    });
    expect(plan.finishesAt).toBe(Math.round(NOW + (40_000 / 5520) * HOUR));
    expect(plan.finishesAt!).toBeLessThanOrEqual(base.deadlineMs);
  });

  it('reports a target the ceiling cannot reach, with what it would reach', () => {
    // One phase: 5 kW / 230 V = 21.7 A, above the 16 A ceiling.
    const plan = planCharge({ ...base, phases: 1 });
    expect(plan.status).toBe('not_reachable');
    expect(plan.currentA).toBe(16);
    expect(plan.finishesAt).toBeNull();
    // 3.68 kW × 8 h × 0.9 = 26.5 kWh = 44.2 % of 60 kWh.
    expect(plan.socAtDeadlinePercent).toBeCloseTo(64.2, 1);
    expect(plan.message).toMatch(/not reachable: even 16 A only reaches about 64 % .*needs 21\.7 A/);
  });

  it('never goes below 6 A, and then finishes early', () => {
    const plan = planCharge({ ...base, socNowPercent: 75, efficiency: 1, voltageV: 240 });
    expect(plan.currentA).toBe(6);
    expect(plan.status).toBe('ok');
    expect(plan.finishesAt! - NOW).toBeLessThan(HOUR);
  });

  it('has nothing to do when the target is reached or the deadline passed', () => {
    expect(planCharge({ ...base, socNowPercent: 85 })).toMatchObject({
      status: 'already_reached',
      currentA: null,
    });
    expect(planCharge({ ...base, deadlineMs: NOW - 1 })).toMatchObject({
      status: 'deadline_passed',
      currentA: null,
    });
  });

  it('rejects impossible input', () => {
    expect(() => planCharge({ ...base, batteryKwh: 0 })).toThrow(/battery capacity/);
    expect(() => planCharge({ ...base, socTargetPercent: 120 })).toThrow(/target state of charge/);
    expect(() => planCharge({ ...base, efficiency: 1.2 })).toThrow(/efficiency/);
    expect(() => planCharge({ ...base, maxCurrentA: 4 })).toThrow(/ceiling/);
  });
});

describe('parseLocalDateTime', () => {
  const TZ = 'Europe/Berlin';
  it('reads HH:MM as the next occurrence, local date-times and ISO with offsets', () => {
    expect(parseLocalDateTime('07:30', NOW, TZ)).toBe(Date.parse('2026-01-16T07:30:00+01:00'));
    expect(parseLocalDateTime('23:15', NOW, TZ)).toBe(Date.parse('2026-01-15T23:15:00+01:00'));
    expect(parseLocalDateTime('2026-07-01 06:00', NOW, TZ)).toBe(Date.parse('2026-07-01T06:00:00+02:00'));
    expect(parseLocalDateTime('2026-01-16T07:30:00Z', NOW, TZ)).toBe(Date.parse('2026-01-16T07:30:00Z'));
    expect(parseLocalDateTime('24:00', NOW, TZ)).toBeNull();
    expect(parseLocalDateTime('2026-02-30 06:00', NOW, TZ)).toBeNull();
    expect(parseLocalDateTime('tomorrow', NOW, TZ)).toBeNull();
  });
});
