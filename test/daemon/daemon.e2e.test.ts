/**
 * The whole daemon, built from a YAML config exactly as `chargebridge run` builds it, watched from
 * outside by an MQTT client standing in for Home Assistant. Runs with the daemon's own embedded
 * broker and with a real Mosquitto as the external broker.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/index.js';
import { ManualClock } from '../../src/core/clock.js';
import { type RunningDaemon, startDaemon } from '../../src/daemon.js';
import { Cmd } from '../../src/evse-master/protocol/commands.js';
import { silentLogger } from '../../src/log.js';
import { freePort, startMosquitto } from '../helpers/mosquitto.js';
import { MqttProbe } from '../helpers/mqtt-probe.js';
import { describeEach, has, type SystemProgram } from '../helpers/system-programs.js';
import { savedBrokerLogin } from '../reliability/daemon-rig.js';

interface Setup {
  name: string;
  needs?: SystemProgram;
  /** The `mqtt:` section; returns a cleanup for anything it started. */
  mqtt(): Promise<{ yaml: string; restart?: () => Promise<void>; cleanup: () => Promise<void> }>;
}

const setups: Setup[] = [
  {
    name: 'embedded broker',
    async mqtt() {
      const port = await freePort();
      return {
        yaml: `mqtt:\n  embedded_broker:\n    host: 127.0.0.1\n    port: ${port}\n    persist_retained: true\n`,
        cleanup: async () => undefined,
      };
    },
  },
  {
    name: 'external Mosquitto',
    needs: 'mosquitto',
    async mqtt() {
      const mosquitto = await startMosquitto();
      return {
        yaml: `mqtt:\n  url: ${mosquitto.url}\n  reconnect_period_ms: 200\n`,
        restart: () => mosquitto.restart(),
        cleanup: () => mosquitto.dispose(),
      };
    },
  },
];

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function boot(setup: Setup, extraYaml = '') {
  const dir = mkdtempSync(path.join(tmpdir(), 'cb-daemon-'));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  const broker = await setup.mqtt();
  cleanups.push(broker.cleanup);
  const yaml = [
    `data_dir: ${dir}`,
    'timezone: Europe/Berlin',
    broker.yaml,
    'homeassistant:\n  expire_after_s: 60',
    'chargers:',
    '  - id: garage',
    '    name: Garage',
    '    type: bs20',
    '    transport: simulated',
    '    max_current: 16',
    extraYaml,
  ].join('\n');
  const loaded = parseConfigText(yaml, { path: path.join(dir, 'configuration.yaml'), env: {} });
  const clock = new ManualClock(Date.UTC(2026, 5, 1, 8, 0, 0));
  const daemon: RunningDaemon = await startDaemon({ loaded, logger: silentLogger(), clock });
  let stopped = false;
  const stop = async () => {
    if (!stopped) await daemon.stop();
    stopped = true;
  };
  cleanups.push(stop);
  // The embedded broker wants the login it created (none with Mosquitto here).
  const ha = await MqttProbe.connect(daemon.mqttUrl, savedBrokerLogin(dir));
  cleanups.push(() => ha.close());
  await ha.subscribe('homeassistant/#');
  await ha.subscribe('chargebridge/#');
  const sim = daemon.simulators.get('garage');
  if (!sim) throw new Error('no simulator');
  // Log in: the first beacon comes 0.7 s after connecting, then the settings are read.
  await clock.advance(5_000);
  return { daemon, ha, sim, clock, stop, broker, dir };
}

const json = (text: string) => JSON.parse(text) as Record<string, unknown>;

describeEach(setups)('daemon with $name', (setup) => {
  it('publishes discovery, follows the charger and turns commands into frames', async () => {
    const { ha, sim, clock } = await boot(setup);

    const discovery = await ha.waitFor('homeassistant/device/chargebridge_garage/config');
    expect(discovery.retain).toBe(true);
    const config = json(discovery.text) as {
      components: Record<string, Record<string, unknown>>;
      device: unknown;
    };
    expect(config.device).toMatchObject({ identifiers: ['chargebridge_garage'], model: 'BS20' });
    for (const component of Object.values(config.components)) {
      if (component.p === 'device_automation') continue;
      expect(component.unique_id).toMatch(/^chargebridge_garage_/);
      expect(component.availability_mode).toBe('all');
    }
    expect(config.components.energy_total).toMatchObject({
      device_class: 'energy',
      state_class: 'total_increasing',
    });
    await ha.waitFor('chargebridge/bridge/state', (m) => json(m.text).state === 'online');
    await ha.waitFor('chargebridge/garage/availability', (m) => m.text === 'online');

    sim.plugIn({ demandA: 32 });
    await clock.advance(11_000);
    await ha.waitFor('chargebridge/garage', (m) => json(m.text).plugged === true);

    await ha.publish('chargebridge/garage/set/max_current', '10');
    await waitForFrame(
      sim,
      Cmd.SetGetMaxCurrent,
      (m) => m.type === 'max_current_request' && m.currentA === 10,
      clock,
    );

    await ha.publish('chargebridge/garage/set/charging', 'ON');
    await waitForFrame(sim, Cmd.ChargeStart, (m) => m.type === 'charge_start' && m.maxCurrentA === 10, clock);
    await clock.advance(11_000);
    const charging = await ha.waitFor('chargebridge/garage', (m) => json(m.text).charging_active === true);
    expect(json(charging.text).power_w).toBeGreaterThan(2000);

    // Garbage and out-of-range commands never reach the charger.
    const framesBefore = sim.receivedFrames.filter((f) => f.frame.command === Cmd.SetGetMaxCurrent).length;
    await ha.publish('chargebridge/garage/set/max_current', 'lots');
    await ha.publish('chargebridge/garage/set/max_current', '40');
    const rejected = await ha.waitFor(
      'chargebridge/bridge/event',
      (m) =>
        json(m.text).type === 'command_rejected' &&
        String(json(m.text).data && JSON.stringify(json(m.text).data)).includes('40'),
    );
    expect(json(rejected.text).charger).toBe('garage');
    await clock.advance(2_000);
    expect(sim.receivedFrames.filter((f) => f.frame.command === Cmd.SetGetMaxCurrent)).toHaveLength(
      framesBefore,
    );
  });

  it('marks the charger unavailable while the link is down and re-publishes on HA birth', async () => {
    const { ha, sim, clock } = await boot(setup);
    await ha.waitFor('chargebridge/garage/availability', (m) => m.text === 'online');
    sim.dropLink('out of range');
    await clock.advance(100);
    await ha.waitFor('chargebridge/garage/availability', (m) => m.text === 'offline', 5000);
    await clock.advance(10_000);
    const onlineAgain = ha.received.filter((m) => m.topic === 'chargebridge/garage/availability').length;
    await waitUntil(
      () =>
        ha.received.filter((m) => m.topic === 'chargebridge/garage/availability').at(-1)?.text === 'online',
      clock,
    );
    expect(onlineAgain).toBeGreaterThan(1);

    const discoveries = () => ha.on('homeassistant/device/chargebridge_garage/config').length;
    const before = discoveries();
    await ha.publish('homeassistant/status', 'online');
    await waitUntil(() => discoveries() > before, clock);
  });

  it('says offline on a clean stop', async () => {
    const { ha, stop, clock } = await boot(setup);
    await ha.waitFor('chargebridge/bridge/state', (m) => json(m.text).state === 'online');
    await waitUntil(() => ha.on('chargebridge/garage/availability').at(-1)?.text === 'online', clock);
    await stop();
    // With the embedded broker these arrive before the broker itself stops.
    await waitUntil(() => ha.on('chargebridge/garage/availability').at(-1)?.text === 'offline', clock);
    await waitUntil(
      () => json(ha.on('chargebridge/bridge/state').at(-1)?.text ?? '{}').state === 'offline',
      clock,
    );
  });
});

describe('daemon records charging sessions', () => {
  const sessionsYaml = [
    'users:',
    '  - name: alice',
    '    id_tags: ["04A1B2C3"]',
    'tariff:',
    '  currency: EUR',
    '  price_per_kwh: 0.30',
    '  session_fee: 0.50',
  ].join('\n');

  it('attributes a session to the user picked in HA, costs it, announces it and lists it', async () => {
    const { ha, sim, clock } = await boot(setups[0]!, sessionsYaml);
    await ha.waitFor('chargebridge/garage/availability', (m) => m.text === 'online');
    await ha.publish('chargebridge/garage/set/user', 'alice');
    sim.plugIn({ demandA: 32 });
    await clock.advance(11_000);
    await ha.publish('chargebridge/garage/set/charging', 'ON');
    await waitUntil(() => sim.state.outputState === 1, clock);
    // session_started waits (up to 30 s) for the charger to report its own session id and user.
    await clock.advance(35_000);
    await ha.waitFor('chargebridge/bridge/event', (m) => json(m.text).type === 'session_started');
    // One hour at 16 A × 230 V ≈ 3.68 kWh.
    await clock.advance(60 * 60_000);
    await ha.publish('chargebridge/garage/set/charging', 'OFF');
    await waitUntil(() => sim.state.outputState !== 1, clock);
    await clock.advance(15_000);
    const done = await ha.waitFor(
      'chargebridge/bridge/event',
      (m) => json(m.text).type === 'session_completed',
    );
    const data = json(done.text).data as Record<string, unknown>;
    expect(data.user).toBe('alice');
    expect(Number(data.energy_kwh)).toBeGreaterThan(3.5);
    expect(Number(data.energy_kwh)).toBeLessThan(3.9);
    // 0.30 €/kWh plus the 0.50 € session fee.
    expect(Number(data.cost)).toBeCloseTo(Number(data.energy_kwh) * 0.3 + 0.5, 1);

    await ha.publish('chargebridge/bridge/request/sessions/list', JSON.stringify({ transaction: 't1' }));
    const listed = await ha.waitFor(
      'chargebridge/bridge/response/sessions/list',
      (m) => json(m.text).transaction === 't1',
    );
    const response = json(listed.text) as {
      status: string;
      data: { sessions: Array<Record<string, unknown>> };
    };
    expect(response.status).toBe('ok');
    expect(response.data.sessions).toHaveLength(1);
    expect(response.data.sessions[0]).toMatchObject({ charger: 'garage', user: 'alice' });
    await waitUntil(() => {
      const last = ha.on('chargebridge/garage').at(-1);
      return (
        last !== undefined &&
        json(last.text).session_user === 'alice' &&
        json(last.text).session_cost !== null
      );
    }, clock);
  });
});

describe.skipIf(!has('mosquitto'))('daemon with external Mosquitto restarts', () => {
  it('re-publishes discovery and state after the broker comes back', async () => {
    const { ha, clock, broker } = await boot(setups[1]!);
    await ha.waitFor('homeassistant/device/chargebridge_garage/config');
    await ha.close();
    await broker.restart?.();
    // Mosquitto here keeps no retained messages across a restart, so anything HA sees now was re-published.
    const fresh = await MqttProbe.connect(setupUrl(ha, broker));
    cleanups.push(() => fresh.close());
    await fresh.subscribe('homeassistant/#');
    await fresh.subscribe('chargebridge/#');
    await waitUntil(() => fresh.on('homeassistant/device/chargebridge_garage/config').length > 0, clock, 100);
    await waitUntil(() => fresh.on('chargebridge/garage').length > 0, clock, 100);
    const set = fresh.publish('chargebridge/garage/set/max_current', '12');
    await set;
  });
});

function setupUrl(_probe: MqttProbe, broker: { yaml: string }): string {
  const match = /url: (\S+)/.exec(broker.yaml);
  if (!match?.[1]) throw new Error('no url');
  return match[1];
}

type SimLike = Awaited<ReturnType<typeof boot>>['sim'];
type ClockLike = ManualClock;

async function waitForFrame(
  sim: SimLike,
  command: number,
  predicate: (m: SimLike['receivedFrames'][number]['message']) => boolean,
  clock: ClockLike,
): Promise<void> {
  await waitUntil(
    () => sim.receivedFrames.some((f) => f.frame.command === command && predicate(f.message)),
    clock,
  );
}

/** Lets real I/O happen and moves the injected clock in small steps; bounded, never a fixed sleep. */
async function waitUntil(
  condition: () => boolean,
  clock: ClockLike,
  stepMs = 50,
  attempts = 200,
): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (condition()) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    await new Promise<void>((resolve) => setTimeout(resolve, 10));
    await clock.advance(stepMs);
  }
  throw new Error('condition not met');
}
