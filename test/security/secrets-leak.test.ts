/**
 * No PIN, password or token ever leaves the daemon: a whole run with secrets given every way the
 * config allows (inline, !secret, *_file, environment, credentials in the broker URL), logging at
 * `trace`, with a wrong-PIN charger, link drops, commands and bridge requests — and every log line,
 * every MQTT message on `#` (bridge/info included) and the `config check` output are searched.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { runConfigCheck } from '../../src/cli/config-check.js';
import { createLogger } from '../../src/log.js';
import { freePort, type Mosquitto, startMosquitto } from '../helpers/mosquitto.js';
import { MqttProbe, type ReceivedMessage } from '../helpers/mqtt-probe.js';
import { has } from '../helpers/system-programs.js';
import { type DaemonRig, parseJson, runFor, startDaemonRig, waitUntil } from '../reliability/daemon-rig.js';

const SECRETS = {
  garagePin: '580417',
  carportPin: '362951',
  wrongSimPin: '774206',
  brokerPassword: 'Emb-broker-pw-6Tq',
  mqttPassword: 'Ext-mqtt-pw-9Lr',
  httpToken: 'http-token-Zx48Kd2Wv7Qp',
};
const asciiHex = (text: string) => Buffer.from(text, 'ascii').toString('hex');
/** Each secret as text and as the hex of its bytes (a frame dump would show the PIN that way). */
const NEEDLES = Object.values(SECRETS).flatMap((s) => [s, asciiHex(s)]);

const CHARGERS = [
  '  - id: garage',
  '    type: bs20',
  '    transport: simulated',
  '    pin: !secret garage_pin',
  '    max_current: 16',
  '    simulator: { car: { plugged_at_start: true, demand_a: 16 } }',
  // This charger expects another PIN: login fails, and that path logs too.
  '  - id: carport',
  '    type: bs20',
  '    transport: simulated',
  '    pin_file: carport.pin',
  '    max_current: 16',
  `    simulator: { pin: "${SECRETS.wrongSimPin}" }`,
].join('\n');

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Capture {
  logs: string[];
  messages: ReceivedMessage[];
  configCheck: string;
}

function leaks(capture: Capture): string[] {
  const found: string[] = [];
  const scan = (where: string, text: string) => {
    for (const needle of NEEDLES)
      if (text.includes(needle)) found.push(`${needle} in ${where}: ${text.slice(0, 300)}`);
  };
  for (const line of capture.logs) scan('a log line', line);
  for (const m of capture.messages) {
    scan(`MQTT topic ${m.topic}`, m.topic);
    scan(`MQTT ${m.topic}`, m.text);
    scan(`MQTT ${m.topic} (hex)`, m.payload.toString('hex'));
  }
  scan('config check', capture.configCheck);
  return found;
}

/** Drives a run that touches every path that logs or publishes: login, auth failure, drops, commands, requests. */
async function exercise(rig: DaemonRig, watcher: MqttProbe): Promise<void> {
  const { clock } = rig;
  const garage = rig.daemon.chargers.find((c) => c.id === 'garage')!;
  const carport = rig.daemon.chargers.find((c) => c.id === 'carport')!;
  await waitUntil(() => garage.getState().link === 'online', clock, { what: 'garage login' });
  await waitUntil(() => carport.getState().link === 'auth_failed', clock, {
    what: 'carport refusing our PIN',
    stepMs: 500,
  });
  await watcher.publish('chargebridge/garage/set/charging', 'ON');
  await watcher.publish('chargebridge/garage/set/max_current', '10');
  await watcher.publish('chargebridge/garage/set/max_current', '99');
  await watcher.publish('chargebridge/garage/set/name', 'Garage2');
  await watcher.publish('chargebridge/carport/set/max_current', '8');
  await watcher.publish(
    'chargebridge/bridge/request/log_level',
    JSON.stringify({ value: 'trace', transaction: 't1' }),
  );
  await watcher.publish('chargebridge/bridge/request/restart', '{}');
  await watcher.publish('chargebridge/bridge/request/nonsense', 'not json');
  await runFor(clock, 30_000, 500);
  rig.sim('garage').dropLink('leak test');
  rig.sim('garage').sendGarbage(Buffer.from([0x06, 0x01, 0x00, 0x30, 1, 2, 3]));
  await runFor(clock, 60_000, 500);
  await watcher.publish('homeassistant/status', 'online');
  await runFor(clock, 10_000, 500);
  await waitUntil(() => watcher.on('chargebridge/bridge/info').length > 0, clock, { what: 'bridge/info' });
  await waitUntil(() => watcher.on('chargebridge/bridge/response/log_level').length > 0, clock, {
    what: 'a bridge response',
  });
}

async function run(options: {
  mqttYaml: string;
  env: NodeJS.ProcessEnv;
  watcherLogin: { username?: string; password?: string };
}): Promise<Capture> {
  const logs: string[] = [];
  const stream = new PassThrough();
  stream.on('data', (chunk: Buffer) => logs.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
  const rig = await startDaemonRig({
    mqttYaml: options.mqttYaml,
    chargersYaml: CHARGERS,
    extraYaml: 'log_level: trace\nhttp:\n  enabled: false\n  port: 8099',
    files: {
      'secrets.yaml': `garage_pin: "${SECRETS.garagePin}"\nbroker_password: "${SECRETS.brokerPassword}"\n`,
      'carport.pin': `${SECRETS.carportPin}\n`,
    },
    env: options.env,
    logger: createLogger({ destination: stream, level: 'trace' }),
    probe: null,
  });
  cleanups.push(() => rig.stop());
  const watcher = await MqttProbe.connect(rig.daemon.mqttUrl, options.watcherLogin);
  cleanups.push(() => watcher.close());
  await watcher.subscribe('#');
  await exercise(rig, watcher);

  // The secrets were really in use: a loaded config holds them, in plain text, where they belong.
  const { config } = rig.loaded;
  expect(config.chargers.map((c) => c.pin)).toEqual([SECRETS.garagePin, SECRETS.carportPin]);
  expect(config.http.token).toBe(SECRETS.httpToken);

  const configPath = path.join(rig.dir, 'configuration.yaml');
  writeFileSync(configPath, rig.configText);
  const out: string[] = [];
  expect(runConfigCheck(['--config', configPath], { write: (t) => void out.push(t) }, options.env)).toBe(0);
  await rig.stop();
  await watcher.close();
  expect(logs.length).toBeGreaterThan(100);
  // The config summary in bridge/info is there, with the secrets masked.
  expect(watcher.on('chargebridge/bridge/info').at(-1)?.text).toContain('[redacted]');
  return { logs, messages: watcher.received, configCheck: out.join('') };
}

describe('secrets never leave the daemon', () => {
  it('embedded broker with a password from secrets.yaml, PINs from !secret and *_file, token from the environment', async () => {
    const port = await freePort();
    const capture = await run({
      mqttYaml: `  embedded_broker:\n    host: 127.0.0.1\n    port: ${port}\n    username: ha\n    password: !secret broker_password`,
      env: { CHARGEBRIDGE_HTTP__TOKEN: SECRETS.httpToken },
      watcherLogin: { username: 'ha', password: SECRETS.brokerPassword },
    });
    expect(capture.messages.length).toBeGreaterThan(50);
    expect(leaks(capture)).toEqual([]);
  });

  const withMosquitto = it.skipIf(!has('mosquitto'));
  withMosquitto('external Mosquitto with credentials in the URL and a password set inline', async () => {
    const mosquitto: Mosquitto = await startMosquitto({
      username: 'chargebridge',
      password: SECRETS.mqttPassword,
    });
    cleanups.push(() => mosquitto.dispose());
    const capture = await run({
      mqttYaml: `  url: mqtt://chargebridge:${SECRETS.mqttPassword}@127.0.0.1:${mosquitto.port}\n  reconnect_period_ms: 200`,
      env: { CHARGEBRIDGE_HTTP__TOKEN: SECRETS.httpToken },
      watcherLogin: { username: 'chargebridge', password: SECRETS.mqttPassword },
    });
    expect(capture.messages.length).toBeGreaterThan(50);
    expect(leaks(capture)).toEqual([]);
    const info = parseJson(
      capture.messages.filter((m) => m.topic === 'chargebridge/bridge/info').at(-1)?.text ?? '{}',
    );
    expect(JSON.stringify(info)).toContain('127.0.0.1');
  });
});
