/**
 * The switching rules on a BS20: the real EvseSession and Bs20Charger against the simulated charger,
 * behind the guard createBs20Charger puts in front of it. What counts is what reaches the charger as
 * frames and what the simulated contactor does. Time is a ManualClock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/index.js';
import type { Bs20SimulatedChargerConfig } from '../../src/config/schema.js';
import { isClocked, isConfigurable, isRestartable } from '../../src/core/charger.js';
import { ManualClock } from '../../src/core/clock.js';
import { guardCharger, requestCurrent, requestStart, requestStop } from '../../src/core/switching-guard.js';
import { DEFAULT_SWITCHING_RULES, type SwitchOutcome } from '../../src/core/switching-rules.js';
import { Bs20Charger } from '../../src/evse-master/charger.js';
import { createBs20Charger } from '../../src/evse-master/create.js';
import { Cmd, SettingAction } from '../../src/evse-master/protocol/commands.js';
import { EvseSession } from '../../src/evse-master/session.js';
import { createSimulatedTransport, SimulatedBs20 } from '../../src/evse-master/simulator/index.js';
import { silentLogger } from '../../src/log.js';

const TZ = 'Europe/Berlin';
const S = 1000;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/** A BS20 with the car plugged in; `raw` is the charger without the guard (the vendor app's way in). */
async function pluggedBs20() {
  const clock = new ManualClock(Date.UTC(2026, 2, 10, 18, 0, 0));
  const sim = new SimulatedBs20({ clock, timeZone: TZ, phases: 1, pin: '123456' });
  const session = new EvseSession({
    transport: createSimulatedTransport(sim),
    pin: '123456',
    clock,
    timeZone: TZ,
  });
  const raw = new Bs20Charger({
    id: 'garage',
    name: 'Garage',
    session,
    maxCurrentA: 16,
    clock,
    timeZone: TZ,
  });
  const charger = guardCharger(raw, DEFAULT_SWITCHING_RULES, clock, silentLogger());
  cleanups.push(async () => {
    await charger.close();
    sim.close();
    expect(clock.pendingTimers()).toBe(0);
  });
  await charger.open();
  await clock.advance(5 * S);
  sim.plugIn({ demandA: 16 });
  await clock.advance(12 * S);
  const frames = (command: number) =>
    sim.receivedFrames.filter((f) => f.frame.command === command && f.pinOk);
  return { clock, sim, raw, charger, frames };
}

describe('switching rules on a BS20', () => {
  it('196 alternating commands in 10 s: one start and one stop switch the contactor; the last ON wins after the window', async () => {
    const { clock, sim, charger, frames } = await pluggedBs20();
    const t0 = clock.now();
    // OFF first, so the last of the 98 pairs is an ON.
    for (let i = 0; i < 196; i++) {
      await (i % 2 === 0 ? charger.stopCharging() : charger.startCharging());
      await clock.advance(50);
    }
    expect(clock.now() - t0).toBeLessThanOrEqual(10 * S);
    expect(frames(Cmd.ChargeStart)).toHaveLength(1);
    // The first OFF reached an idle charger (nothing to switch), the second ended the one start.
    expect(frames(Cmd.ChargeStop)).toHaveLength(2);
    expect(sim.state.chargePhase).not.toBe('charging');
    expect(charger.getState().charging).toBe(false);

    // Started 50 ms before its stop: the next start waits min_off + the min_on it did not run.
    await clock.advance(t0 + 50 + 120 * S - clock.now() - 100);
    expect(frames(Cmd.ChargeStart)).toHaveLength(1);
    await clock.advance(15 * S);
    expect(frames(Cmd.ChargeStart)).toHaveLength(2);
    expect(sim.state.chargePhase).toBe('charging');
    expect(charger.getState().charging).toBe(true);
  });

  it('a start through the vendor app counts: the next start after a quick stop waits for the window', async () => {
    const { clock, sim, raw, charger, frames } = await pluggedBs20();
    let startedSeen = 0;
    charger.events.on('state', (next, previous) => {
      if (next.charging && !previous.charging) startedSeen = clock.now();
    });
    // Not through the guard: it only sees the charger report charging.
    await raw.startCharging({ currentA: 10 });
    await clock.advance(12 * S);
    expect(charger.getState().charging).toBe(true);
    expect(startedSeen).toBeGreaterThan(0);
    const stop = await requestStop(charger);
    expect(stop).toEqual({ kind: 'applied' });
    await clock.advance(12 * S);
    expect(sim.state.chargePhase).not.toBe('charging');

    const held = await requestStart(charger);
    expect(held.kind).toBe('deferred');
    const until = (held as Extract<SwitchOutcome, { kind: 'deferred' }>).until;
    expect(until).toBe(startedSeen + 120 * S);
    expect(frames(Cmd.ChargeStart)).toHaveLength(1);
    await clock.advance(until - clock.now());
    expect(await (held as Extract<SwitchOutcome, { kind: 'deferred' }>).settled).toEqual({ kind: 'applied' });
    expect(frames(Cmd.ChargeStart)).toHaveLength(2);
  });

  it('a slider dragged through 6…16 A sends two current frames, the last one 16 A', async () => {
    const { clock, sim, charger, frames } = await pluggedBs20();
    for (let amps = 6; amps <= 16; amps++) {
      await requestCurrent(charger, amps);
      await clock.advance(100);
    }
    await clock.advance(3 * S);
    const sets = frames(Cmd.SetGetMaxCurrent)
      .map((f) => f.message)
      .flatMap((m) =>
        m.type === 'max_current_request' && m.action === SettingAction.Set ? [m.currentA] : [],
      );
    // The login lowered the simulated 32 A to the 16 A ceiling; then the drag's first and last value.
    expect(sets).toEqual([16, 6, 16]);
    expect(sim.state.configuredCurrentA).toBe(16);
  });

  it('createBs20Charger hands out the guarded charger, capabilities intact, rules from the entry', async () => {
    const yaml = [
      'chargers:',
      '  - id: garage',
      '    type: bs20',
      '    transport: simulated',
      '    max_current: 16',
      '    simulator:',
      '      car:',
      '        plugged_at_start: true',
      '    switching:',
      '      min_off_s: 300',
      '      min_on_s: 0',
    ].join('\n');
    const { config } = parseConfigText(yaml, { path: '/tmp/configuration.yaml', env: {} });
    const clock = new ManualClock(Date.UTC(2026, 2, 10, 18, 0, 0));
    const entry = config.chargers[0] as Bs20SimulatedChargerConfig;
    const built = createBs20Charger(entry, {
      ble: config.ble,
      timeZone: TZ,
      clock,
      logger: silentLogger(),
    });
    const { charger, simulator } = built;
    cleanups.push(async () => {
      await charger.close();
      simulator?.close();
    });
    expect([isConfigurable(charger), isClocked(charger), isRestartable(charger)]).toEqual([
      true,
      true,
      false,
    ]);
    expect(typeof charger.linkCounters).toBe('function');
    await charger.open();
    await clock.advance(15 * S);
    await requestStart(charger);
    await clock.advance(12 * S);
    await requestStop(charger);
    const held = await requestStart(charger);
    expect(held.kind === 'deferred' && held.until - clock.now()).toBe(300 * S);
  });
});
