/**
 * mqtt.js clients at MQTT 5 and at 3.1.1 side by side on the daemon's embedded broker (one port for
 * both since aedes 2): each gets the retained discovery and can command the simulated charger.
 */
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type DaemonRig,
  embeddedBrokerYaml,
  parseJson,
  runFor,
  startDaemonRig,
  waitUntil,
} from '../reliability/daemon-rig.js';

const LOGIN = { username: 'scripts', password: 'mqttjs-interop-secret' };
const DISCOVERY = 'homeassistant/device/chargebridge_garage/config';

interface Seen {
  topic: string;
  text: string;
  retain: boolean;
}

async function client(rig: DaemonRig, protocolVersion: 4 | 5) {
  const options: IClientOptions = { ...LOGIN, protocolVersion, reconnectPeriod: 0, connectTimeout: 5_000 };
  const c: MqttClient = connect(rig.daemon.mqttUrl, options);
  const connack = await new Promise<{ reasonCode?: number; returnCode?: number }>((resolve, reject) => {
    c.once('connect', resolve);
    c.once('error', reject);
  });
  const seen: Seen[] = [];
  c.on('message', (topic, payload, packet) =>
    seen.push({ topic, text: payload.toString('utf8'), retain: packet.retain }),
  );
  return { c, connack, seen };
}

describe('mqtt.js at MQTT 5 and 3.1.1 against the daemon', () => {
  let rig: DaemonRig;

  beforeAll(async () => {
    rig = await startDaemonRig({
      mqttYaml: await embeddedBrokerYaml(
        `    username: ${LOGIN.username}\n    password: ${LOGIN.password}\n`,
      ),
      probe: null,
    });
    await runFor(rig.clock, 5_000);
  });
  afterAll(() => rig?.stop());

  it.each([
    { protocolVersion: 5 as const, amps: 12 },
    { protocolVersion: 4 as const, amps: 9 },
  ])(
    'protocol $protocolVersion: retained discovery, then a command the charger obeys',
    async ({ protocolVersion, amps }) => {
      const { c, connack, seen } = await client(rig, protocolVersion);
      try {
        // The CONNACK really is of that version: MQTT 5 answers with a reason code, 3.1.1 with a return code.
        if (protocolVersion === 5) expect(connack.reasonCode).toBe(0);
        else expect(connack).toMatchObject({ returnCode: 0 });
        expect(connack.reasonCode === undefined).toBe(protocolVersion === 4);

        await c.subscribeAsync(['homeassistant/#', 'chargebridge/garage'], { qos: 1 });
        await waitUntil(() => seen.some((m) => m.topic === DISCOVERY), rig.clock, { what: 'discovery' });
        const discovery = seen.find((m) => m.topic === DISCOVERY);
        expect(discovery?.retain).toBe(true);
        const config = parseJson(discovery?.text ?? '') as {
          components?: Record<string, { command_topic?: string }>;
        };
        const commandTopic = config.components?.max_current?.command_topic;
        expect(commandTopic).toBe('chargebridge/garage/set/max_current');

        await c.publishAsync(commandTopic as string, String(amps), {
          qos: 1,
          // An MQTT 5 publish may carry properties; the daemon reads the payload all the same.
          ...(protocolVersion === 5
            ? { properties: { userProperties: { from: 'interop' }, contentType: 'text/plain' } }
            : {}),
        });
        await waitUntil(
          () =>
            seen.some((m) => m.topic === 'chargebridge/garage' && parseJson(m.text).max_current_a === amps),
          rig.clock,
          { what: `max_current_a ${amps} in the state` },
        );
        expect(rig.sim().state.configuredCurrentA).toBe(amps);
      } finally {
        await c.endAsync();
      }
    },
  );
});
