import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ChargerCommandError } from '../../src/core/charger.js';
import { ManualClock } from '../../src/core/clock.js';
import { ChargePlanControl } from '../../src/homeassistant/charge-plan-control.js';
import { ChargePlanStore } from '../../src/homeassistant/charge-plan-store.js';
import { runCommand } from '../../src/homeassistant/command-runner.js';
import { NextSession } from '../../src/homeassistant/next-session.js';
import { silentLogger } from '../../src/log.js';
import { FakeCharger } from './fakes.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const dirs: string[] = [];
const stores: ChargePlanStore[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.flush();
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function setup() {
  const dir = await mkdtemp(join(tmpdir(), 'chargebridge-plan-'));
  dirs.push(dir);
  const clock = new ManualClock();
  const charger = new FakeCharger();
  charger.ceilingA = 32;
  charger.state = { ...charger.state, phases: [{ voltageV: 230, currentA: 0 }] };
  const store = new ChargePlanStore({ dataDir: dir, clock, logger: silentLogger() });
  stores.push(store);
  await store.load();
  let changes = 0;
  const plan = new ChargePlanControl({ charger, store, clock, changed: () => changes++ });
  plan.start();
  return { clock, charger, store, plan, changes: () => changes };
}

describe('ChargePlanControl', () => {
  it('asks for a publish on every input and, once complete, every minute until the deadline', async () => {
    const { clock, plan, changes } = await setup();
    plan.set({ batteryKwh: 60 });
    plan.set({ socNowPercent: 20 });
    plan.set({ socTargetPercent: 80 });
    expect(changes()).toBe(3);
    // Incomplete: time passing changes nothing.
    await clock.advance(5 * MINUTE);
    expect(changes()).toBe(3);

    plan.set({ deadlineAt: clock.now() + 10 * MINUTE + 30_000 });
    expect(changes()).toBe(4);
    await clock.advance(MINUTE);
    expect(changes()).toBe(5);
    await clock.advance(9 * MINUTE);
    expect(changes()).toBe(14);
    // The last 30 s: one more evaluation right at the deadline, which flips the status; then none.
    await clock.advance(30_000);
    expect(plan.evaluate().status).toBe('deadline_passed');
    expect(changes()).toBe(15);
    await clock.advance(HOUR);
    expect(changes()).toBe(15);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('stops following time when stopped', async () => {
    const { clock, plan, changes } = await setup();
    plan.set({ batteryKwh: 60, socNowPercent: 20, socTargetPercent: 80, deadlineAt: clock.now() + 8 * HOUR });
    plan.stop();
    const before = changes();
    await clock.advance(10 * MINUTE);
    expect(changes()).toBe(before);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('the apply command sets the planned current through Charger.setMaxCurrent, or refuses with the reason', async () => {
    const { clock, charger, plan } = await setup();
    const next = new NextSession();
    const apply = () => runCommand(charger, { key: 'plan_apply' }, next, clock.now(), plan);

    await expect(apply()).rejects.toThrow(/cannot be applied: set the battery capacity/);
    await runCommand(charger, { key: 'plan_battery_kwh', kwh: 60 }, next, clock.now(), plan);
    await runCommand(charger, { key: 'plan_soc_now', percent: 20 }, next, clock.now(), plan);
    await runCommand(charger, { key: 'plan_soc_target', percent: 80 }, next, clock.now(), plan);
    await runCommand(charger, { key: 'plan_deadline', at: clock.now() + 8 * HOUR }, next, clock.now(), plan);
    expect(plan.inputs()).toEqual({
      batteryKwh: 60,
      socNowPercent: 20,
      socTargetPercent: 80,
      deadlineAt: clock.now() + 8 * HOUR,
    });

    await apply();
    // 36 kWh / 0.9 / 8 h / 230 V = 21.7 A.
    expect(charger.calls).toEqual([{ method: 'setMaxCurrent', args: [22] }]);

    // Two hours to do it: 40 kWh / 2 h / 230 V = 87 A, far above the 32 A ceiling.
    await runCommand(charger, { key: 'plan_deadline', at: clock.now() + 2 * HOUR }, next, clock.now(), plan);
    const refused = await apply().catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(ChargerCommandError);
    expect((refused as ChargerCommandError).code).toBe('rejected');
    expect((refused as Error).message).toMatch(/cannot be applied: not reachable: even 32 A/);

    await runCommand(charger, { key: 'plan_soc_now', percent: 90 }, next, clock.now(), plan);
    await expect(apply()).rejects.toThrow(/already at 90 %/);
    expect(charger.calls).toHaveLength(1);
  });

  it('is not supported on a charger without a planner', async () => {
    const charger = new FakeCharger();
    await expect(runCommand(charger, { key: 'plan_apply' }, new NextSession(), 0)).rejects.toThrow(
      /cannot plan a charge/,
    );
    expect(charger.calls).toEqual([]);
  });
});
