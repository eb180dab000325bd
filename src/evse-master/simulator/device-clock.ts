/**
 * The charger's own real-time clock: the injected clock plus a skew (real units drift by weeks, Q7),
 * read and written as EM timestamps (§5).
 */
import type { Clock } from '../../core/clock.js';
import { emToUnixMs, unixMsToEm } from '../protocol/time.js';

export class DeviceClock {
  constructor(
    private readonly clock: Clock,
    private readonly timeZone: string | undefined,
    public skewMs = 0,
  ) {}

  nowMs(): number {
    return this.clock.now() + this.skewMs;
  }

  /** "Now" as the charger writes it into frames. */
  nowEm(): number {
    return this.toEm(this.nowMs());
  }

  /** Device time → EM; 0 (unset) for an instant the u32 cannot hold. */
  toEm(deviceMs: number): number {
    try {
      return unixMsToEm(deviceMs, this.timeZone);
    } catch {
      return 0;
    }
  }

  /** EM → device time, null for unset values. */
  fromEm(raw: number): number | null {
    return emToUnixMs(raw, this.timeZone);
  }

  /** Device time → the injected clock's time (to schedule timers). */
  toClockMs(deviceMs: number): number {
    return deviceMs - this.skewMs;
  }

  /** Sets the device clock from an EM timestamp (0x8101 SET). False for unset values. */
  setFromEm(raw: number): boolean {
    const ms = this.fromEm(raw);
    if (ms === null) return false;
    this.skewMs = ms - this.clock.now();
    return true;
  }
}
