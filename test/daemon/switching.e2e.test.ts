/**
 * Contactor protection end to end: the daemon built from YAML (simulated BS20, embedded broker,
 * ManualClock) and an MQTT client standing in for Home Assistant. A start inside the window is
 * reported as deferred with its time and reason, the state keeps saying what the charger does, and
 * the latest intent is carried out when the window opens.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Cmd } from '../../src/evse-master/protocol/commands.js';
import {
  type DaemonRig,
  GARAGE_YAML,
  parseJson,
  runFor,
  startDaemonRig,
  waitUntil,
} from '../reliability/daemon-rig.js';

const S = 1000;

let rig: DaemonRig | null = null;
afterEach(async () => {
  await rig?.stop();
  rig = null;
});

describe('switching rules through Home Assistant', () => {
  it('defers an ON inside the window with a reason, keeps the switch truthful, and starts when it opens', async () => {
    rig = await startDaemonRig({
      chargersYaml: `${GARAGE_YAML}\n    simulator:\n      car:\n        plugged_at_start: true`,
    });
    const { clock } = rig;
    const ha = rig.ha!;
    const sim = rig.sim();
    const topic = 'chargebridge/garage';
    const state = () => parseJson(ha.on(topic).at(-1)?.text ?? '{}');
    const starts = () => sim.receivedFrames.filter((f) => f.frame.command === Cmd.ChargeStart).length;
    const events = (type: string) =>
      ha
        .on('chargebridge/bridge/event')
        .map((m) => parseJson(m.text))
        .filter((e) => e.type === type);
    await waitUntil(() => state().plugged === true && state().link === 'online', clock, {
      what: 'plugged in',
    });

    await ha.publish(`${topic}/set/charging`, 'ON');
    await waitUntil(() => sim.state.chargePhase === 'charging' && state().charging_enabled === true, clock, {
      what: 'charging',
    });
    const startedAt = clock.now();
    await ha.publish(`${topic}/set/charging`, 'OFF');
    await waitUntil(() => sim.state.chargePhase !== 'charging' && state().charging_enabled === false, clock, {
      what: 'stopped at once',
    });

    // An automation flaps the switch: only the last word counts, nothing reaches the charger now.
    for (let i = 0; i < 10; i++) await ha.publish(`${topic}/set/charging`, i % 2 === 0 ? 'ON' : 'OFF');
    await ha.publish(`${topic}/set/charging`, 'ON');
    await waitUntil(() => events('command_deferred').length >= 6, clock, { what: 'the deferrals' });
    const deferral = events('command_deferred').at(-1)!;
    expect(deferral.charger).toBe('garage');
    const data = deferral.data as { key: string; payload: string; until: string; reason: string };
    expect(data).toMatchObject({ key: 'charging', payload: 'ON' });
    expect(data.reason).toMatch(/contactor protection: a start waits 60 s after the charger switched off/);
    const until = Date.parse(data.until);
    expect(until).toBeGreaterThan(clock.now());
    expect(until - startedAt).toBeLessThanOrEqual(125 * S);
    expect(until - startedAt).toBeGreaterThanOrEqual(115 * S);
    // Deferred is not rejected, and the switch shows the charger's real state: off.
    expect(events('command_rejected')).toEqual([]);
    expect(state().charging_enabled).toBe(false);
    expect(sim.state.chargePhase).not.toBe('charging');
    expect(starts()).toBe(1);

    await runFor(clock, until - clock.now() - S, 5 * S);
    expect(starts()).toBe(1);
    await waitUntil(() => sim.state.chargePhase === 'charging' && state().charging_enabled === true, clock, {
      what: 'the held start carried out',
      stepMs: 500,
    });
    expect(starts()).toBe(2);
    expect(events('command_rejected')).toEqual([]);
  });
});
