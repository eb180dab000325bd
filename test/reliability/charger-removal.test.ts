/**
 * Nothing deleted by accident, on the Home Assistant side: the real daemon (startDaemon from YAML,
 * embedded broker, a persistent data_dir, ManualClock) started, stopped and started again with a
 * changed configuration, and an MQTT client standing in for Home Assistant.
 *
 * - a charger really removed from the configuration leaves Home Assistant (empty retained discovery,
 *   its retained state and availability cleared), logged with its id and name; the removal is sent
 *   again after Home Assistant's birth message and forgotten only then;
 * - a charger list that became empty (a file cut short after `chargers:`) removes nothing and says
 *   how to remove the devices on purpose, which the bridge request then does.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/index.js';
import { ManualClock } from '../../src/core/clock.js';
import { type RunningDaemon, startDaemon } from '../../src/daemon.js';
import { REGISTRY_FILE_NAME } from '../../src/homeassistant/discovery-registry.js';
import { createLogger } from '../../src/log.js';
import { freePort } from '../helpers/mosquitto.js';
import { MqttProbe } from '../helpers/mqtt-probe.js';
import { captureOutput } from '../log/capture.js';
import { GARAGE_YAML, savedBrokerLogin, waitUntil } from './daemon-rig.js';

const CARPORT_YAML = [
  '  - id: carport',
  '    name: Carport Wallbox',
  '    type: bs20',
  '    transport: simulated',
  '    max_current: 16',
].join('\n');

const GARAGE_CONFIG = 'homeassistant/device/chargebridge_garage/config';
const CARPORT_CONFIG = 'homeassistant/device/chargebridge_carport/config';
const CARPORT_RETAINED = ['chargebridge/carport', 'chargebridge/carport/availability'];

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const step of cleanups.splice(0).reverse()) await step();
});

interface Run {
  daemon: RunningDaemon;
  ha: MqttProbe;
  clock: ManualClock;
  logs(): Array<Record<string, unknown>>;
  stop(): Promise<void>;
}

/** A data_dir that outlives each run, and a config file that each run reads anew. */
async function setup() {
  const dir = mkdtempSync(path.join(tmpdir(), 'cb-removal-'));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  const port = await freePort();
  const configPath = path.join(dir, 'configuration.yaml');
  const head = `data_dir: ${dir}\ntimezone: Europe/Berlin\nmqtt:\n  embedded_broker:\n    host: 127.0.0.1\n    port: ${port}\n`;

  const start = async (chargersYaml: string): Promise<Run> => {
    const text = `${head}chargers:\n${chargersYaml}`;
    writeFileSync(configPath, text);
    const out = captureOutput();
    const logger = createLogger({ level: 'info', format: 'json', destination: out.stream });
    const clock = new ManualClock(Date.UTC(2026, 5, 1, 16, 0, 0));
    const daemon = await startDaemon({
      loaded: parseConfigText(text, { path: configPath, env: {} }),
      logger,
      clock,
    });
    // Home Assistant connects once the broker is up, like it does after the daemon restarted.
    const ha = await MqttProbe.connect(daemon.mqttUrl, savedBrokerLogin(dir));
    await ha.subscribe('homeassistant/#');
    await ha.subscribe('chargebridge/#');
    let stopped: Promise<void> | undefined;
    const stop = () => {
      stopped ??= (async () => {
        await ha.close().catch(() => undefined);
        await daemon.stop();
      })();
      return stopped;
    };
    cleanups.push(stop);
    return {
      daemon,
      ha,
      clock,
      logs: () => out.lines().map((line) => JSON.parse(line) as Record<string, unknown>),
      stop,
    };
  };

  const registry = () =>
    JSON.parse(readFileSync(path.join(dir, REGISTRY_FILE_NAME), 'utf8')) as {
      devices: Record<string, { pendingRemoval?: boolean; name?: string }>;
    };
  return { dir, start, registry };
}

/** Home Assistant's birth message, then simulated time past the daemon's random answer delay. */
async function birth(run: Run, until: () => boolean, what: string): Promise<void> {
  await run.ha.publish('homeassistant/status', 'online');
  await waitUntil(until, run.clock, { stepMs: 500, what });
}

describe('a charger removed from the configuration, with the embedded broker', () => {
  it('is removed from Home Assistant with its retained state, kept until Home Assistant was seen online, then forgotten', async () => {
    const s = await setup();
    const first = await s.start(`${GARAGE_YAML}\n${CARPORT_YAML}\n`);
    await first.ha.waitFor(CARPORT_CONFIG, (m) => m.text !== '');
    for (const topic of CARPORT_RETAINED) await first.ha.waitFor(topic, (m) => m.text !== '');
    await first.stop();
    expect(s.registry().devices.chargebridge_carport?.name).toBe('Carport Wallbox');

    // The carport is taken out of the file; the embedded broker restarts with the daemon, and Home
    // Assistant comes back to it only after the removal went out: it must find nothing left.
    const second = await s.start(`${GARAGE_YAML}\n`);
    await second.ha.waitFor(GARAGE_CONFIG, (m) => m.text !== '');
    await second.ha.waitFor('chargebridge/garage');
    for (const topic of [CARPORT_CONFIG, ...CARPORT_RETAINED]) expect(second.ha.on(topic)).toEqual([]);
    expect(second.logs()).toContainEqual(
      expect.objectContaining({
        device: 'chargebridge_carport',
        chargerName: 'Carport Wallbox',
        msg: expect.stringMatching(/removing a charger from Home Assistant/),
      }),
    );
    await second.stop();
    // Home Assistant was away for it: kept, to be sent again.
    expect(s.registry().devices.chargebridge_carport?.pendingRemoval).toBe(true);

    const third = await s.start(`${GARAGE_YAML}\n`);
    await third.ha.waitFor('chargebridge/garage');
    const mark = third.ha.received.length;
    const resentNow = () =>
      third.ha.received
        .slice(mark)
        .filter((m) => m.text === '')
        .map((m) => m.topic);
    // The log line comes when the removal is published; the probe receives it a moment later.
    await birth(
      third,
      () =>
        third.logs().some((l) => /received the removal/.test(String(l.msg))) &&
        [CARPORT_CONFIG, ...CARPORT_RETAINED].every((t) => resentNow().includes(t)),
      'the removal re-sent after the birth message and forgotten',
    );
    const resent = resentNow();
    expect(resent).toEqual(expect.arrayContaining([CARPORT_CONFIG, ...CARPORT_RETAINED]));
    expect(resent).not.toContain(GARAGE_CONFIG);
    expect(third.logs()).toContainEqual(
      expect.objectContaining({
        device: 'chargebridge_carport',
        chargerName: 'Carport Wallbox',
        msg: expect.stringMatching(/received the removal/),
      }),
    );
    await third.stop();
    expect(Object.keys(s.registry().devices).sort()).toEqual(['chargebridge_bridge', 'chargebridge_garage']);

    // Forgotten: a later birth message sends nothing for it.
    const fourth = await s.start(`${GARAGE_YAML}\n`);
    await fourth.ha.waitFor('chargebridge/garage');
    const mark4 = fourth.ha.received.length;
    await birth(
      fourth,
      () => fourth.ha.received.slice(mark4).some((m) => m.topic === GARAGE_CONFIG),
      'discovery re-published after the birth message',
    );
    await fourth.ha.waitFor('chargebridge/bridge/info');
    expect(fourth.ha.on(CARPORT_CONFIG)).toEqual([]);
  });
});

describe('a charger list that became empty', () => {
  it('removes nothing, says how to remove on purpose, and the bridge request then does', async () => {
    const s = await setup();
    const first = await s.start(`${GARAGE_YAML}\n`);
    await first.ha.waitFor(GARAGE_CONFIG, (m) => m.text !== '');
    await first.ha.waitFor('chargebridge/garage');
    await first.stop();

    // The file was cut short right after `chargers:` (a full disk).
    const second = await s.start('');
    await waitUntil(
      () => second.logs().some((l) => /no charger is configured/.test(String(l.msg))),
      second.clock,
      { what: 'the warning about the empty list' },
    );
    const warning = second.logs().find((l) => /no charger is configured/.test(String(l.msg)));
    expect(warning).toMatchObject({
      level: 40,
      devices: ['chargebridge_garage'],
      request: 'chargebridge/bridge/request/remove_unconfigured_devices',
    });
    await birth(
      second,
      () => second.logs().some((l) => /re-publishing discovery/.test(String(l.msg))),
      'the birth answered',
    );
    await second.ha.waitFor('chargebridge/bridge/state');
    // The garage device is still there for Home Assistant, retained, and nothing was cleared.
    expect(second.ha.on(GARAGE_CONFIG).filter((m) => m.text === '')).toEqual([]);
    expect(second.ha.on(GARAGE_CONFIG).some((m) => m.retain && m.text !== '')).toBe(true);
    expect(second.ha.on('chargebridge/garage').filter((m) => m.text === '')).toEqual([]);

    // On purpose: the request removes it.
    await second.ha.publish('chargebridge/bridge/request/remove_unconfigured_devices', '{}');
    const response = await second.ha.waitFor('chargebridge/bridge/response/remove_unconfigured_devices');
    expect(JSON.parse(response.text)).toEqual({ data: { removed: ['chargebridge_garage'] }, status: 'ok' });
    await second.ha.waitFor(GARAGE_CONFIG, (m) => m.text === '');
    await second.ha.waitFor('chargebridge/garage', (m) => m.text === '');
  });
});
