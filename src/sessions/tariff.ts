/**
 * Tariff maths, pure: which price applies at an instant (time-of-use windows in the configured zone,
 * DST-aware), and what a session cost, splitting the energy between two consecutive meter samples
 * across window boundaries. Energy is only assumed linear BETWEEN two samples; rounding to the
 * currency's minor unit happens once, at the end.
 */
import { addDays, instantsOfLocalTime, offsetMs, transitionBetween, zonedParts } from '../core/zoned-time.js';

export const WEEKDAY_NAMES = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAY_NAMES)[number];

/** Name of the price outside every window. */
export const STANDARD_WINDOW = 'standard';

export interface TariffWindow {
  name: string;
  /** Days on which the window STARTS (a 22:00–06:00 window on `fri` runs into Saturday morning). */
  days: readonly Weekday[];
  /** `HH:MM` local time. */
  from: string;
  /** `HH:MM` local time, `24:00` for the end of the day; earlier than `from` = crosses midnight. */
  to: string;
  pricePerKwh: number;
}

export interface Tariff {
  /** ISO 4217, e.g. EUR. */
  currency: string;
  /** Price outside every window. */
  pricePerKwh: number;
  /** Fixed fee per session. */
  sessionFee: number;
  /** The first window that matches an instant wins. */
  windows: readonly TariffWindow[];
}

export interface MeterSample {
  /** Epoch ms. */
  at: number;
  /** Lifetime energy register, kWh. */
  meterKwh: number;
}

export interface WindowCost {
  window: string;
  pricePerKwh: number;
  energyKwh: number;
  cost: number;
}

export interface SessionCost {
  currency: string;
  /** fee + Σ byWindow cost. */
  total: number;
  fee: number;
  energyKwh: number;
  byWindow: WindowCost[];
}

interface CompiledWindow {
  name: string;
  days: ReadonlySet<number>;
  fromMin: number;
  toMin: number;
  pricePerKwh: number;
}

const TIME = /^(\d{2}):(\d{2})$/;

/** Minutes after midnight of `HH:MM` (`24:00` allowed), or null when malformed. */
export function parseTimeOfDay(text: string): number | null {
  const m = TIME.exec(text);
  if (!m) return null;
  const hours = Number(m[1]);
  const minutes = Number(m[2]);
  if (minutes > 59 || hours > 24 || (hours === 24 && minutes !== 0)) return null;
  return hours * 60 + minutes;
}

const compiledCache = new WeakMap<Tariff, CompiledWindow[]>();

function compile(tariff: Tariff): CompiledWindow[] {
  let compiled = compiledCache.get(tariff);
  if (!compiled) {
    compiled = tariff.windows.map((w) => {
      const fromMin = parseTimeOfDay(w.from);
      const toMin = parseTimeOfDay(w.to);
      if (fromMin === null || toMin === null || fromMin === 1440) {
        throw new RangeError(`tariff window ${w.name}: from/to must be HH:MM, got ${w.from}–${w.to}`);
      }
      const days = w.days.length === 0 ? WEEKDAY_NAMES : w.days;
      return {
        name: w.name,
        days: new Set(days.map((d) => WEEKDAY_NAMES.indexOf(d))),
        fromMin,
        toMin,
        pricePerKwh: w.pricePerKwh,
      };
    });
    compiledCache.set(tariff, compiled);
  }
  return compiled;
}

function matches(w: CompiledWindow, weekday: number, minuteOfDay: number): boolean {
  if (w.fromMin < w.toMin) return w.days.has(weekday) && minuteOfDay >= w.fromMin && minuteOfDay < w.toMin;
  if (w.fromMin > w.toMin) {
    return (
      (w.days.has(weekday) && minuteOfDay >= w.fromMin) ||
      (w.days.has((weekday + 6) % 7) && minuteOfDay < w.toMin)
    );
  }
  return false;
}

function compiledWindowAt(
  windows: CompiledWindow[],
  epochMs: number,
  timeZone: string,
): CompiledWindow | null {
  if (windows.length === 0) return null;
  const p = zonedParts(epochMs, timeZone);
  const minute = p.hour * 60 + p.minute + p.second / 60;
  return windows.find((w) => matches(w, p.weekday, minute)) ?? null;
}

/** The window in force at an instant, or null for the standard price. */
export function windowAt(tariff: Tariff, epochMs: number, timeZone: string): TariffWindow | null {
  const found = compiledWindowAt(compile(tariff), epochMs, timeZone);
  return found ? (tariff.windows.find((w) => w.name === found.name) ?? null) : null;
}

/** Name of the window in force (STANDARD_WINDOW outside every window). */
export function windowNameAt(tariff: Tariff, epochMs: number, timeZone: string): string {
  return compiledWindowAt(compile(tariff), epochMs, timeZone)?.name ?? STANDARD_WINDOW;
}

/**
 * Every instant in (fromMs, toMs) where the window in force may change: the from/to times of every
 * window, local midnight and clock changes, on each local day the range touches (both instants of a
 * repeated hour).
 */
export function boundariesBetween(tariff: Tariff, fromMs: number, toMs: number, timeZone: string): number[] {
  if (!(toMs > fromMs)) return [];
  const windows = compile(tariff);
  const minutes = new Set<number>([0]);
  for (const w of windows) {
    minutes.add(w.fromMin);
    minutes.add(w.toMin);
  }
  const first = zonedParts(fromMs, timeZone);
  const last = zonedParts(toMs, timeZone);
  const lastDay = Date.UTC(last.year, last.month - 1, last.day);
  const out = new Set<number>();
  let [y, m, d] = addDays(first.year, first.month, first.day, -1);
  const keep = (at: number) => {
    if (at > fromMs && at < toMs) out.add(at);
  };
  let dayStart = instantsOfLocalTime(y, m, d, 0, 0, timeZone)[0]!;
  while (Date.UTC(y, m - 1, d) <= lastDay + 86_400_000) {
    for (const minute of minutes) {
      for (const at of instantsOfLocalTime(y, m, d, Math.floor(minute / 60), minute % 60, timeZone)) keep(at);
    }
    [y, m, d] = addDays(y, m, d, 1);
    const nextStart = instantsOfLocalTime(y, m, d, 0, 0, timeZone)[0]!;
    // A clock change inside a repeated hour is a boundary no HH:MM names.
    if (offsetMs(dayStart, timeZone) !== offsetMs(nextStart, timeZone))
      keep(transitionBetween(dayStart, nextStart, timeZone));
    dayStart = nextStart;
  }
  return [...out].sort((a, b) => a - b);
}

const digitsCache = new Map<string, number>();

/** Decimal places of the currency's minor unit (2 for EUR, 0 for JPY). */
export function currencyDigits(currency: string): number {
  let digits = digitsCache.get(currency);
  if (digits === undefined) {
    try {
      digits =
        new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions()
          .maximumFractionDigits ?? 2;
    } catch {
      digits = 2;
    }
    digitsCache.set(currency, digits);
  }
  return digits;
}

/**
 * Rounds `values` to `digits` so that they add up to `total` rounded the same way (largest
 * remainder), so an export's window lines always sum to its total.
 */
export function roundToTotal(values: readonly number[], total: number, digits: number): number[] {
  const scale = 10 ** digits;
  const target = Math.round(total * scale);
  const scaled = values.map((v) => v * scale);
  const floors = scaled.map((v) => Math.floor(v + 1e-9));
  let left = target - floors.reduce((a, b) => a + b, 0);
  const order = scaled
    .map((v, i) => ({ i, frac: v - (floors[i] ?? 0) }))
    .sort((a, b) => (left >= 0 ? b.frac - a.frac : a.frac - b.frac));
  for (let k = 0; left !== 0 && order.length > 0; k = (k + 1) % order.length) {
    const idx = order[k]!.i;
    floors[idx] = (floors[idx] ?? 0) + Math.sign(left);
    left -= Math.sign(left);
  }
  return floors.map((f) => f / scale);
}

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;

/** Energy per window of a session from its meter samples (sorted by time), unrounded. */
export function energyByWindow(
  samples: readonly MeterSample[],
  tariff: Tariff,
  timeZone: string,
): Map<string, number> {
  const windows = compile(tariff);
  const byWindow = new Map<string, number>();
  const add = (name: string, kwh: number) => byWindow.set(name, (byWindow.get(name) ?? 0) + kwh);
  const first = samples[0];
  const last = samples[samples.length - 1];
  if (!first || !last) return byWindow;
  const cuts = boundariesBetween(tariff, first.at, last.at, timeZone);
  let cut = 0;
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1]!;
    const b = samples[i]!;
    const deltaKwh = Math.max(0, b.meterKwh - a.meterKwh);
    const durationMs = b.at - a.at;
    if (durationMs <= 0) {
      if (deltaKwh > 0) add(compiledWindowAt(windows, b.at, timeZone)?.name ?? STANDARD_WINDOW, deltaKwh);
      continue;
    }
    while (cut < cuts.length && cuts[cut]! <= a.at) cut++;
    let pieceStart = a.at;
    for (let c = cut; c <= cuts.length; c++) {
      const pieceEnd = c < cuts.length && cuts[c]! < b.at ? cuts[c]! : b.at;
      // The midpoint decides: no boundary lies inside a piece.
      const name = compiledWindowAt(windows, (pieceStart + pieceEnd) / 2, timeZone)?.name ?? STANDARD_WINDOW;
      add(name, (deltaKwh * (pieceEnd - pieceStart)) / durationMs);
      if (pieceEnd === b.at) break;
      pieceStart = pieceEnd;
    }
  }
  return byWindow;
}

/**
 * What a session cost. Windows appear in tariff order (standard last), each with the energy recorded
 * while it was in force; energy is rounded to Wh and money to the currency's minor unit, so that the
 * window lines add up to the totals.
 */
export function costSession(samples: readonly MeterSample[], tariff: Tariff, timeZone: string): SessionCost {
  const energy = energyByWindow(samples, tariff, timeZone);
  const priceOf = new Map<string, number>([[STANDARD_WINDOW, tariff.pricePerKwh]]);
  for (const w of tariff.windows) if (!priceOf.has(w.name)) priceOf.set(w.name, w.pricePerKwh);
  const names = [...new Set([...tariff.windows.map((w) => w.name), STANDARD_WINDOW])].filter((n) =>
    energy.has(n),
  );
  const kwh = names.map((n) => energy.get(n) ?? 0);
  const money = names.map((n, i) => (kwh[i] ?? 0) * (priceOf.get(n) ?? 0));
  const digits = currencyDigits(tariff.currency);
  const totalKwh = kwh.reduce((a, b) => a + b, 0);
  const energyCost = money.reduce((a, b) => a + b, 0);
  const fee = round(tariff.sessionFee, digits);
  const total = round(tariff.sessionFee + energyCost, digits);
  const kwhRounded = roundToTotal(kwh, totalKwh, 3);
  const moneyRounded = roundToTotal(money, total - fee, digits);
  return {
    currency: tariff.currency,
    total,
    fee,
    energyKwh: round(totalKwh, 3),
    byWindow: names.map((window, i) => ({
      window,
      pricePerKwh: priceOf.get(window) ?? 0,
      energyKwh: kwhRounded[i] ?? 0,
      cost: moneyRounded[i] ?? 0,
    })),
  };
}
