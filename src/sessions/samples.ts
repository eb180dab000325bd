/**
 * The lifetime register sampled through a session, bounded. A charger reports every few seconds; we
 * keep one reading per interval (5 min by default), the readings on both sides of every tariff window
 * change and local midnight (so costs and daily totals split where the price changed), and the last
 * flat reading before the meter starts moving again (so idle time is never smeared into energy).
 * Between two kept readings energy is taken as linear, and only there.
 */
import type { MeterSample } from './tariff.js';

export const DEFAULT_SAMPLE_INTERVAL_MS = 5 * 60_000;

export interface SampleKeeperOptions {
  intervalMs?: number;
  /** Changes value where a split matters (tariff window, local day). */
  periodOf?: (epochMs: number) => string;
}

export class SampleKeeper {
  private readonly kept: MeterSample[];
  /** The latest reading not (yet) kept. */
  private pending: MeterSample | null = null;
  private readonly intervalMs: number;
  private readonly periodOf: (epochMs: number) => string;
  /** periodOf(last kept reading), remembered: it is asked for at every reading. */
  private keptPeriod: { at: number; period: string } | null = null;

  constructor(initial: readonly MeterSample[], options: SampleKeeperOptions = {}) {
    this.kept = initial.map((s) => ({ ...s }));
    this.intervalMs = options.intervalMs ?? DEFAULT_SAMPLE_INTERVAL_MS;
    this.periodOf = options.periodOf ?? (() => '');
  }

  /** The latest reading, kept or not. */
  get last(): MeterSample | null {
    return this.pending ?? this.kept.at(-1) ?? null;
  }

  /** Kept readings plus the latest one: what goes to disk and into a live cost. */
  snapshot(): MeterSample[] {
    const out = this.kept.map((s) => ({ ...s }));
    if (this.pending) out.push({ ...this.pending });
    return out;
  }

  /**
   * Takes a reading; returns true when something was kept (time to persist). Readings going back in
   * time or down in energy are ignored: the register never goes down.
   */
  observe(sample: MeterSample): boolean {
    const lastKept = this.kept.at(-1);
    if (!lastKept) {
      this.kept.push({ ...sample });
      return true;
    }
    const latest = this.pending ?? lastKept;
    if (sample.at < latest.at || sample.meterKwh < latest.meterKwh) return false;
    const pending = this.pending;
    let keptSomething = false;
    const keep = (s: MeterSample) => {
      if (this.kept.at(-1)?.at === s.at) return;
      this.kept.push({ ...s });
      keptSomething = true;
    };
    if (this.keptPeriod?.at !== lastKept.at)
      this.keptPeriod = { at: lastKept.at, period: this.periodOf(lastKept.at) };
    if (this.periodOf(sample.at) !== this.keptPeriod.period) {
      // Both sides of the change, so only the few seconds between them are interpolated.
      if (pending) keep(pending);
      keep(sample);
    } else if (
      pending &&
      pending.meterKwh === lastKept.meterKwh &&
      sample.meterKwh > pending.meterKwh &&
      pending.at - lastKept.at >= this.intervalMs
    ) {
      // The meter moves again after standing still for a while: the last flat reading marks where.
      // (Shorter flat spells are the register's 10 Wh steps at low power, not idle time.)
      keep(pending);
    } else if (sample.at - lastKept.at >= this.intervalMs && sample.meterKwh !== lastKept.meterKwh) {
      keep(sample);
    }
    this.pending = keptSomething && this.kept.at(-1)?.at === sample.at ? null : { ...sample };
    return keptSomething;
  }

  /** An earlier start than the first reading (a session joined late): it becomes the first. */
  startEarlier(start: MeterSample): void {
    const first = this.kept[0];
    if (first && (start.at > first.at || start.meterKwh > first.meterKwh)) return;
    if (first?.at === start.at) this.kept[0] = { ...start };
    else this.kept.unshift({ ...start });
    this.keptPeriod = null;
  }

  /** Closes the series with the final reading (replacing a pending one). */
  finish(final: MeterSample): MeterSample[] {
    this.pending = null;
    const lastKept = this.kept.at(-1);
    if (!lastKept || final.at > lastKept.at) this.kept.push({ ...final });
    else if (final.at === lastKept.at) this.kept[this.kept.length - 1] = { ...final };
    return this.snapshot();
  }
}

/**
 * Energy recorded in [fromMs, toMs) according to the samples, linear between two samples. Used to
 * split sessions over days and months.
 */
export function energyWithin(samples: readonly MeterSample[], fromMs: number, toMs: number): number {
  let total = 0;
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1]!;
    const b = samples[i]!;
    const delta = Math.max(0, b.meterKwh - a.meterKwh);
    if (delta === 0 || b.at <= fromMs || a.at >= toMs) continue;
    if (b.at === a.at) {
      total += delta;
      continue;
    }
    const overlap = Math.min(b.at, toMs) - Math.max(a.at, fromMs);
    if (overlap > 0) total += (delta * overlap) / (b.at - a.at);
  }
  return total;
}
