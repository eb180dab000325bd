/**
 * Energy and cost per charger for today and this month (local to the configured zone). A session
 * that crosses midnight or a month end is split by its samples; its cost follows its energy share, so
 * the months of a long session add up to its total. Closed sessions are cached per period until the
 * store changes; the open session is added live.
 */

import {
  startOfLocalDay,
  startOfLocalMonth,
  startOfNextLocalDay,
  startOfNextLocalMonth,
} from '../core/zoned-time.js';
import type { SessionRecord } from './record.js';
import { energyWithin } from './samples.js';
import type { SessionStore } from './store.js';
import type { MeterSample } from './tariff.js';

export interface PeriodTotals {
  energyKwh: number;
  /** null when no session in the period has a cost (no tariff configured). */
  cost: number | null;
}

export interface ChargerTotals {
  energyTodayKwh: number;
  energyMonthKwh: number;
  costMonth: number | null;
}

/** A session's part of [fromMs, toMs): its energy there, and the same share of its cost. */
export function sessionShare(
  samples: readonly MeterSample[],
  startedAt: number,
  totalCost: number | null,
  fromMs: number,
  toMs: number,
): PeriodTotals {
  const first = samples[0];
  const last = samples.at(-1);
  const sessionKwh = first && last ? Math.max(0, last.meterKwh - first.meterKwh) : 0;
  const energyKwh = energyWithin(samples, fromMs, toMs);
  let cost: number | null = null;
  if (totalCost !== null) {
    // Without energy (only a fee) the session's cost belongs to the period it started in.
    const share = sessionKwh > 0 ? energyKwh / sessionKwh : startedAt >= fromMs && startedAt < toMs ? 1 : 0;
    cost = totalCost * share;
  }
  return { energyKwh, cost };
}

function add(a: PeriodTotals, b: PeriodTotals): PeriodTotals {
  return {
    energyKwh: a.energyKwh + b.energyKwh,
    cost: a.cost === null && b.cost === null ? null : (a.cost ?? 0) + (b.cost ?? 0),
  };
}

const EMPTY: PeriodTotals = { energyKwh: 0, cost: null };

export class SessionTotals {
  private readonly cache = new Map<string, PeriodTotals>();
  private cachedVersion = -1;

  constructor(
    private readonly store: SessionStore,
    private readonly timeZone: string,
  ) {}

  /** Closed sessions of a charger in [fromMs, toMs). */
  closedWithin(chargerId: string, fromMs: number, toMs: number): PeriodTotals {
    if (this.cachedVersion !== this.store.version) {
      this.cache.clear();
      this.cachedVersion = this.store.version;
    }
    const key = `${chargerId}|${fromMs}|${toMs}`;
    const hit = this.cache.get(key);
    if (hit) return hit;
    let totals = EMPTY;
    for (const record of this.store.query({ chargerId, fromMs, toMs })) {
      totals = add(
        totals,
        sessionShare(record.samples, record.startedAt, record.cost?.total ?? null, fromMs, toMs),
      );
    }
    this.cache.set(key, totals);
    return totals;
  }

  /**
   * Today and this month for a charger, with the open session (its samples up to now and its cost so
   * far) added when given.
   */
  forCharger(
    chargerId: string,
    nowMs: number,
    open: { record: SessionRecord; samples: readonly MeterSample[]; cost: number | null } | null,
  ): ChargerTotals {
    const dayFrom = startOfLocalDay(nowMs, this.timeZone);
    const dayTo = startOfNextLocalDay(nowMs, this.timeZone);
    const monthFrom = startOfLocalMonth(nowMs, this.timeZone);
    const monthTo = startOfNextLocalMonth(nowMs, this.timeZone);
    let today = this.closedWithin(chargerId, dayFrom, dayTo);
    let month = this.closedWithin(chargerId, monthFrom, monthTo);
    if (open) {
      today = add(today, sessionShare(open.samples, open.record.startedAt, open.cost, dayFrom, dayTo));
      month = add(month, sessionShare(open.samples, open.record.startedAt, open.cost, monthFrom, monthTo));
    }
    return { energyTodayKwh: today.energyKwh, energyMonthKwh: month.energyKwh, costMonth: month.cost };
  }
}
