/**
 * At most one log line per key and interval for things a misbehaving peer can repeat at will (wrong
 * tokens, garbage frames): the first is logged at once, later ones are counted into the next line, so
 * a flood shows as one line a minute with a number instead of filling the journal.
 */
import type { Clock } from './clock.js';

export class LogThrottle {
  private readonly byKey = new Map<string, { lastLogAt: number; count: number }>();

  constructor(
    private readonly clock: Clock,
    private readonly intervalMs = 60_000,
  ) {}

  /** Counts one occurrence; returns how many to report now (this one included), or null to stay quiet. */
  take(key: string): number | null {
    const now = this.clock.now();
    const entry = this.byKey.get(key) ?? { lastLogAt: Number.NEGATIVE_INFINITY, count: 0 };
    entry.count++;
    this.byKey.set(key, entry);
    if (now - entry.lastLogAt < this.intervalMs) return null;
    const count = entry.count;
    entry.lastLogAt = now;
    entry.count = 0;
    return count;
  }

  /** Forgets a key (a station that went away), so the map does not grow with every identity seen. */
  forget(key: string): void {
    this.byKey.delete(key);
  }
}
