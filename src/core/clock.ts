/**
 * Time is injected everywhere so keep-alives, timeouts, reconnect backoff, sessions and schedules
 * can be tested without sleeping. Production uses `systemClock`; tests use `ManualClock`.
 */
export interface TimerHandle {
  readonly id: number;
}

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
  setInterval(fn: () => void, ms: number): TimerHandle;
  clearInterval(handle: TimerHandle | undefined): void;
}

let nextRealId = 1;

class SystemClock implements Clock {
  private readonly timers = new Map<number, NodeJS.Timeout>();

  now(): number {
    return Date.now();
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = nextRealId++;
    const t = setTimeout(() => {
      this.timers.delete(id);
      fn();
    }, ms);
    this.timers.set(id, t);
    return { id };
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (!handle) return;
    const t = this.timers.get(handle.id);
    if (t) clearTimeout(t);
    this.timers.delete(handle.id);
  }

  setInterval(fn: () => void, ms: number): TimerHandle {
    const id = nextRealId++;
    this.timers.set(id, setInterval(fn, ms));
    return { id };
  }

  clearInterval(handle: TimerHandle | undefined): void {
    if (!handle) return;
    const t = this.timers.get(handle.id);
    if (t) clearInterval(t);
    this.timers.delete(handle.id);
  }
}

export const systemClock: Clock = new SystemClock();

interface ManualTimer {
  id: number;
  due: number;
  fn: () => void;
  everyMs: number | null;
}

/**
 * A clock that only moves when told to. `advance(ms)` fires every timer that falls due, in order,
 * and lets pending promise callbacks run between timers so async code sees a realistic sequence.
 */
export class ManualClock implements Clock {
  private current: number;
  private seq = 1;
  private timers: ManualTimer[] = [];

  constructor(startMs: number = Date.UTC(2026, 0, 15, 12, 0, 0)) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer = { id: this.seq++, due: this.current + Math.max(0, ms), fn, everyMs: null };
    this.timers.push(timer);
    return { id: timer.id };
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (!handle) return;
    this.timers = this.timers.filter((t) => t.id !== handle.id);
  }

  setInterval(fn: () => void, ms: number): TimerHandle {
    const every = Math.max(1, ms);
    const timer = { id: this.seq++, due: this.current + every, fn, everyMs: every };
    this.timers.push(timer);
    return { id: timer.id };
  }

  clearInterval(handle: TimerHandle | undefined): void {
    this.clearTimeout(handle);
  }

  /** Number of timers still scheduled (handy to assert nothing leaks). */
  pendingTimers(): number {
    return this.timers.length;
  }

  /** Move time forward by `ms`, firing due timers in order and flushing microtasks between them. */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    await flushMicrotasks();
    for (;;) {
      const next = this.nextDue();
      if (!next || next.due > target) break;
      this.current = next.due;
      if (next.everyMs !== null) next.due += next.everyMs;
      else this.timers = this.timers.filter((t) => t !== next);
      next.fn();
      await flushMicrotasks();
    }
    this.current = target;
    await flushMicrotasks();
  }

  /** Jump the wall clock without firing timers (e.g. a daemon restarted later). */
  set(ms: number): void {
    this.current = ms;
  }

  private nextDue(): ManualTimer | undefined {
    let best: ManualTimer | undefined;
    for (const t of this.timers) if (!best || t.due < best.due) best = t;
    return best;
  }
}

/** Let queued promise callbacks (and the I/O-free work they trigger) run. */
export async function flushMicrotasks(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
  await new Promise<void>((resolve) => setImmediate(resolve));
}
