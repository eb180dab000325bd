/**
 * Puts the switching rules (switching-rules.ts) in front of one charger. `guardCharger` returns the
 * charger itself with startCharging, stopCharging and setMaxCurrent going through a SwitchingGuard;
 * everything else (state, events, info, optional capabilities) is the charger's own, so the type
 * guards and any extra method (BLE link counters) answer exactly as they do on the charger.
 *
 * The guard learns when the charger switched from its state changes as well as from the commands it
 * sent, so a start from the vendor app or a station's own schedule opens a window too. Commands are
 * decided one at a time, in order, so two callers cannot slip a start between each other's checks.
 */
import type { Logger } from '../log.js';
import { type Charger, type ChargerState, checkCurrent, type StartChargingOptions } from './charger.js';
import type { Clock, TimerHandle } from './clock.js';
import {
  APPLIED,
  currentHoldReason,
  type HeldResult,
  type SwitchHistory,
  type SwitchingRules,
  type SwitchOutcome,
  startAllowedAt,
  startHoldReason,
} from './switching-rules.js';

interface Held<T> {
  value: T;
  until: number;
  settle: (result: HeldResult) => void;
  settled: Promise<HeldResult>;
}

function held<T>(value: T, until: number): Held<T> {
  let settle: (result: HeldResult) => void = () => {};
  const settled = new Promise<HeldResult>((resolve) => {
    settle = resolve;
  });
  return { value, until, settle, settled };
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Statuses in which a stop still has something to end (a session, or a scheduled start). */
const STOPPABLE = new Set<ChargerState['status']>(['charging', 'suspended', 'scheduled']);
/** Statuses of a running session: stopping one is a switch. */
const STOPPABLE_SESSION = new Set<ChargerState['status']>(['charging', 'suspended']);

export class SwitchingGuard {
  readonly rules: Readonly<SwitchingRules>;
  private readonly inner: Charger;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly history: SwitchHistory = { onAt: null, offAt: null };
  private heldStart: Held<StartChargingOptions> | null = null;
  private heldCurrent: Held<number> | null = null;
  private startTimer: TimerHandle | undefined;
  private currentTimer: TimerHandle | undefined;
  private lastCurrent: { at: number; amps: number } | null = null;
  private tail: Promise<unknown> = Promise.resolve();
  private readonly unsubscribe: () => void;

  constructor(inner: Charger, rules: SwitchingRules, clock: Clock, logger: Logger) {
    this.inner = inner;
    this.rules = { ...rules };
    this.clock = clock;
    this.log = logger.child({ charger: inner.id, component: 'switching' });
    if (rules.minOffMs === 0 && rules.minOnMs === 0) {
      this.log.warn('switching protection is off (min_off_s and min_on_s are 0): every start is obeyed');
    }
    this.unsubscribe = inner.events.on('state', (next, previous) => this.observe(next, previous));
  }

  /** The switch history the rules are measured from (tests, diagnostics). */
  lastSwitches(): Readonly<SwitchHistory> {
    return { ...this.history };
  }

  /** What is waiting for its window, if anything. */
  pending(): { start: { until: number } | null; current: { until: number; amps: number } | null } {
    const start = this.heldStart;
    const current = this.heldCurrent;
    return {
      start: start ? { until: start.until } : null,
      current: current ? { until: current.until, amps: current.value } : null,
    };
  }

  async start(options: StartChargingOptions = {}): Promise<SwitchOutcome> {
    if (options.currentA !== undefined) checkCurrent(options.currentA, this.inner.getCurrentCeilingA());
    return this.serial(async () => {
      const state = this.inner.getState();
      // Offline or already on: the charger answers as it always did; nothing switches.
      if (state.link !== 'online' || state.charging) {
        await this.inner.startCharging(options);
        return APPLIED;
      }
      const now = this.clock.now();
      const allowed = startAllowedAt(this.history, this.rules) ?? now;
      const startAt = options.startAt;
      if (startAt !== undefined && startAt >= allowed) {
        // A reservation that falls outside the window: the charger itself starts later.
        this.replaceHeldStart();
        await this.inner.startCharging(options);
        return APPLIED;
      }
      if (allowed <= now) {
        this.replaceHeldStart();
        await this.inner.startCharging(options);
        this.history.onAt = this.clock.now();
        return APPLIED;
      }
      // The start becomes due when the window opens; a reservation before then means the same.
      const { startAt: _dropped, ...rest } = options;
      return this.holdStart(rest, allowed);
    });
  }

  async stop(): Promise<SwitchOutcome> {
    return this.serial(async () => {
      const withdrawn = this.heldStart !== null;
      if (withdrawn) this.dropHeldStart({ kind: 'cancelled', reason: 'a stop came after it' });
      const state = this.inner.getState();
      if (withdrawn && state.link === 'online' && !state.charging && !STOPPABLE.has(state.status)) {
        // The latest intent is "off" and the charger is off: no frame, no contactor operation.
        this.log.debug('stop: withdrew the held start; the charger stays off');
        return { kind: 'withdrawn', reason: 'the held start was withdrawn; the charger was already off' };
      }
      // Never held back: a stop is the safe direction (see switching-rules.ts).
      await this.inner.stopCharging();
      // A stop of a charger that was off switches nothing and opens no window; one right after our
      // start counts even when the charger has not reported charging yet.
      if (
        state.link === 'online' &&
        (this.believedOn() || STOPPABLE_SESSION.has(state.status) || state.charging)
      )
        this.history.offAt = this.clock.now();
      return APPLIED;
    });
  }

  async setCurrent(amps: number): Promise<SwitchOutcome> {
    checkCurrent(amps, this.inner.getCurrentCeilingA());
    return this.serial(async () => {
      const now = this.clock.now();
      const last = this.lastCurrent;
      const opensAt = last === null ? now : last.at + this.rules.currentSettleMs;
      if (this.inner.getState().link !== 'online' || (opensAt <= now && this.heldCurrent === null)) {
        await this.sendCurrent(amps);
        return APPLIED;
      }
      return this.holdCurrent(amps, Math.max(opensAt, now));
    });
  }

  /** Drops whatever is held (the charger is being closed) and stops following it. */
  close(): void {
    this.unsubscribe();
    this.dropHeldStart({ kind: 'cancelled', reason: 'the charger was closed' });
    this.dropHeldCurrent({ kind: 'cancelled', reason: 'the charger was closed' });
  }

  // ---- held commands --------------------------------------------------------------------------

  private holdStart(options: StartChargingOptions, until: number): SwitchOutcome {
    const previous = this.heldStart;
    const next = held(options, until);
    this.heldStart = next;
    if (previous) previous.settle({ kind: 'replaced' });
    else this.log.info({ until: new Date(until).toISOString() }, 'start held for contactor protection');
    this.armStartTimer(until);
    return { kind: 'deferred', until, reason: startHoldReason(this.rules), settled: next.settled };
  }

  private armStartTimer(at: number): void {
    this.clock.clearTimeout(this.startTimer);
    this.startTimer = this.clock.setTimeout(
      () => {
        this.startTimer = undefined;
        this.serial(() => this.releaseStart()).catch((err: unknown) =>
          this.log.error({ err: errorText(err) }, 'releasing the held start failed'),
        );
      },
      Math.max(0, at - this.clock.now()),
    );
  }

  private async releaseStart(): Promise<void> {
    const waiting = this.heldStart;
    if (!waiting) return;
    // The charger may have switched on and off again meanwhile: the window moves with it.
    const allowed = startAllowedAt(this.history, this.rules);
    if (allowed !== null && allowed > this.clock.now()) {
      waiting.until = allowed;
      this.armStartTimer(allowed);
      return;
    }
    this.heldStart = null;
    if (this.inner.getState().charging) {
      waiting.settle({ kind: 'unneeded' });
      return;
    }
    try {
      await this.inner.startCharging(waiting.value);
      this.history.onAt = this.clock.now();
      this.log.info('held start carried out');
      waiting.settle({ kind: 'applied' });
    } catch (err) {
      this.log.warn({ err: errorText(err) }, 'held start failed');
      waiting.settle({ kind: 'failed', error: errorText(err) });
    }
  }

  private replaceHeldStart(): void {
    this.dropHeldStart({ kind: 'replaced' });
  }

  private dropHeldStart(result: HeldResult): void {
    const waiting = this.heldStart;
    if (!waiting) return;
    this.heldStart = null;
    this.clock.clearTimeout(this.startTimer);
    this.startTimer = undefined;
    waiting.settle(result);
  }

  private holdCurrent(amps: number, until: number): SwitchOutcome {
    const previous = this.heldCurrent;
    const next = held(amps, until);
    this.heldCurrent = next;
    if (previous) previous.settle({ kind: 'replaced' });
    else {
      this.clock.clearTimeout(this.currentTimer);
      this.currentTimer = this.clock.setTimeout(() => {
        this.currentTimer = undefined;
        this.serial(() => this.releaseCurrent()).catch((err: unknown) =>
          this.log.error({ err: errorText(err) }, 'releasing the merged current failed'),
        );
      }, until - this.clock.now());
    }
    this.log.debug({ currentA: amps, until: new Date(until).toISOString() }, 'current change merged');
    return { kind: 'deferred', until, reason: currentHoldReason(this.rules), settled: next.settled };
  }

  private async releaseCurrent(): Promise<void> {
    const waiting = this.heldCurrent;
    if (!waiting) return;
    this.heldCurrent = null;
    const amps = waiting.value;
    if (this.lastCurrent?.amps === amps && this.inner.getState().maxCurrentA === amps) {
      waiting.settle({ kind: 'unneeded' });
      return;
    }
    try {
      await this.sendCurrent(amps);
      waiting.settle({ kind: 'applied' });
    } catch (err) {
      this.log.warn({ err: errorText(err), currentA: amps }, 'merged current change failed');
      waiting.settle({ kind: 'failed', error: errorText(err) });
    }
  }

  private async sendCurrent(amps: number): Promise<void> {
    // Counted from the send: a slow answer must not open the window for a second frame.
    if (this.inner.getState().link === 'online') this.lastCurrent = { at: this.clock.now(), amps };
    await this.inner.setMaxCurrent(amps);
  }

  private dropHeldCurrent(result: HeldResult): void {
    const waiting = this.heldCurrent;
    if (!waiting) return;
    this.heldCurrent = null;
    this.clock.clearTimeout(this.currentTimer);
    this.currentTimer = undefined;
    waiting.settle(result);
  }

  // ---- what the charger did -------------------------------------------------------------------

  /** The last switch we know of was on. */
  private believedOn(): boolean {
    const { onAt, offAt } = this.history;
    return onAt !== null && (offAt === null || onAt > offAt);
  }

  private observe(next: ChargerState, previous: ChargerState): void {
    // A login or a lost link is not a switch: the charger may have been charging all along.
    if (next.link !== 'online' || previous.link !== 'online') return;
    const now = this.clock.now();
    if (!previous.charging && next.charging) {
      this.history.onAt = now;
      // Switched on by someone else (app, RFID, the station's schedule): the held start is done.
      this.dropHeldStart({ kind: 'unneeded' });
    } else if (previous.charging && !next.charging) {
      this.history.offAt = now;
    }
  }

  /** One decision at a time, in arrival order; a failed job does not block the next. */
  private serial<T>(job: () => Promise<T>): Promise<T> {
    const run = this.tail.then(job, job);
    this.tail = run.catch(() => undefined);
    return run;
  }
}

const GUARD = Symbol('chargebridge.switchingGuard');

/**
 * `inner` with its switching commands behind the rules. Functions are bound to `inner`, so the
 * charger's own calls (a BS20 lowering its current to the ceiling at login) stay its own business.
 * Guarding a guarded charger returns it unchanged.
 */
export function guardCharger<T extends Charger>(
  inner: T,
  rules: SwitchingRules,
  clock: Clock,
  logger: Logger,
): T {
  if (switchingGuardOf(inner)) return inner;
  const guard = new SwitchingGuard(inner, rules, clock, logger);
  const own: Partial<Record<PropertyKey, unknown>> = {
    [GUARD]: guard,
    startCharging: async (options?: StartChargingOptions) => {
      await guard.start(options);
    },
    stopCharging: async () => {
      await guard.stop();
    },
    setMaxCurrent: async (amps: number) => {
      await guard.setCurrent(amps);
    },
    close: async () => {
      guard.close();
      await inner.close();
    },
  };
  const bound = new Map<PropertyKey, unknown>();
  return new Proxy(inner, {
    get(target, prop) {
      if (Object.hasOwn(own, prop)) return own[prop];
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      let fn = bound.get(prop);
      if (fn === undefined) {
        fn = (value as (...args: unknown[]) => unknown).bind(target);
        bound.set(prop, fn);
      }
      return fn;
    },
  });
}

/** The guard in front of `charger`, or null for a charger used as it is (tests, tools). */
export function switchingGuardOf(charger: Charger): SwitchingGuard | null {
  const guard = (charger as unknown as Record<PropertyKey, unknown>)[GUARD];
  return guard instanceof SwitchingGuard ? guard : null;
}

/** Starts `charger` and says whether it happened now; an unguarded charger always answers `applied`. */
export async function requestStart(charger: Charger, options?: StartChargingOptions): Promise<SwitchOutcome> {
  const guard = switchingGuardOf(charger);
  if (guard) return guard.start(options);
  await charger.startCharging(options);
  return APPLIED;
}

export async function requestStop(charger: Charger): Promise<SwitchOutcome> {
  const guard = switchingGuardOf(charger);
  if (guard) return guard.stop();
  await charger.stopCharging();
  return APPLIED;
}

export async function requestCurrent(charger: Charger, amps: number): Promise<SwitchOutcome> {
  const guard = switchingGuardOf(charger);
  if (guard) return guard.setCurrent(amps);
  await charger.setMaxCurrent(amps);
  return APPLIED;
}
