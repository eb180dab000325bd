/**
 * Home Assistant's own MQTT client library (paho-mqtt, MQTT 5) against the real daemon and its
 * embedded broker: discovery, birth message, commands a simulated BS20 obeys, and HA's will reaching
 * mqtt.js subscribers at MQTT 5 and 3.1.1 when HA's connection drops. The Python client is driven
 * step by step (ha-paho-client.py) while this test moves the daemon's simulated clock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MqttProbe } from '../helpers/mqtt-probe.js';
import { has } from '../helpers/system-programs.js';
import {
  type DaemonRig,
  embeddedBrokerYaml,
  parseJson,
  runFor,
  startDaemonRig,
} from '../reliability/daemon-rig.js';
import { type JsonLine, ScriptSession } from './python.js';

const LOGIN = { username: 'homeassistant', password: 'ha-interop-secret' };
const DISCOVERY = 'homeassistant/device/chargebridge_garage/config';
const WILL_TOPIC = 'interop/homeassistant/will';
// What Home Assistant's discovery subscribes to (not `#`: it only wants config topics).
const DISCOVERY_FILTERS = [
  ['homeassistant/+/+/config', 0],
  ['homeassistant/+/+/+/config', 0],
];
// 0x86 bad user name or password, 0x87 not authorized: what an MQTT 5 client reads as a refused login.
const LOGIN_REFUSALS = [0x86, 0x87];

interface Component {
  p: string;
  command_topic?: string;
  state_topic?: string;
  payload_on?: string;
  availability?: Array<{ topic: string }>;
}
interface DiscoveryConfig {
  device: Record<string, unknown>;
  origin: Record<string, unknown>;
  components: Record<string, Component>;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

async function daemonWith(brokerLines: string): Promise<DaemonRig> {
  const rig = await startDaemonRig({ mqttYaml: await embeddedBrokerYaml(brokerLines), probe: null });
  cleanups.push(() => rig.stop());
  // The simulated BS20 logs in: first beacon 0.7 s after connecting, then its settings are read.
  await runFor(rig.clock, 5_000);
  return rig;
}

function homeAssistant(): ScriptSession {
  const ha = ScriptSession.start('ha-paho-client.py', ['--max-seconds', '50']);
  cleanups.push(() => ha.stop());
  return ha;
}

/** Sends a command and waits for the event it leads to (only events printed after it count). */
function step(
  rig: DaemonRig,
  ha: ScriptSession,
  command: JsonLine,
  match: (e: JsonLine) => boolean,
  what: string,
): Promise<JsonLine> {
  const from = ha.events.length;
  ha.send(command);
  return ha.next(match, { from, what, timeoutMs: 8_000, between: () => runFor(rig.clock, 500, 250) });
}

const stateOf = (e: JsonLine, topic: string) =>
  e.event === 'message' && e.topic === topic ? parseJson(String(e.payload)) : undefined;

async function connectAndDiscover(
  rig: DaemonRig,
  ha: ScriptSession,
  login: typeof LOGIN | Record<string, never>,
) {
  const port = rig.daemon.embeddedBroker?.port;
  expect(port).toBeTypeOf('number');
  const connected = await step(
    rig,
    ha,
    {
      cmd: 'connect',
      host: '127.0.0.1',
      port,
      ...login,
      client_id: 'ha-interop',
      will: { topic: WILL_TOPIC, payload: 'home assistant gone', qos: 1, retain: false },
    },
    (e) => e.event === 'connected',
    'CONNACK',
  );
  expect(connected.rc).toBe(0);

  const subscribed = await step(
    rig,
    ha,
    { cmd: 'subscribe', topics: DISCOVERY_FILTERS },
    (e) => e.event === 'subscribed',
    'SUBACK',
  );
  expect(subscribed.codes).toEqual([0, 0]);
  const discovery = await ha.next((e) => e.event === 'discovery' && e.topic === DISCOVERY, {
    what: 'the retained discovery config',
    between: () => runFor(rig.clock, 500, 250),
  });
  expect(discovery.retain).toBe(true);
  expect(discovery.error).toBeUndefined();
  const config = discovery.config as DiscoveryConfig;
  expect(config.device).toMatchObject({ identifiers: ['chargebridge_garage'], model: 'BS20' });
  expect(config.origin).toMatchObject({ name: expect.any(String) });
  expect(config.components.max_current).toMatchObject({ p: 'number', command_topic: expect.any(String) });
  expect(config.components.charging).toMatchObject({ p: 'switch', command_topic: expect.any(String) });
  expect(config.components.energy_total).toMatchObject({ p: 'sensor', state_topic: 'chargebridge/garage' });

  // Like HA after discovery: subscribe to every entity's state and availability topics.
  const topics = new Set<string>();
  for (const c of Object.values(config.components)) {
    if (c.state_topic) topics.add(c.state_topic);
    for (const a of c.availability ?? []) topics.add(a.topic);
  }
  const stateSubscribed = await step(
    rig,
    ha,
    { cmd: 'subscribe', topics: [...topics].map((t) => [t, 0]) },
    (e) => e.event === 'subscribed',
    'SUBACK for the state topics',
  );
  expect(stateSubscribed.codes).toEqual([...topics].map(() => 0));
  await ha.next(
    (e) => e.event === 'message' && e.topic === 'chargebridge/garage/availability' && e.payload === 'online',
    {
      what: 'the charger online',
      between: () => runFor(rig.clock, 500, 250),
    },
  );
  return config;
}

async function commandMaxCurrent(rig: DaemonRig, ha: ScriptSession, config: DiscoveryConfig, amps: number) {
  const state = await step(
    rig,
    ha,
    { cmd: 'publish', topic: config.components.max_current?.command_topic, payload: String(amps), qos: 0 },
    (e) => stateOf(e, 'chargebridge/garage')?.max_current_a === amps,
    `the state showing max_current_a ${amps}`,
  );
  expect(stateOf(state, 'chargebridge/garage')?.max_current_a).toBe(amps);
  // The charger itself took it, not only the daemon's idea of it.
  expect(rig.sim().state.configuredCurrentA).toBe(amps);
}

describe.skipIf(!has('paho'))("Home Assistant's client (paho, MQTT 5) against the daemon", () => {
  it('with a login: discovery, birth, commands the charger obeys, and its will reaching MQTT 5 and 3.1.1 subscribers', async () => {
    const rig = await daemonWith(`    username: ${LOGIN.username}\n    password: ${LOGIN.password}\n`);
    const url = rig.daemon.mqttUrl;
    const watch5 = await MqttProbe.connect(url, { ...LOGIN, protocolVersion: 5 });
    const watch4 = await MqttProbe.connect(url, { ...LOGIN, protocolVersion: 4 });
    cleanups.push(
      () => watch5.close(),
      () => watch4.close(),
    );
    await watch5.subscribe(WILL_TOPIC);
    await watch4.subscribe(WILL_TOPIC);

    // HA without its login is turned away with an MQTT 5 reason code paho understands.
    const stranger = homeAssistant();
    const refused = await step(
      rig,
      stranger,
      { cmd: 'connect', host: '127.0.0.1', port: rig.daemon.embeddedBroker?.port },
      (e) => e.event === 'connected',
      'CONNACK',
    );
    expect(LOGIN_REFUSALS).toContain(refused.rc);

    const ha = homeAssistant();
    const config = await connectAndDiscover(rig, ha, LOGIN);

    // HA's birth message: the daemon answers with its discovery again.
    const discoveries = () =>
      ha.events.filter((e) => e.event === 'discovery' && e.topic === DISCOVERY).length;
    const before = discoveries();
    ha.send({ cmd: 'publish', topic: 'homeassistant/status', payload: 'online', qos: 0 });
    await ha.next(() => discoveries() > before, {
      what: 'discovery re-published after the birth message',
      between: () => runFor(rig.clock, 500, 250),
    });

    const sim = rig.sim();
    sim.plugIn({ demandA: 32 });
    await ha.next((e) => stateOf(e, 'chargebridge/garage')?.plugged === true, {
      what: 'the car plugged in',
      timeoutMs: 8_000,
      between: () => runFor(rig.clock, 1_000),
    });
    await commandMaxCurrent(rig, ha, config, 10);

    const charging = config.components.charging as Component;
    await step(
      rig,
      ha,
      { cmd: 'publish', topic: charging.command_topic, payload: charging.payload_on ?? 'ON', qos: 0 },
      (e) => stateOf(e, 'chargebridge/garage')?.charging_active === true,
      'the state showing charging',
    );
    expect(sim.state.outputState).toBe(1);
    expect(sim.state.actualCurrentA).toBe(10);

    // HA's connection drops without DISCONNECT: the broker publishes its will to both protocol levels.
    await step(rig, ha, { cmd: 'kill' }, (e) => e.event === 'killed', 'the socket closed');
    const [will5, will4] = await Promise.all([watch5.waitFor(WILL_TOPIC), watch4.waitFor(WILL_TOPIC)]);
    expect(will5.text).toBe('home assistant gone');
    expect(will4.text).toBe('home assistant gone');
  });

  it('anonymous, with allow_anonymous: true: discovery and a command', async () => {
    const rig = await daemonWith('    allow_anonymous: true\n');
    const ha = homeAssistant();
    const config = await connectAndDiscover(rig, ha, {});
    await commandMaxCurrent(rig, ha, config, 8);
  });
});
