import { describe, expect, it } from 'vitest';
import {
  costSession,
  energyByWindow,
  type MeterSample,
  parseTimeOfDay,
  roundToTotal,
  STANDARD_WINDOW,
  type Tariff,
  windowNameAt,
} from '../../src/sessions/tariff.js';

const TZ = 'Europe/Berlin';
const HOUR = 3_600_000;

/** Epoch ms of a Berlin wall time in winter (UTC+1). */
const winter = (iso: string) => Date.parse(`${iso}+01:00`);

const nightTariff: Tariff = {
  currency: 'EUR',
  pricePerKwh: 0.4,
  sessionFee: 0.5,
  windows: [
    {
      name: 'night',
      days: ['mon', 'tue', 'wed', 'thu', 'fri'],
      from: '22:00',
      to: '06:00',
      pricePerKwh: 0.2,
    },
  ],
};

/** Constant power from `fromMs` to `toMs`, sampled every `stepMs`. */
function steady(fromMs: number, toMs: number, kw: number, stepMs: number, meterKwh = 1000): MeterSample[] {
  const out: MeterSample[] = [];
  for (let at = fromMs; at < toMs; at += stepMs)
    out.push({ at, meterKwh: meterKwh + (kw * (at - fromMs)) / HOUR });
  out.push({ at: toMs, meterKwh: meterKwh + (kw * (toMs - fromMs)) / HOUR });
  return out;
}

describe('parseTimeOfDay', () => {
  it('reads HH:MM and 24:00, rejects the rest', () => {
    expect(parseTimeOfDay('00:00')).toBe(0);
    expect(parseTimeOfDay('22:30')).toBe(1350);
    expect(parseTimeOfDay('24:00')).toBe(1440);
    expect(parseTimeOfDay('24:01')).toBeNull();
    expect(parseTimeOfDay('7:00')).toBeNull();
    expect(parseTimeOfDay('12:60')).toBeNull();
  });
});

describe('windowNameAt', () => {
  it('follows the start day of a window that crosses midnight', () => {
    // 2026-01-16 is a Friday: its night runs into Saturday 06:00, but Saturday 22:00 is standard.
    expect(windowNameAt(nightTariff, winter('2026-01-16T21:59:00'), TZ)).toBe(STANDARD_WINDOW);
    expect(windowNameAt(nightTariff, winter('2026-01-16T22:00:00'), TZ)).toBe('night');
    expect(windowNameAt(nightTariff, winter('2026-01-17T05:59:00'), TZ)).toBe('night');
    expect(windowNameAt(nightTariff, winter('2026-01-17T06:00:00'), TZ)).toBe(STANDARD_WINDOW);
    expect(windowNameAt(nightTariff, winter('2026-01-17T23:00:00'), TZ)).toBe(STANDARD_WINDOW);
    // Monday 03:00 belongs to Sunday's night, and Sunday is not in the list.
    expect(windowNameAt(nightTariff, winter('2026-01-19T03:00:00'), TZ)).toBe(STANDARD_WINDOW);
    expect(windowNameAt(nightTariff, winter('2026-01-20T03:00:00'), TZ)).toBe('night');
  });

  it('uses the configured zone, not the process zone', () => {
    const at = Date.parse('2026-01-15T21:30:00Z'); // 22:30 in Berlin, 16:30 in New York
    expect(windowNameAt(nightTariff, at, TZ)).toBe('night');
    expect(windowNameAt(nightTariff, at, 'America/New_York')).toBe(STANDARD_WINDOW);
  });
});

describe('costSession', () => {
  it('charges a flat price plus the fee when there are no windows', () => {
    const flat: Tariff = { currency: 'EUR', pricePerKwh: 0.3, sessionFee: 1, windows: [] };
    const cost = costSession(
      steady(winter('2026-01-15T10:00:00'), winter('2026-01-15T12:00:00'), 7, 300_000),
      flat,
      TZ,
    );
    expect(cost.energyKwh).toBe(14);
    expect(cost.byWindow).toEqual([{ window: STANDARD_WINDOW, pricePerKwh: 0.3, energyKwh: 14, cost: 4.2 }]);
    expect(cost.fee).toBe(1);
    expect(cost.total).toBe(5.2);
  });

  it('splits a session across a window boundary by the energy recorded on each side', () => {
    // Thursday 21:00–23:00 at 7 kW, sampled every 5 minutes: 7 kWh before 22:00, 7 kWh after.
    const samples = steady(winter('2026-01-15T21:00:00'), winter('2026-01-15T23:00:00'), 7, 300_000);
    const cost = costSession(samples, nightTariff, TZ);
    expect(cost.byWindow).toEqual([
      { window: 'night', pricePerKwh: 0.2, energyKwh: 7, cost: 1.4 },
      { window: STANDARD_WINDOW, pricePerKwh: 0.4, energyKwh: 7, cost: 2.8 },
    ]);
    expect(cost.total).toBe(4.7);
  });

  it('is linear only between two samples, not over the whole session', () => {
    // The car draws nothing until 21:50, then 10 kWh by 22:10: half of it before the boundary.
    const samples: MeterSample[] = [
      { at: winter('2026-01-15T21:00:00'), meterKwh: 500 },
      { at: winter('2026-01-15T21:50:00'), meterKwh: 500 },
      { at: winter('2026-01-15T22:10:00'), meterKwh: 510 },
      { at: winter('2026-01-15T23:00:00'), meterKwh: 510 },
    ];
    const byWindow = energyByWindow(samples, nightTariff, TZ);
    expect(byWindow.get(STANDARD_WINDOW)).toBeCloseTo(5, 9);
    expect(byWindow.get('night')).toBeCloseTo(5, 9);
  });

  it('splits a segment that spans a whole window into three parts', () => {
    const tariff: Tariff = {
      currency: 'EUR',
      pricePerKwh: 0.3,
      sessionFee: 0,
      windows: [{ name: 'peak', days: [], from: '17:00', to: '19:00', pricePerKwh: 0.5 }],
    };
    // One segment 16:00–20:00 with 4 kWh: 1 before, 2 in peak, 1 after.
    const samples = [
      { at: winter('2026-01-15T16:00:00'), meterKwh: 0 },
      { at: winter('2026-01-15T20:00:00'), meterKwh: 4 },
    ];
    const cost = costSession(samples, tariff, TZ);
    expect(cost.byWindow.map((w) => [w.window, w.energyKwh])).toEqual([
      ['peak', 2],
      [STANDARD_WINDOW, 2],
    ]);
    expect(cost.total).toBe(1.6);
  });

  it('crosses midnight into a day whose own night is not in the list', () => {
    // Friday 20:00 → Sunday 02:00 at 1 kW: Friday night (22–06) is cheap, Saturday night is not.
    const samples = steady(winter('2026-01-16T20:00:00'), winter('2026-01-18T02:00:00'), 1, 600_000);
    const byWindow = energyByWindow(samples, nightTariff, TZ);
    expect(byWindow.get('night')).toBeCloseTo(8, 9);
    expect(byWindow.get(STANDARD_WINDOW)).toBeCloseTo(22, 9);
  });

  it('counts real hours on the night the clocks go forward', () => {
    const tariff: Tariff = {
      currency: 'EUR',
      pricePerKwh: 0.4,
      sessionFee: 0,
      windows: [{ name: 'night', days: [], from: '00:00', to: '06:00', pricePerKwh: 0.2 }],
    };
    // 2026-03-29: 00:00 CET → 07:00 CEST is 6 real hours; 00:00–06:00 local is only 5 of them.
    const from = Date.parse('2026-03-29T00:00:00+01:00');
    const to = Date.parse('2026-03-29T07:00:00+02:00');
    expect(to - from).toBe(6 * HOUR);
    const byWindow = energyByWindow(steady(from, to, 6, 3 * HOUR), tariff, TZ);
    expect(byWindow.get('night')).toBeCloseTo(30, 9);
    expect(byWindow.get(STANDARD_WINDOW)).toBeCloseTo(6, 9);
  });

  it('starts a window whose start time is skipped at the moment the clocks jump', () => {
    const tariff: Tariff = {
      currency: 'EUR',
      pricePerKwh: 0.4,
      sessionFee: 0,
      windows: [{ name: 'early', days: [], from: '02:30', to: '05:00', pricePerKwh: 0.1 }],
    };
    // 00:00 CET → 05:00 CEST = 4 real hours; 03:00–05:00 CEST (2 h) is in the window.
    const from = Date.parse('2026-03-29T00:00:00+01:00');
    const to = Date.parse('2026-03-29T05:00:00+02:00');
    const byWindow = energyByWindow(
      [
        { at: from, meterKwh: 0 },
        { at: to, meterKwh: 16 },
      ],
      tariff,
      TZ,
    );
    expect(byWindow.get('early')).toBeCloseTo(8, 6);
    expect(byWindow.get(STANDARD_WINDOW)).toBeCloseTo(8, 6);
  });

  it('counts the repeated hour twice on the night the clocks go back', () => {
    const tariff: Tariff = {
      currency: 'EUR',
      pricePerKwh: 0.4,
      sessionFee: 0,
      windows: [{ name: 'night', days: [], from: '00:00', to: '02:30', pricePerKwh: 0.2 }],
    };
    // 2026-10-25: 00:00 CEST → 04:00 CET is 5 real hours. Wall time 00:00–02:30 happens during
    // 00:00–02:30 CEST (2.5 h) and again 02:00–02:30 CET (0.5 h): 3 h of night, 2 h standard.
    const from = Date.parse('2026-10-25T00:00:00+02:00');
    const to = Date.parse('2026-10-25T04:00:00+01:00');
    expect(to - from).toBe(5 * HOUR);
    const byWindow = energyByWindow(
      [
        { at: from, meterKwh: 0 },
        { at: to, meterKwh: 50 },
      ],
      tariff,
      TZ,
    );
    expect(byWindow.get('night')).toBeCloseTo(30, 6);
    expect(byWindow.get(STANDARD_WINDOW)).toBeCloseTo(20, 6);
  });

  it('rounds once at the end so the window lines add up to the total', () => {
    const tariff: Tariff = {
      currency: 'EUR',
      pricePerKwh: 0.333,
      sessionFee: 0.25,
      windows: [{ name: 'night', days: [], from: '22:00', to: '06:00', pricePerKwh: 0.127 }],
    };
    const samples = [
      { at: winter('2026-01-15T21:00:00'), meterKwh: 0 },
      { at: winter('2026-01-15T23:00:00'), meterKwh: 3.333 },
    ];
    const cost = costSession(samples, tariff, TZ);
    const unrounded = 0.25 + (3.333 / 2) * 0.333 + (3.333 / 2) * 0.127;
    expect(cost.total).toBe(Math.round(unrounded * 100) / 100);
    const sum = cost.byWindow.reduce((a, w) => a + w.cost, 0) + cost.fee;
    expect(Math.round(sum * 100)).toBe(Math.round(cost.total * 100));
    expect(cost.byWindow.reduce((a, w) => a + w.energyKwh, 0)).toBeCloseTo(3.333, 9);
  });

  it('uses the currency minor unit', () => {
    const yen: Tariff = { currency: 'JPY', pricePerKwh: 31.4, sessionFee: 0, windows: [] };
    const cost = costSession(
      [
        { at: 0, meterKwh: 0 },
        { at: HOUR, meterKwh: 10 },
      ],
      yen,
      TZ,
    );
    expect(cost.total).toBe(314);
  });

  it('ignores a meter that goes backwards and costs only the fee without samples', () => {
    const flat: Tariff = { currency: 'EUR', pricePerKwh: 0.3, sessionFee: 0.99, windows: [] };
    const glitch = [
      { at: 0, meterKwh: 10 },
      { at: HOUR, meterKwh: 9 },
      { at: 2 * HOUR, meterKwh: 11 },
    ];
    expect(costSession(glitch, flat, TZ).energyKwh).toBe(2);
    expect(costSession([], flat, TZ)).toEqual({
      currency: 'EUR',
      total: 0.99,
      fee: 0.99,
      energyKwh: 0,
      byWindow: [],
    });
  });
});

describe('roundToTotal', () => {
  it('hands the leftover cent to the largest remainder', () => {
    expect(roundToTotal([1 / 3, 1 / 3, 1 / 3], 1, 2)).toEqual([0.34, 0.33, 0.33]);
    expect(roundToTotal([0.005, 0.005], 0.01, 2).reduce((a, b) => a + b, 0)).toBeCloseTo(0.01, 9);
  });
});
