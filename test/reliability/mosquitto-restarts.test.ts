/**
 * The external Mosquitto is SIGKILLed and started again several times while a car charges. After
 * each return the daemon must reconnect by itself, put discovery, availability and state back
 * within a bounded wait (this Mosquitto keeps nothing across restarts, so all of it is re-published),
 * and obey a command sent after the recovery.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Cmd } from '../../src/evse-master/protocol/commands.js';
import { type Mosquitto, startMosquitto } from '../helpers/mosquitto.js';
import { MqttProbe } from '../helpers/mqtt-probe.js';
import { has } from '../helpers/system-programs.js';
import { type DaemonRig, parseJson, runFor, startDaemonRig, waitUntil } from './daemon-rig.js';

const RESTARTS = 6;
const RECONNECT_PERIOD_MS = 250;
/** Bound on broker-ready → everything re-published; the measured figures are printed. */
const RECOVERY_BOUND_MS = 10_000;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const DISCOVERY = 'homeassistant/device/chargebridge_garage/config';
const STATE = 'chargebridge/garage';

describe.skipIf(!has('mosquitto'))('external Mosquitto killed and restarted mid-session', () => {
  it(`recovers discovery, state and commands after each of ${RESTARTS} kills`, async () => {
    const mosquitto: Mosquitto = await startMosquitto();
    cleanups.push(() => mosquitto.dispose());
    const rig: DaemonRig = await startDaemonRig({
      mqttYaml: `  url: ${mosquitto.url}\n  reconnect_period_ms: ${RECONNECT_PERIOD_MS}\n  keepalive_s: 5`,
      chargersYaml: [
        '  - id: garage',
        '    type: bs20',
        '    transport: simulated',
        '    max_current: 16',
        '    simulator:',
        '      car: { plugged_at_start: true, demand_a: 16, battery_kwh: 200 }',
      ].join('\n'),
      probe: null,
    });
    cleanups.push(() => rig.stop());
    const { clock } = rig;
    const sim = rig.sim();
    const charger = rig.daemon.chargers[0]!;

    let ha = await MqttProbe.connect(mosquitto.url);
    await ha.subscribe(STATE);
    await waitUntil(() => charger.getState().link === 'online', clock, { what: 'login' });
    await ha.publish('chargebridge/garage/set/charging', 'ON');
    await waitUntil(() => sim.state.chargePhase === 'charging', clock, { what: 'charging' });
    const chargeId = sim.state.session?.chargeId;
    await ha.close();

    const recoveryMs: number[] = [];
    let lastTotalKwh = 0;
    for (let round = 0; round < RESTARTS; round++) {
      await runFor(clock, 60_000);
      await mosquitto.kill();
      await waitUntil(() => !rig.daemon.connection.isConnected, clock, { what: 'the daemon to notice' });
      // The charger keeps going while the broker is away.
      await runFor(clock, 120_000);

      await mosquitto.restart();
      const backAt = Date.now();
      ha = await MqttProbe.connect(mosquitto.url);
      cleanups.push(() => ha.close());
      await ha.subscribe('homeassistant/#');
      await ha.subscribe('chargebridge/#');
      const what = `round ${round + 1}`;
      await waitUntil(
        () =>
          ha.on(DISCOVERY).length > 0 &&
          ha.on(STATE).length > 0 &&
          ha.on('chargebridge/garage/availability').at(-1)?.text === 'online' &&
          parseJson(ha.on('chargebridge/bridge/state').at(-1)?.text ?? '{}').state === 'online',
        clock,
        { what: `${what}: discovery and state re-published`, timeoutMs: RECOVERY_BOUND_MS, stepMs: 20 },
      );
      recoveryMs.push(Date.now() - backAt);

      // A command sent after the recovery reaches the charger as a frame.
      const amps = 8 + round;
      await ha.publish('chargebridge/garage/set/max_current', String(amps));
      await waitUntil(
        () =>
          sim.receivedFrames.some(
            (f) =>
              f.frame.command === Cmd.SetGetMaxCurrent &&
              f.message.type === 'max_current_request' &&
              f.message.currentA === amps,
          ),
        clock,
        { what: `${what}: the 0x8107 frame for ${amps} A` },
      );
      await waitUntil(() => parseJson(ha.on(STATE).at(-1)?.text ?? '{}').max_current_a === amps, clock, {
        what: `${what}: max_current_a ${amps} on MQTT`,
        stepMs: 500,
      });
      const total = parseJson(ha.on(STATE).at(-1)?.text ?? '{}').energy_total_kwh;
      expect(typeof total).toBe('number');
      expect(total as number).toBeGreaterThanOrEqual(lastTotalKwh);
      lastTotalKwh = total as number;
      await ha.close();
    }

    console.info(
      `[mosquitto-restarts] broker ready → discovery+state back, ms: ${recoveryMs.join(', ')} (reconnect_period_ms ${RECONNECT_PERIOD_MS})`,
    );
    expect(recoveryMs).toHaveLength(RESTARTS);
    expect(rig.daemon.connection.counters().reconnects).toBeGreaterThanOrEqual(RESTARTS);
    // The charging session never noticed.
    expect(sim.state.chargePhase).toBe('charging');
    expect(sim.state.session?.chargeId).toBe(chargeId);
  }, 90_000);
});
