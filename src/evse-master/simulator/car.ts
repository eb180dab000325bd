/** The simulated car at the plug: how much current it asks for, and a battery that can fill up. */

export interface CarOptions {
  /** Current per phase the car draws when the charger allows it (default 32 A). */
  demandA?: number;
  /** Usable battery; null = never gets full (default null). */
  batteryKwh?: number | null;
  /** State of charge when plugged in (default 50 %). */
  socPercent?: number;
  /** The car starts drawing this long after charging begins (default 0). */
  startDelayMs?: number;
}

export class SimulatedCar {
  demandA: number;
  readonly startDelayMs: number;
  private readonly capacityWh: number | null;
  private storedWh: number;

  constructor(options: CarOptions = {}) {
    const capacityKwh = options.batteryKwh ?? null;
    const soc = options.socPercent ?? 50;
    if (!Number.isFinite(soc) || soc < 0 || soc > 100)
      throw new RangeError(`socPercent must be 0..100, got ${soc}`);
    this.demandA = nonNegative(options.demandA ?? 32, 'demandA');
    this.startDelayMs = nonNegative(options.startDelayMs ?? 0, 'startDelayMs');
    this.capacityWh = capacityKwh === null ? null : nonNegative(capacityKwh, 'batteryKwh') * 1000;
    this.storedWh = this.capacityWh === null ? 0 : (this.capacityWh * soc) / 100;
  }

  setDemand(demandA: number): void {
    this.demandA = nonNegative(demandA, 'demandA');
  }

  /** Energy the battery still takes (Infinity without a battery model). */
  roomWh(): number {
    return this.capacityWh === null ? Number.POSITIVE_INFINITY : Math.max(0, this.capacityWh - this.storedWh);
  }

  socPercent(): number | null {
    return this.capacityWh ? (this.storedWh / this.capacityWh) * 100 : null;
  }

  charge(wh: number): void {
    this.storedWh += wh;
  }
}

export function nonNegative(value: number, what: string): number {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`${what} must be >= 0, got ${value}`);
  return value;
}
