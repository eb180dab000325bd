/**
 * The switching guard on its own, in front of a small charger that switches the moment it is told:
 * what reaches the charger, when, and what the callers hear. Time is a ManualClock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  type Charger,
  ChargerCommandError,
  type ChargerEvents,
  type ChargerInfo,
  type ChargerState,
  emptyState,
  isClocked,
  isConfigurable,
  isRestartable,
  type StartChargingOptions,
} from '../../src/core/charger.js';
import { ManualClock } from '../../src/core/clock.js';
import { TypedEmitter } from '../../src/core/emitter.js';
import {
  guardCharger,
  requestCurrent,
  requestStart,
  requestStop,
  switchingGuardOf,
} from '../../src/core/switching-guard.js';
import {
  DEFAULT_SWITCHING_RULES,
  type HeldResult,
  type SwitchingRules,
  type SwitchOutcome,
  startAllowedAt,
  switchingRulesFrom,
} from '../../src/core/switching-rules.js';
import { silentLogger } from '../../src/log.js';

const S = 1000;

/** A charger whose contactor follows every command at once; it counts the commands it got. */
class RelayCharger implements Charger {
  readonly id = 'garage';
  readonly name = 'Garage';
  readonly kind = 'bs20' as const;
  readonly events = new TypedEmitter<ChargerEvents>();
  readonly calls: Array<{ method: 'start' | 'stop' | 'current'; at: number; arg?: unknown }> = [];
  state: ChargerState;
  refuseStart: string | null = null;
  /** Reports its switches only when the test says so (a BS20 reports every few seconds). */
  lagging = false;

  constructor(private readonly clock: ManualClock) {
    this.state = { ...emptyState(clock.now()), link: 'online', status: 'plugged', plugged: true };
  }

  getState(): ChargerState {
    return this.state;
  }

  getInfo(): ChargerInfo {
    return {
      manufacturer: 'Test',
      model: 'Relay',
      serialNumber: null,
      firmwareVersion: null,
      hardwareVersion: null,
      phases: 1,
      hardwareMaxCurrentA: 32,
      maxPowerW: null,
      bleAddress: null,
    };
  }

  getCurrentCeilingA(): number {
    return 16;
  }

  async open(): Promise<void> {}
  async close(): Promise<void> {}

  async startCharging(options?: StartChargingOptions): Promise<void> {
    if (this.state.link !== 'online') throw new ChargerCommandError('offline', 'not connected');
    if (this.refuseStart) throw new ChargerCommandError('rejected', this.refuseStart);
    this.calls.push({ method: 'start', at: this.clock.now(), arg: options });
    if (options?.startAt === undefined && !this.lagging) this.set({ charging: true, status: 'charging' });
  }

  async stopCharging(): Promise<void> {
    if (this.state.link !== 'online') throw new ChargerCommandError('offline', 'not connected');
    this.calls.push({ method: 'stop', at: this.clock.now() });
    if (!this.lagging) this.set({ charging: false, status: this.state.plugged ? 'finished' : 'available' });
  }

  async setMaxCurrent(amps: number): Promise<void> {
    if (this.state.link !== 'online') throw new ChargerCommandError('offline', 'not connected');
    this.calls.push({ method: 'current', at: this.clock.now(), arg: amps });
    this.set({ maxCurrentA: amps });
  }

  /** A change the charger reports by itself (vendor app, RFID card, the car). */
  set(patch: Partial<ChargerState>): void {
    const previous = this.state;
    this.state = { ...previous, ...patch, updatedAt: this.clock.now() };
    this.events.emit('state', this.state, previous);
  }

  count(method: 'start' | 'stop' | 'current'): number {
    return this.calls.filter((c) => c.method === method).length;
  }
}

const clocks: ManualClock[] = [];
afterEach(() => {
  for (const clock of clocks.splice(0)) expect(clock.pendingTimers()).toBe(0);
});

function rig(rules: SwitchingRules = DEFAULT_SWITCHING_RULES) {
  const clock = new ManualClock(Date.UTC(2026, 0, 15, 12, 0, 0));
  clocks.push(clock);
  const relay = new RelayCharger(clock);
  const charger = guardCharger(relay, rules, clock, silentLogger());
  return { clock, relay, charger, t0: clock.now() };
}

function deferred(outcome: SwitchOutcome): Extract<SwitchOutcome, { kind: 'deferred' }> {
  if (outcome.kind !== 'deferred') throw new Error(`expected deferred, got ${outcome.kind}`);
  return outcome;
}

describe('startAllowedAt', () => {
  const rules = { minOffMs: 60 * S, minOnMs: 60 * S, currentSettleMs: 2 * S };

  it('is free before any stop, min_off after a stop, and min_on + min_off after a short session', () => {
    expect(startAllowedAt({ onAt: null, offAt: null }, rules)).toBeNull();
    expect(startAllowedAt({ onAt: 0, offAt: 600 * S }, rules)).toBe(660 * S);
    expect(startAllowedAt({ onAt: 0, offAt: 5 * S }, rules)).toBe(120 * S);
    // A start after the last stop is not the one the stop ended.
    expect(startAllowedAt({ onAt: 10 * S, offAt: 5 * S }, rules)).toBe(65 * S);
    expect(startAllowedAt({ onAt: 0, offAt: 5 * S }, { ...rules, minOnMs: 0 })).toBe(65 * S);
  });

  it('reads the configuration in seconds, defaults for unset keys', () => {
    expect(switchingRulesFrom(undefined)).toEqual(DEFAULT_SWITCHING_RULES);
    expect(switchingRulesFrom({ minOffS: 120, currentSettleMs: 0 })).toEqual({
      minOffMs: 120 * S,
      minOnMs: 60 * S,
      currentSettleMs: 0,
    });
  });
});

describe('guardCharger forwards the charger', () => {
  class Configurable extends RelayCharger {
    renamedTo: string | null = null;
    private readonly secret = 'own field';
    async setName(name: string): Promise<void> {
      this.renamedTo = `${name} (${this.secret})`;
    }
    async setLanguage(): Promise<void> {}
    async setTemperatureUnit(): Promise<void> {}
    async syncClock(): Promise<void> {}
    linkCounters(): { reconnects: number } {
      return { reconnects: 3 };
    }
  }
  class Restartable extends RelayCharger {
    async restart(): Promise<void> {}
  }

  it('answers the capability guards exactly as the charger does, and keeps its own methods', async () => {
    const clock = new ManualClock();
    const inner = new Configurable(clock);
    const charger = guardCharger(inner, DEFAULT_SWITCHING_RULES, clock, silentLogger());
    expect([isConfigurable(charger), isClocked(charger), isRestartable(charger)]).toEqual([
      true,
      true,
      false,
    ]);
    const station = guardCharger(new Restartable(clock), DEFAULT_SWITCHING_RULES, clock, silentLogger());
    expect([isConfigurable(station), isClocked(station), isRestartable(station)]).toEqual([
      false,
      false,
      true,
    ]);
    const plain = guardCharger(new RelayCharger(clock), DEFAULT_SWITCHING_RULES, clock, silentLogger());
    expect([isConfigurable(plain), isClocked(plain), isRestartable(plain)]).toEqual([false, false, false]);

    expect(charger).toBeInstanceOf(Configurable);
    expect([charger.id, charger.name, charger.kind]).toEqual(['garage', 'Garage', 'bs20']);
    expect(charger.events).toBe(inner.events);
    expect(charger.getState()).toBe(inner.getState());
    expect(charger.linkCounters()).toEqual({ reconnects: 3 });
    await charger.setName('Carport');
    expect(inner.renamedTo).toBe('Carport (own field)');
    expect(guardCharger(charger, DEFAULT_SWITCHING_RULES, clock, silentLogger())).toBe(charger);
    expect(switchingGuardOf(charger)).not.toBeNull();
    expect(switchingGuardOf(inner)).toBeNull();
  });

  it('rate-limits the Charger methods themselves, not only the request helpers', async () => {
    const { clock, relay, charger } = rig();
    await charger.startCharging();
    await charger.stopCharging();
    await charger.startCharging();
    expect(relay.count('start')).toBe(1);
    await clock.advance(120 * S);
    expect(relay.count('start')).toBe(2);
    await charger.close();
  });
});

describe('switching rules', () => {
  it('196 alternating commands in 10 s: one start and one stop reach the charger; the last intent wins', async () => {
    const { clock, relay, charger, t0 } = rig();
    const outcomes: SwitchOutcome[] = [];
    for (let i = 0; i < 196; i++) {
      outcomes.push(await (i % 2 === 0 ? requestStart(charger) : requestStop(charger)));
      await clock.advance(51);
    }
    expect(clock.now() - t0).toBeLessThanOrEqual(10 * S);
    expect(relay.count('start')).toBe(1);
    expect(relay.count('stop')).toBe(1);
    expect(outcomes.filter((o) => o.kind === 'deferred')).toHaveLength(97);
    expect(outcomes.filter((o) => o.kind === 'withdrawn')).toHaveLength(97);
    // The last command was OFF: nothing more happens when the window opens.
    await clock.advance(10 * 60 * S);
    expect(relay.calls.map((c) => c.method)).toEqual(['start', 'stop']);
    expect(relay.getState().charging).toBe(false);
  });

  it('the same hammering ending on ON starts the charger once, when the window opens', async () => {
    const { clock, relay, charger, t0 } = rig();
    let last: SwitchOutcome | null = null;
    for (let i = 0; i < 197; i++) {
      last = await (i % 2 === 0 ? requestStart(charger) : requestStop(charger));
      await clock.advance(50);
    }
    const held = deferred(last!);
    // Stopped 50 ms after it started: the pause is min_off plus the min_on it did not run.
    expect(held.until).toBe(t0 + 120 * S);
    expect(relay.count('start')).toBe(1);
    await clock.advance(held.until - clock.now() - 1);
    expect(relay.count('start')).toBe(1);
    await clock.advance(1);
    expect(await held.settled).toEqual({ kind: 'applied' });
    expect(relay.calls.map((c) => [c.method, c.at - t0])).toEqual([
      ['start', 0],
      ['stop', 50],
      ['start', 120 * S],
    ]);
    expect(relay.getState().charging).toBe(true);
    await charger.close();
  });

  it('a stop is never held: it reaches the charger right after a start', async () => {
    const { clock, relay, charger, t0 } = rig();
    expect(await requestStart(charger)).toEqual({ kind: 'applied' });
    await clock.advance(1);
    expect(await requestStop(charger)).toEqual({ kind: 'applied' });
    expect(relay.calls.map((c) => [c.method, c.at - t0])).toEqual([
      ['start', 0],
      ['stop', 1],
    ]);
  });

  it('a stop right after our start counts even before the charger reports charging', async () => {
    const { relay, charger } = rig();
    relay.lagging = true;
    await requestStart(charger);
    await requestStop(charger);
    expect((await requestStart(charger)).kind).toBe('deferred');
    expect(relay.calls.map((c) => c.method)).toEqual(['start', 'stop']);
    await charger.close();
  });

  it('a stop of a charger that is off opens no window', async () => {
    const { relay, charger } = rig();
    await requestStop(charger);
    expect(await requestStart(charger)).toEqual({ kind: 'applied' });
    expect(relay.calls.map((c) => c.method)).toEqual(['stop', 'start']);
  });

  it('a start inside the window is held and the latest start wins; a stop inside it withdraws it', async () => {
    const { clock, relay, charger } = rig();
    relay.set({ charging: true, status: 'charging' });
    await clock.advance(10 * 60 * S);
    await requestStop(charger);
    const stoppedAt = clock.now();
    const first = deferred(await requestStart(charger, { currentA: 10 }));
    expect(first.until).toBe(stoppedAt + 60 * S);
    expect(first.reason).toMatch(/contactor protection: a start waits 60 s after the charger switched off/);
    await clock.advance(5 * S);
    const second = deferred(await requestStart(charger, { currentA: 12 }));
    expect(second.until).toBe(first.until);
    expect(await first.settled).toEqual({ kind: 'replaced' });
    await clock.advance(60 * S);
    expect(await second.settled).toEqual({ kind: 'applied' });
    expect(relay.calls.filter((c) => c.method === 'start').map((c) => c.arg)).toEqual([{ currentA: 12 }]);

    // Start then stop inside the next window: nothing reaches the charger at all.
    await clock.advance(10 * 60 * S);
    await requestStop(charger);
    const calls = relay.calls.length;
    const third = deferred(await requestStart(charger));
    const stop = await requestStop(charger);
    expect(stop.kind).toBe('withdrawn');
    expect(await third.settled).toEqual({ kind: 'cancelled', reason: 'a stop came after it' });
    await clock.advance(5 * 60 * S);
    expect(relay.calls.length).toBe(calls);
  });

  it('measures from what the charger did: a start and stop from outside open the window too', async () => {
    const { clock, relay, charger } = rig();
    // The vendor app starts the charge; 10 s later the car is done.
    relay.set({ charging: true, status: 'charging' });
    const onAt = clock.now();
    await clock.advance(10 * S);
    relay.set({ charging: false, status: 'finished' });
    expect(switchingGuardOf(charger)?.lastSwitches()).toEqual({ onAt, offAt: onAt + 10 * S });
    const held = deferred(await requestStart(charger));
    expect(held.until).toBe(onAt + 120 * S);
    // The app starts it again meanwhile: the held start has nothing left to do.
    await clock.advance(30 * S);
    relay.set({ charging: true, status: 'charging' });
    expect(await held.settled).toEqual({ kind: 'unneeded' });
    await clock.advance(5 * 60 * S);
    expect(relay.count('start')).toBe(0);
  });

  it('a link that comes back is not a switch', async () => {
    const { clock, relay, charger } = rig();
    relay.set({ link: 'offline', status: 'offline', charging: false });
    await clock.advance(S);
    relay.set({ link: 'online', status: 'charging', charging: true });
    relay.set({ charging: false, status: 'plugged' });
    relay.set({ link: 'offline', status: 'offline' });
    relay.set({ link: 'online', status: 'plugged' });
    // Only the drop while online counted as an off; the link changes did not.
    expect(switchingGuardOf(charger)?.lastSwitches()).toEqual({ onAt: null, offAt: clock.now() });
  });

  it('a charger that is offline answers at once: nothing is held for later', async () => {
    const { relay, charger } = rig();
    relay.set({ link: 'offline', status: 'offline' });
    await expect(requestStart(charger)).rejects.toMatchObject({ code: 'offline' });
    await expect(requestCurrent(charger, 10)).rejects.toMatchObject({ code: 'offline' });
    expect(switchingGuardOf(charger)?.pending()).toEqual({ start: null, current: null });
  });

  it('a held start the charger refuses when the window opens settles as failed', async () => {
    const { clock, relay, charger } = rig();
    await requestStart(charger);
    await requestStop(charger);
    const held = deferred(await requestStart(charger));
    relay.refuseStart = 'plug not inserted';
    await clock.advance(held.until - clock.now());
    expect(await held.settled).toEqual({ kind: 'failed', error: 'plug not inserted' });
  });

  it('a reservation after the window goes through; one inside it is held until the window opens', async () => {
    const { clock, relay, charger } = rig();
    await requestStart(charger);
    await requestStop(charger);
    const opens = clock.now() + 120 * S;
    expect(await requestStart(charger, { startAt: opens + 60 * S })).toEqual({ kind: 'applied' });
    expect(relay.calls.at(-1)).toMatchObject({ method: 'start', arg: { startAt: opens + 60 * S } });
    const held = deferred(await requestStart(charger, { startAt: clock.now() + 30 * S, currentA: 8 }));
    expect(held.until).toBe(opens);
    await clock.advance(120 * S);
    expect(await held.settled).toEqual({ kind: 'applied' });
    expect(relay.calls.at(-1)).toMatchObject({ method: 'start', arg: { currentA: 8 } });
    await charger.close();
  });

  it('with every rule at 0 each command goes straight through', async () => {
    const { relay, charger } = rig({ minOffMs: 0, minOnMs: 0, currentSettleMs: 0 });
    for (let i = 0; i < 6; i++) await (i % 2 === 0 ? requestStart(charger) : requestStop(charger));
    for (const amps of [6, 7, 8]) await requestCurrent(charger, amps);
    expect(relay.calls.map((c) => c.method)).toEqual([
      'start',
      'stop',
      'start',
      'stop',
      'start',
      'stop',
      'current',
      'current',
      'current',
    ]);
  });

  it('closing the charger cancels what is held and leaves no timer behind', async () => {
    const { clock, charger } = rig();
    await requestStart(charger);
    await requestStop(charger);
    const start = deferred(await requestStart(charger));
    await requestCurrent(charger, 8);
    const current = deferred(await requestCurrent(charger, 9));
    await charger.close();
    const closed: HeldResult = { kind: 'cancelled', reason: 'the charger was closed' };
    expect([await start.settled, await current.settled]).toEqual([closed, closed]);
    expect(clock.pendingTimers()).toBe(0);
  });
});

describe('current changes', () => {
  it('a slider dragged through 6…16 A sends the first value at once and one frame with the last', async () => {
    const { clock, relay, charger, t0 } = rig();
    const outcomes: SwitchOutcome[] = [];
    for (let amps = 6; amps <= 16; amps++) {
      outcomes.push(await requestCurrent(charger, amps));
      await clock.advance(100);
    }
    expect(outcomes[0]).toEqual({ kind: 'applied' });
    const last = deferred(outcomes.at(-1)!);
    expect(last.until).toBe(t0 + 2 * S);
    expect(last.reason).toMatch(/at most one every 2 s/);
    await clock.advance(2 * S);
    expect(relay.calls.map((c) => [c.method, c.arg, c.at - t0])).toEqual([
      ['current', 6, 0],
      ['current', 16, 2 * S],
    ]);
    expect(await last.settled).toEqual({ kind: 'applied' });
    expect(await deferred(outcomes[1]!).settled).toEqual({ kind: 'replaced' });
  });

  it('never holds a value above the ceiling: it is refused at once and nothing is sent', async () => {
    const { clock, relay, charger } = rig();
    await requestCurrent(charger, 10);
    await expect(requestCurrent(charger, 17)).rejects.toMatchObject({ code: 'out_of_range' });
    await expect(charger.setMaxCurrent(40)).rejects.toMatchObject({ code: 'out_of_range' });
    await expect(requestStart(charger, { currentA: 20 })).rejects.toMatchObject({ code: 'out_of_range' });
    await clock.advance(10 * S);
    expect(relay.calls.map((c) => c.arg)).toEqual([10]);
  });

  it('a burst that ends where the charger already is sends nothing more', async () => {
    const { clock, relay, charger } = rig();
    await requestCurrent(charger, 10);
    const held = deferred(await requestCurrent(charger, 12));
    await requestCurrent(charger, 10);
    await clock.advance(2 * S);
    expect(await held.settled).toEqual({ kind: 'replaced' });
    expect(relay.count('current')).toBe(1);
  });
});
