/**
 * MqttConnection against a broker that only speaks MQTT 3.1.1: 'auto' falls back (once, saying so),
 * '5' does not and reports the refusal, '3.1.1' never tries 5.
 */
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { MqttConnection, type MqttConnectionOptions, MqttProtocolError } from '../../src/mqtt/connection.js';
import { nextEvent } from '../helpers/mqtt-probe.js';
import { Mqtt311OnlyBroker, type Mqtt311OnlyBrokerOptions } from '../helpers/mqtt311-only-broker.js';

const REFUSALS = ['return-code-1', 'reason-code-0x84'] as const;

function captureLogs() {
  const stream = new PassThrough();
  const lines: { level: number; msg: string }[] = [];
  let raw = '';
  stream.on('data', (chunk: Buffer) => {
    raw += chunk.toString('utf8');
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line));
  });
  return { logger: createLogger({ level: 'debug', destination: stream }), lines, raw: () => raw };
}

describe('MqttConnection against a broker that only speaks MQTT 3.1.1', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function startFake(options?: Mqtt311OnlyBrokerOptions): Promise<Mqtt311OnlyBroker> {
    const fake = await Mqtt311OnlyBroker.start(options);
    cleanups.push(() => fake.close());
    return fake;
  }

  function makeConnection(overrides: Partial<MqttConnectionOptions> & { url: string }) {
    const logs = captureLogs();
    const connection = new MqttConnection({
      clientId: `test-${Math.random().toString(16).slice(2)}`,
      will: { topic: 'cb/bridge/state', payload: 'offline', retain: true, qos: 1 },
      keepaliveS: 30,
      reconnectPeriodMs: 50,
      logger: logs.logger,
      ...overrides,
    });
    cleanups.push(() => connection.close());
    const fallbackWarnings = () =>
      logs.lines.filter((l) => l.level === 40 && l.msg.includes('does not speak MQTT 5'));
    return { connection, logs, fallbackWarnings };
  }

  it.each(REFUSALS)(
    'auto: refused MQTT 5 (%s), it retries at once with 3.1.1, warns once, and works',
    async (refuseMqtt5With) => {
      const fake = await startFake({ refuseMqtt5With });
      const { connection, logs, fallbackWarnings } = makeConnection({
        url: `mqtt://chargebridge:s3cret-pass@127.0.0.1:${fake.port}`,
        // Far beyond the test's wait: the retry with 3.1.1 must not wait for the reconnect period.
        reconnectPeriodMs: 60_000,
      });
      const connected = nextEvent(connection, 'connected');
      await Promise.all([connection.connect(), connected]);
      expect([connection.state, connection.protocolVersion, fake.connectLevels]).toEqual([
        'connected',
        4,
        [5, 4],
      ]);

      // Round trip through the fake: it echoes our publish to our own subscription.
      await connection.subscribe('cb/garage/set/#');
      const message = nextEvent(connection, 'message');
      await connection.publish('cb/garage/set/charging', 'ON', { qos: 1 });
      expect((await message).map(String)).toEqual(['cb/garage/set/charging', 'ON', 'false']);

      const warnings = fallbackWarnings();
      expect(warnings).toHaveLength(1);
      expect(warnings[0]?.msg).toContain(`mqtt://127.0.0.1:${fake.port}`);
      expect(warnings[0]?.msg).toContain('Home Assistant 2027.1');
      expect(logs.raw()).not.toContain('s3cret-pass');
      // The refusal was handled, not reported as a connection failure.
      expect(connection.lastError).toBeUndefined();
    },
  );

  it('auto: reconnects keep using 3.1.1 and do not warn again', async () => {
    const fake = await startFake();
    const { connection, fallbackWarnings } = makeConnection({ url: fake.url });
    await connection.connect();
    const reconnected = nextEvent(connection, 'connected');
    fake.dropClients();
    await reconnected;
    expect([connection.protocolVersion, fake.connectLevels, fallbackWarnings().length]).toEqual([
      4,
      [5, 4, 4],
      1,
    ]);
  });

  it('auto: a QoS 1 publish queued before the first CONNACK goes out after the fallback', async () => {
    const fake = await startFake();
    const { connection } = makeConnection({ url: fake.url });
    const received = nextEvent(fake, 'publish');
    const connecting = connection.connect();
    // Before any CONNACK: mqtt.js keeps it in its outgoing store, which the fallback must not drop.
    const queued = connection.publish('cb/bridge/state', 'online', { qos: 1, retain: true });
    await Promise.all([connecting, queued]);
    expect((await received).map(String)).toEqual(['cb/bridge/state', 'online']);
    expect(connection.counters()).toMatchObject({ published: 1, publishFailures: 0, queued: 0 });
  });

  it.each(REFUSALS)(
    "'5': refused MQTT 5 (%s), it does not fall back, reports the refusal and keeps retrying",
    async (refuseMqtt5With) => {
      const fake = await startFake({ refuseMqtt5With });
      const { connection, logs, fallbackWarnings } = makeConnection({ url: fake.url, protocolVersion: '5' });
      const rejected = connection.connect().then(
        () => undefined,
        (err: unknown) => err,
      );
      const error = await rejected;
      expect(error).toBeInstanceOf(MqttProtocolError);
      expect((error as Error).message).toMatch(/refused MQTT 5.*protocol_version is 5/);
      expect(connection.lastError).toMatch(
        /^broker refused MQTT 5 \(un(acceptable|supported) protocol version\)$/,
      );

      await nextEvent(fake, 'connect');
      expect(fake.connectLevels.length).toBeGreaterThanOrEqual(2);
      expect(fake.connectLevels.every((level) => level === 5)).toBe(true);
      expect([connection.protocolVersion, connection.isConnected, fallbackWarnings()]).toEqual([
        5,
        false,
        [],
      ]);
      const errors = logs.lines.filter((l) => l.level === 50 && l.msg.includes('refused MQTT 5'));
      expect(errors).toHaveLength(1);
    },
  );

  it("'3.1.1': connects at protocol level 4 straight away", async () => {
    const fake = await startFake();
    const { connection, fallbackWarnings } = makeConnection({ url: fake.url, protocolVersion: '3.1.1' });
    await connection.connect();
    expect([connection.state, connection.protocolVersion, fake.connectLevels, fallbackWarnings()]).toEqual([
      'connected',
      4,
      [4],
      [],
    ]);
  });
});
