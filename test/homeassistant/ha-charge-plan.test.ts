/**
 * The charge planner end to end: Home Assistant sets the inputs over MQTT, the planned current shows
 * up in the state, the apply button reaches the simulated BS20 as a 0x8107 SET, an unreachable plan
 * is refused without a frame, and the inputs survive a restart.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { Cmd, SettingAction } from '../../src/evse-master/protocol/commands.js';
import { brokers, type TestBroker } from '../helpers/brokers.js';
import type { ReceivedMessage } from '../helpers/mqtt-probe.js';
import { describeEach } from '../helpers/system-programs.js';
import { HaRig, type RigOptions } from './ha-rig.js';

type Json = Record<string, unknown>;
const json = (m: ReceivedMessage) => JSON.parse(m.text) as Json;
const HOUR = 3_600_000;

/**
 * From first principles: the battery takes capacity × ΔSoC; 10 % is lost on the way (the planner's
 * stated efficiency), so the grid delivers that / 0.9; spread over the hours left, on one phase at
 * the charger's voltage; whole amps, rounded up so the target is met.
 */
function expectedAmps(
  batteryKwh: number,
  fromPercent: number,
  toPercent: number,
  hours: number,
  volts: number,
) {
  const intoBatteryWh = batteryKwh * 1000 * ((toPercent - fromPercent) / 100);
  const fromGridWh = intoBatteryWh / 0.9;
  return Math.ceil(fromGridWh / hours / volts);
}

describeEach(brokers)('charge plan in Home Assistant against $name', (kind) => {
  let broker: TestBroker;
  const rigs: HaRig[] = [];
  const dirs: string[] = [];

  beforeAll(async () => {
    broker = await kind.start();
  });
  afterAll(() => broker.stop());
  afterEach(async () => {
    for (const rig of rigs.splice(0)) await rig.close();
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  });

  async function planRig(options: RigOptions = {}): Promise<HaRig> {
    const r = await HaRig.create(broker, {
      ...options,
      extension: { sessionFeatures: () => ({ users: [], currency: null }), ...options.extension },
    });
    rigs.push(r);
    await r.ext.start();
    await r.chargerOnline();
    await r.probe.waitFor(r.stateTopic, (m) => json(m).link === 'online');
    return r;
  }

  /** Send a command and check it was not rejected. */
  async function command(r: HaRig, key: string, payload: string): Promise<void> {
    const mark = r.probe.received.length;
    await r.probe.publish(`${r.base}/garage/set/${key}`, payload);
    await r.barrier();
    await r.ext.commandsIdle();
    const rejections = r.probe.received.slice(mark).filter((m) => m.topic === r.bridgeEventTopic);
    expect(rejections.map((m) => m.text)).toEqual([]);
  }

  async function setPlan(r: HaRig, deadlineInH: number): Promise<void> {
    await command(r, 'plan_battery_kwh', '60');
    await command(r, 'plan_soc_now', '20');
    await command(r, 'plan_soc_target', '80');
    await command(r, 'plan_deadline', new Date(r.clock.now() + deadlineInH * HOUR).toISOString());
  }

  const setFrames = (r: HaRig, from: number) =>
    r.framesAt(Cmd.SetGetMaxCurrent, from).filter((f) => (f.message as Json).action === SettingAction.Set);

  it('publishes the planned current for 60 kWh, 20 → 80 % in 8 h on one phase, and applies it with a 0x8107 SET', async () => {
    const r = await planRig();
    const components = json(await r.probe.waitFor(r.deviceTopic)).components as Record<string, Json>;
    for (const key of [
      'plan_battery_kwh',
      'plan_soc_now',
      'plan_soc_target',
      'plan_deadline',
      'plan_apply',
    ]) {
      expect(components[key]?.command_topic, key).toBe(`${r.base}/garage/set/${key}`);
    }
    expect(components.plan_current).toMatchObject({ p: 'sensor', unit_of_measurement: 'A' });
    expect(r.lastState()).toMatchObject({ plan_status: 'incomplete', plan_current_a: null });

    let mark = r.probe.received.length;
    await setPlan(r, 8);
    await r.clock.advance(1000);
    const state = json(await r.waitAfter(mark, r.stateTopic, (m) => json(m).plan_status === 'ok'));
    const volts = state.voltage_l1_v as number;
    expect(volts).toBeGreaterThan(200);
    const amps = expectedAmps(60, 20, 80, 8, volts);
    expect(amps).toBe(22);
    expect(state).toMatchObject({
      plan_current_a: amps,
      plan_battery_kwh: 60,
      plan_soc_now_percent: 20,
      plan_soc_target_percent: 80,
      plan_energy_to_battery_kwh: 36,
      plan_energy_from_grid_kwh: 40,
      plan_power_w: amps * volts,
    });
    expect(state.plan_hours_available as number).toBeCloseTo(8, 1);
    expect(Date.parse(state.plan_finishes_at as string)).toBeLessThan(
      Date.parse(state.plan_deadline as string),
    );

    mark = r.probe.received.length;
    const framesBefore = r.sim.receivedFrames.length;
    const set = r.nextFrame(Cmd.SetGetMaxCurrent);
    await r.probe.publish(`${r.base}/garage/set/plan_apply`, 'PRESS');
    expect((await set).message).toMatchObject({ action: SettingAction.Set, currentA: amps });
    await r.clock.advance(1000);
    await r.waitAfter(mark, r.stateTopic, (m) => json(m).max_current_a === amps);
    expect(setFrames(r, framesBefore)).toHaveLength(1);
    expect(r.probe.received.slice(mark).filter((m) => m.topic === r.bridgeEventTopic)).toEqual([]);

    // Time passes with nothing else set: 6 h left for the same 40 kWh needs more current.
    mark = r.probe.received.length;
    await r.clock.advance(2 * HOUR);
    const later = json(
      await r.waitAfter(mark, r.stateTopic, (m) => (json(m).plan_hours_available as number) < 6.1),
    );
    expect(later.plan_current_a).toBe(expectedAmps(60, 20, 80, later.plan_hours_available as number, volts));
    expect(later.plan_current_a).toBe(29);
  });

  it('refuses to apply a plan the charger cannot reach: command_rejected with the reason, no frame', async () => {
    const r = await planRig();
    let mark = r.probe.received.length;
    // 40 kWh from the grid in one hour is 40 kW: far beyond 32 A × 230 V.
    await setPlan(r, 1);
    await r.clock.advance(1000);
    const state = json(await r.waitAfter(mark, r.stateTopic, (m) => json(m).plan_status === 'not_reachable'));
    expect(state.plan_current_a).toBe(32);
    expect(state.plan_message).toMatch(/^not reachable: even 32 A only reaches about \d+ %/);

    mark = r.probe.received.length;
    const framesBefore = r.sim.receivedFrames.length;
    await r.probe.publish(`${r.base}/garage/set/plan_apply`, 'PRESS');
    const event = json(
      await r.waitAfter(mark, r.bridgeEventTopic, (m) => json(m).type === 'command_rejected'),
    );
    expect(event).toMatchObject({
      charger: 'garage',
      data: {
        key: 'plan_apply',
        error: expect.stringMatching(/^plan_apply: the charge plan cannot be applied: not reachable/),
      },
    });
    await r.clock.advance(2000);
    await r.barrier();
    expect(setFrames(r, framesBefore)).toEqual([]);

    // Bad inputs never reach the plan: the state keeps what was there.
    for (const [key, payload, error] of [
      ['plan_deadline', new Date(r.clock.now() - HOUR).toISOString(), /is in the past/],
      ['plan_battery_kwh', 'lots', /expected a number like 60/],
      ['plan_soc_target', '120', /above the maximum of 100 %/],
    ] as const) {
      mark = r.probe.received.length;
      await r.probe.publish(`${r.base}/garage/set/${key}`, payload);
      const rejected = json(
        await r.waitAfter(mark, r.bridgeEventTopic, (m) => json(m).type === 'command_rejected'),
      );
      expect((rejected.data as Json).error).toMatch(error);
    }
    expect(r.lastState()).toMatchObject({
      plan_battery_kwh: 60,
      plan_soc_target_percent: 80,
      plan_status: 'not_reachable',
    });
  });

  it('keeps the inputs across a restart of the extension (same data dir)', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'chargebridge-ha-plan-'));
    dirs.push(dataDir);
    const first = await planRig({ dataDir });
    const mark = first.probe.received.length;
    await setPlan(first, 8);
    await first.clock.advance(1000);
    const before = json(await first.waitAfter(mark, first.stateTopic, (m) => json(m).plan_status === 'ok'));
    const deadline = before.plan_deadline as string;
    expect(Date.parse(deadline)).toBe(first.clock.now() - 1000 + 8 * HOUR);
    await first.close();
    rigs.splice(rigs.indexOf(first), 1);

    // Fresh topics: whatever the new run publishes cannot be a retained leftover of the first.
    const second = await planRig({ dataDir });
    const state = json(
      await second.probe.waitFor(
        second.stateTopic,
        (m) => json(m).voltage_l1_v !== null && json(m).plan_status === 'ok',
      ),
    );
    expect(state).toMatchObject({
      plan_battery_kwh: 60,
      plan_soc_now_percent: 20,
      plan_soc_target_percent: 80,
      plan_deadline: deadline,
    });
    const hours = (Date.parse(deadline) - second.clock.now()) / HOUR;
    expect(state.plan_current_a).toBe(expectedAmps(60, 20, 80, hours, state.voltage_l1_v as number));
  });
});
