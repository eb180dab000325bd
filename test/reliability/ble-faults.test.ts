/**
 * 100 random BLE faults from the simulated BS20 during one long charging session, through the real
 * daemon (startDaemon: simulator → EvseSession → Bs20Charger → Home Assistant → embedded broker),
 * watched over MQTT. Every drop must be followed by a reconnect, the charger's own session must
 * survive untouched, and the lifetime energy Home Assistant sees must never go down.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ChargerEvent } from '../../src/core/charger.js';
import { Cmd } from '../../src/evse-master/protocol/commands.js';
import { encodeFrame } from '../../src/evse-master/protocol/frame.js';
import { encodeSingleAcStatus } from '../../src/evse-master/protocol/messages/status.js';
import type { SimulatedBs20 } from '../../src/evse-master/simulator/index.js';
import { type DaemonRig, parseJson, runFor, startDaemonRig, waitUntil } from './daemon-rig.js';
import { runSeed, type SeededRandom, seededRandom } from './seeded-random.js';

const FAULTS = 100;
const CHARGER_YAML = [
  '  - id: garage',
  '    type: bs20',
  '    transport: simulated',
  '    max_current: 16',
  '    stale_after_s: 35',
  '    reconnect_max_delay_s: 30',
  '    simulator:',
  '      car:',
  '        plugged_at_start: true',
  '        demand_a: 16',
  '        battery_kwh: 200',
].join('\n');

type FaultKind =
  | 'drop'
  | 'short_silence'
  | 'long_silence'
  | 'garbage'
  | 'junk_in_frame'
  | 'corrupt'
  | 'forged_low_energy'
  | 'out_of_range';
const FAULT_KINDS: readonly FaultKind[] = [
  'drop',
  'drop',
  'short_silence',
  'long_silence',
  'garbage',
  'junk_in_frame',
  'corrupt',
  'forged_low_energy',
  'out_of_range',
];

let rig: DaemonRig | undefined;
afterEach(async () => {
  await rig?.stop();
  rig = undefined;
});

/** Junk as a BLE link produces it, with stray frame headers so the resync paths run. */
function junk(random: SeededRandom): Uint8Array {
  const bytes = random.bytes(random.between(1, 400));
  if (bytes.length > 4 && random.chance(0.5))
    bytes.set([0x06, 0x01, 0x00, random.between(25, 200)], random.int(bytes.length - 4));
  return bytes;
}

/** A frame that passes the checksum but says the lifetime register went down (a bit flip the sum missed). */
function forgedStatus(sim: SimulatedBs20, random: SeededRandom): Uint8Array {
  const s = sim.state;
  return encodeFrame({
    keyType: 0,
    serial: sim.config.serial,
    password: new Uint8Array(6).fill(0xff),
    command: Cmd.Status,
    payload: encodeSingleAcStatus({
      lineId: 1,
      l1VoltageV: 230,
      l1CurrentA: s.actualCurrentA,
      l2VoltageV: null,
      l2CurrentA: null,
      l3VoltageV: null,
      l3CurrentA: null,
      powerW: Math.round(s.powerW),
      energyTotalKwh: Math.max(0, Math.round((s.energyTotalKwh - random.between(1, 1000)) * 100) / 100),
      innerTemperatureC: 30,
      outerTemperatureC: 30,
      emergencyButton: 1,
      plugState: s.plugState,
      outputState: s.outputState,
      currentState: s.currentState,
      errorBits: 0,
      errorWidthBits: 32,
    }),
  });
}

describe('BLE faults during a long charging session', () => {
  it(`reconnects after every drop and keeps one session and a rising energy total through ${FAULTS} faults`, async () => {
    const seed = runSeed('ble-faults');
    const random = seededRandom(seed);
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      rig = await startDaemonRig({ chargersYaml: CHARGER_YAML });
      const { clock } = rig;
      const ha = rig.ha!;
      const sim = rig.sim();
      const charger = rig.daemon.chargers[0]!;

      const linkEvents: ChargerEvent['type'][] = [];
      charger.events.on('event', (e) => {
        if (e.type === 'link_up' || e.type === 'link_lost') linkEvents.push(e.type);
      });
      const framesFromUs = { start: 0, stop: 0 };
      sim.events.on('received', (f) => {
        if (f.frame.command === Cmd.ChargeStart) framesFromUs.start++;
        if (f.frame.command === Cmd.ChargeStop) framesFromUs.stop++;
      });
      const endedSessions: string[] = [];
      sim.events.on('session_ended', (record) => endedSessions.push(record.chargeId));

      await waitUntil(() => charger.getState().link === 'online', clock, { what: 'first login' });
      await ha.publish('chargebridge/garage/set/charging', 'ON');
      await waitUntil(() => sim.state.chargePhase === 'charging' && sim.state.actualCurrentA > 0, clock, {
        what: 'charging to start',
      });
      const chargeId = sim.state.session?.chargeId;
      expect(chargeId).toBeTruthy();
      const energyAtStartKwh = sim.state.energyTotalKwh;
      const startedAtMs = clock.now();
      const wallStarted = Date.now();

      const injected: Record<FaultKind, number> = {
        drop: 0,
        short_silence: 0,
        long_silence: 0,
        garbage: 0,
        junk_in_frame: 0,
        corrupt: 0,
        forged_low_energy: 0,
        out_of_range: 0,
      };
      // Faults that must end the link when it is up: each one must show up as a link_lost event.
      let certainDrops = 0;
      const missedDrops: string[] = [];
      const lostCount = () => linkEvents.filter((e) => e === 'link_lost').length;
      for (let i = 0; i < FAULTS; i++) {
        // Sometimes mid-login or mid-settings read, sometimes after minutes of calm.
        await runFor(clock, random.between(1, 180) * 1000, 500);
        const kind = random.pick(FAULT_KINDS);
        const online = charger.getState().link === 'online';
        const lostBefore = lostCount();
        injected[kind]++;
        switch (kind) {
          case 'drop':
            sim.dropLink('fault injection');
            break;
          case 'short_silence':
            sim.goSilent(random.between(1, 20) * 1000);
            break;
          case 'long_silence':
            // Longer than stale_after_s: we must notice by ourselves, within stale_after_s.
            sim.goSilent(random.between(40, 120) * 1000);
            await runFor(clock, 36_000, 500);
            break;
          case 'garbage':
            for (let burst = random.between(1, 5); burst > 0; burst--) sim.sendGarbage(junk(random));
            break;
          case 'junk_in_frame':
            sim.sendGarbage(junk(random), { insideNextFrame: true });
            break;
          case 'corrupt':
            sim.corruptNextFrame();
            break;
          case 'forged_low_energy':
            sim.sendGarbage(forgedStatus(sim, random));
            break;
          case 'out_of_range':
            sim.setUnreachable(true);
            await runFor(clock, random.between(5, 90) * 1000, 500);
            sim.setUnreachable(false);
            break;
        }
        if (online && (kind === 'drop' || kind === 'long_silence' || kind === 'out_of_range')) {
          certainDrops++;
          if (lostCount() === lostBefore) missedDrops.push(`fault ${i} (${kind})`);
        }
      }
      // Reconnect backoff is at most 30 s; the settings read after login takes a few more.
      await runFor(clock, 120_000, 500);
      await waitUntil(() => charger.getState().link === 'online' && sim.loggedIn, clock, {
        what: 'the final reconnect',
        stepMs: 500,
      });

      const context = `seed ${seed}, faults ${JSON.stringify(injected)}`;
      const lostTotal = linkEvents.filter((e) => e === 'link_lost').length;
      const reconnects = linkEvents.filter((e) => e === 'link_up').length - 1;
      console.info(
        `[ble-faults] ${FAULTS} faults over ${Math.round((clock.now() - startedAtMs) / 60_000)} simulated min in ${((Date.now() - wallStarted) / 1000).toFixed(1)} s: ${JSON.stringify(injected)}; link lost ${lostTotal}×, back ${reconnects}×; +${(sim.state.energyTotalKwh - energyAtStartKwh).toFixed(2)} kWh in one session`,
      );
      // Every drop is followed by a reconnect: up, lost, up, lost, …, up.
      expect(linkEvents[0], context).toBe('link_up');
      expect(linkEvents.at(-1), context).toBe('link_up');
      for (let i = 1; i < linkEvents.length; i++) {
        expect(linkEvents[i], `${context}, link event ${i}`).not.toBe(linkEvents[i - 1]);
      }
      expect(missedDrops, context).toEqual([]);
      expect(certainDrops, context).toBeGreaterThan(10);

      // The charger's own session is the one we started, never stopped, never started twice.
      expect(sim.state.chargePhase, context).toBe('charging');
      expect(sim.state.session?.chargeId, context).toBe(chargeId);
      expect(endedSessions, context).toEqual([]);
      expect(framesFromUs, context).toEqual({ start: 1, stop: 0 });

      // What Home Assistant saw: one session id, and a lifetime total that only ever rises.
      const lastEnergyKwh = sim.state.energyTotalKwh;
      // At least that total: the car charges on while the clock moves, and states go out at most once
      // a second, so the exact value can be skipped (seed 1316030342: 1244.91 then 1244.93).
      await waitUntil(
        () =>
          Number(parseJson(ha.on('chargebridge/garage').at(-1)?.text ?? '{}').energy_total_kwh) >=
          lastEnergyKwh,
        clock,
        { what: 'the latest energy total on MQTT', stepMs: 1_000 },
      );
      const states = ha.on('chargebridge/garage').map((m) => parseJson(m.text));
      const totals = states.map((s) => s.energy_total_kwh).filter((v): v is number => typeof v === 'number');
      expect(totals.length, context).toBeGreaterThan(FAULTS);
      for (let i = 1; i < totals.length; i++) {
        expect(totals[i]!, `${context}, published total ${i}`).toBeGreaterThanOrEqual(totals[i - 1]!);
      }
      expect(totals.at(-1)!, context).toBeGreaterThan(energyAtStartKwh);
      const sessionIds = new Set(
        states.map((s) => s.session_id).filter((v) => v !== null && v !== undefined),
      );
      expect([...sessionIds], context).toEqual([chargeId]);

      expect(unhandled, context).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  }, 60_000);
});
