/**
 * Issue #12's flapping automation: 196 alternating ON/OFF commands in 10 s over MQTT against the
 * daemon built from YAML (simulated BS20, embedded broker, login) with `switching: { min_off_s: 10,
 * min_on_s: 10 }`, the smallest windows allowed. Counted as Home Assistant sees it: charge starts and
 * stops on `chargebridge/garage` (charging_active) and `command_deferred` on `bridge/event`.
 *
 * In-process with a ManualClock rather than the CLI: the last intent is carried out when the window
 * opens, 20 s after the last start (min_on + min_off), so a real-clock CLI run would wait ~20 s past
 * a 10 s flood plus its start-up; here the same daemon, broker and MQTT traffic take about a second.
 */
import { afterEach, expect, it } from 'vitest';
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
const COMMANDS = 196;
const FLOOD_MS = 10 * S;

let rig: DaemonRig | null = null;
afterEach(async () => {
  await rig?.stop();
  rig = null;
});

it('196 alternating ON/OFF in 10 s: one stop, every ON deferred, the last intent carried out when the window opens', async () => {
  rig = await startDaemonRig({
    chargersYaml: `${GARAGE_YAML}\n    switching: { min_off_s: 10, min_on_s: 10 }\n    simulator:\n      car:\n        plugged_at_start: true`,
  });
  const { clock } = rig;
  const ha = rig.ha!;
  const sim = rig.sim();
  const topic = 'chargebridge/garage';
  const states = () => ha.on(topic).map((m) => parseJson(m.text));
  const state = () => states().at(-1) ?? {};
  const events = (type: string) =>
    ha
      .on('chargebridge/bridge/event')
      .map((m) => parseJson(m.text))
      .filter((e) => e.type === type);
  /** Charge starts and stops as published on the state topic: changes of charging_active. */
  const switches = () => {
    let starts = 0;
    let stops = 0;
    let previous = false;
    for (const s of states()) {
      const on = s.charging_active === true;
      if (on && !previous) starts++;
      if (!on && previous) stops++;
      previous = on;
    }
    return { starts, stops };
  };
  const startFrames = () => sim.receivedFrames.filter((f) => f.frame.command === Cmd.ChargeStart).length;
  const stopFrames = () => sim.receivedFrames.filter((f) => f.frame.command === Cmd.ChargeStop).length;

  await waitUntil(() => state().plugged === true && state().link === 'online', clock, { what: 'plugged in' });
  await ha.publish(`${topic}/set/charging`, 'ON');
  await waitUntil(() => state().charging_active === true, clock, { what: 'charging' });
  expect(switches()).toEqual({ starts: 1, stops: 0 });

  // The automation: OFF, ON, OFF … ON, one every ~51 ms; its last word is ON.
  const intents = Array.from({ length: COMMANDS }, (_, i) => (i % 2 === 0 ? 'OFF' : 'ON'));
  const floodStart = clock.now();
  for (const intent of intents) {
    await ha.publish(`${topic}/set/charging`, intent);
    await clock.advance(FLOOD_MS / COMMANDS);
  }
  // Each ON after the stop is deferred (98 of them); step 0 so waiting does not open the window.
  await waitUntil(() => events('command_deferred').length >= COMMANDS / 2, clock, {
    what: 'a deferral per ON',
    stepMs: 0,
  });
  expect(clock.now() - floodStart).toBeLessThan(FLOOD_MS + S);
  await waitUntil(() => state().charging_active === false, clock, { what: 'the stop', stepMs: 0 });
  expect(switches()).toEqual({ starts: 1, stops: 1 });
  expect([startFrames(), stopFrames()]).toEqual([1, 1]);
  expect(events('command_rejected')).toEqual([]);
  const deferrals = events('command_deferred').map((e) => e.data as { payload: string; until: string });
  expect(deferrals.every((d) => d.payload === 'ON')).toBe(true);
  // All held to the same moment: min_on + min_off after the start, however often it is asked.
  const until = Date.parse(deferrals.at(-1)!.until);
  expect(new Set(deferrals.map((d) => d.until)).size).toBe(1);

  // Just before the window opens: still off. After: on, as the last command said.
  await runFor(clock, until - clock.now() - S, 500);
  expect(state().charging_active).toBe(false);
  await waitUntil(() => state().charging_active === true, clock, {
    what: 'the last ON carried out',
    stepMs: 500,
  });
  expect(switches()).toEqual({ starts: 2, stops: 1 });
  // One more stop frame right before that start: after a finished session the BS20 takes a start
  // only after a stop (evse-master/charger.ts, Q10); it switches nothing.
  expect([startFrames(), stopFrames()]).toEqual([2, 2]);
  expect(events('command_deferred')).toHaveLength(COMMANDS / 2);
});
