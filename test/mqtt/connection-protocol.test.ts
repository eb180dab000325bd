/**
 * MqttConnection's protocol version against brokers that speak MQTT 5 (our embedded aedes and a real
 * Mosquitto): what goes on the wire, and that retained flags, the last will, reconnects and refused
 * credentials behave the same at 5 and at 3.1.1. A TCP proxy between the connection and the broker
 * reads the protocol level of each CONNECT and can cut the link without a DISCONNECT.
 */
import { once } from 'node:events';
import { createServer, connect as netConnect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import {
  MqttAuthError,
  MqttConnection,
  type MqttConnectionOptions,
  type MqttProtocolSetting,
} from '../../src/mqtt/connection.js';
import {
  type BrokerKind,
  embeddedBroker,
  mosquittoBroker,
  type TestBroker,
  type TestBrokerOptions,
} from '../helpers/brokers.js';
import { MqttProbe, nextEvent } from '../helpers/mqtt-probe.js';
import { has } from '../helpers/system-programs.js';

interface Proxy {
  readonly url: string;
  /** Protocol level of each CONNECT that went through, in order. */
  readonly connectLevels: number[];
  /** Destroy every proxied socket: to the broker, the client vanished without a DISCONNECT. */
  cut(): void;
  close(): Promise<void>;
}

/** The protocol level byte of a CONNECT at the start of `head`, once enough bytes are there. */
function connectLevel(head: Buffer): number | undefined {
  let offset = 1;
  while (offset < head.length && ((head[offset] ?? 0) & 0x80) !== 0) offset++;
  offset++; // last remaining-length byte
  if (head.length < offset + 2) return undefined;
  return head[offset + 2 + head.readUInt16BE(offset)];
}

async function startProxy(targetPort: number): Promise<Proxy> {
  const connectLevels: number[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = netConnect(targetPort, '127.0.0.1');
    for (const [socket, peer] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      sockets.add(socket);
      socket.setNoDelay(true);
      socket.on('error', () => {});
      socket.on('close', () => {
        sockets.delete(socket);
        peer.destroy();
      });
    }
    let head = Buffer.alloc(0);
    const sniff = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const level = connectLevel(head);
      if (level === undefined) return;
      connectLevels.push(level);
      client.off('data', sniff);
    };
    client.on('data', sniff);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy is not listening');
  const cut = () => {
    for (const socket of sockets) socket.destroy();
  };
  return {
    url: `mqtt://127.0.0.1:${address.port}`,
    connectLevels,
    cut,
    close: async () => {
      cut();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function protocolSuite(kind: BrokerKind): void {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function startBroker(options?: TestBrokerOptions): Promise<{ broker: TestBroker; proxy: Proxy }> {
    const broker = await kind.start(options);
    cleanups.push(() => broker.stop());
    const proxy = await startProxy(broker.port);
    cleanups.push(() => proxy.close());
    return { broker, proxy };
  }

  function makeConnection(url: string, overrides: Partial<MqttConnectionOptions> = {}): MqttConnection {
    const connection = new MqttConnection({
      url,
      clientId: `test-${Math.random().toString(16).slice(2)}`,
      will: { topic: 'cb/bridge/state', payload: 'offline', retain: true, qos: 1 },
      keepaliveS: 30,
      reconnectPeriodMs: 50,
      logger: silentLogger(),
      ...overrides,
    });
    cleanups.push(() => connection.close());
    return connection;
  }

  async function probe(url: string, ...topics: string[]): Promise<MqttProbe> {
    const p = await MqttProbe.connect(url);
    cleanups.push(() => p.close());
    for (const t of topics) await p.subscribe(t);
    return p;
  }

  it.each([
    ['auto', 5],
    ['5', 5],
    ['3.1.1', 4],
    [undefined, 5],
  ] as const)('protocol_version %s connects at protocol level %i', async (setting, level) => {
    const { proxy } = await startBroker();
    const connection = makeConnection(proxy.url, setting === undefined ? {} : { protocolVersion: setting });
    await connection.connect();
    expect([connection.state, connection.protocolVersion, proxy.connectLevels]).toEqual([
      'connected',
      level,
      [level],
    ]);
  });

  it.each(['auto', '3.1.1'] as const)(
    '%s: `retained` is set for messages from the broker store only, not for live retained publishes',
    async (setting) => {
      const { broker } = await startBroker();
      const ha = await probe(broker.url);
      await ha.publish('cb/garage/set/max_current', '16', { retain: true });
      const connection = makeConnection(broker.url, { protocolVersion: setting });
      await connection.connect();

      const stored = nextEvent(connection, 'message');
      await connection.subscribe('cb/garage/set/#');
      expect((await stored).map(String)).toEqual(['cb/garage/set/max_current', '16', 'true']);
      // At MQTT 5 a subscription with "retain as published" would keep the flag set here.
      const live = nextEvent(connection, 'message');
      await ha.publish('cb/garage/set/max_current', '10', { retain: true });
      expect((await live).map(String)).toEqual(['cb/garage/set/max_current', '10', 'false']);
    },
  );

  it.each(['auto', '3.1.1'] as const)(
    '%s: the broker publishes the retained will when the link drops without DISCONNECT',
    async (setting) => {
      const { broker, proxy } = await startBroker();
      const watcher = await probe(broker.url, 'cb/bridge/state');
      const connection = makeConnection(proxy.url, { protocolVersion: setting, reconnectPeriodMs: 60_000 });
      await connection.connect();
      await connection.publish('cb/bridge/state', 'online', { retain: true, qos: 1 });
      await watcher.waitFor('cb/bridge/state', (m) => m.text === 'online');

      proxy.cut();
      const will = await watcher.waitFor('cb/bridge/state', (m) => m.text === 'offline');
      // Home Assistant connecting later still sees the bridge offline.
      const late = await probe(broker.url, 'cb/bridge/state');
      const retained = await late.waitFor('cb/bridge/state');
      expect([will.text, retained.text, retained.retain]).toEqual(['offline', 'offline', true]);
    },
  );

  it.each([
    ['auto', 5],
    ['3.1.1', 4],
  ] as const)(
    '%s: after the link drops it reconnects at the same level, subscriptions restored',
    async (setting, level) => {
      const { broker, proxy } = await startBroker();
      const connection = makeConnection(proxy.url, { protocolVersion: setting });
      await connection.subscribe('cb/garage/set/charging');
      await connection.connect();

      const reconnected = nextEvent(connection, 'connected');
      proxy.cut();
      await reconnected;
      expect([connection.protocolVersion, proxy.connectLevels, connection.counters().reconnects]).toEqual([
        level,
        [level, level],
        1,
      ]);
      const ha = await probe(broker.url);
      const message = nextEvent(connection, 'message');
      await ha.publish('cb/garage/set/charging', 'ON');
      expect((await message).map(String)).toEqual(['cb/garage/set/charging', 'ON', 'false']);
    },
  );

  it.each([
    // MQTT 5: 134 bad user name or password, 135 not authorized; 3.1.1: 4 and 5.
    ['auto', [134, 135]],
    ['3.1.1', [4, 5]],
  ] as const)('%s: refused credentials reject connect() with MqttAuthError', async (setting, codes) => {
    const { broker } = await startBroker({ username: 'chargebridge', password: 'correct horse' });
    const connection = makeConnection(broker.url, {
      protocolVersion: setting as MqttProtocolSetting,
      username: 'chargebridge',
      password: 'battery staple',
    });
    const error = await connection.connect().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(MqttAuthError);
    expect(codes).toContain((error as MqttAuthError).reasonCode);
    // No fallback: a credentials refusal is not a protocol refusal.
    expect([connection.state, connection.protocolVersion]).toEqual(['refused', setting === 'auto' ? 5 : 4]);
  });

  // Only where it applies (no skipped test for Mosquitto): Mosquitto 2.0.11 closes a taken-over
  // connection without a DISCONNECT; aedes sends one.
  if (kind !== embeddedBroker) return;
  it('auto: the reason of a DISCONNECT from the broker shows in lastError', async () => {
    const { broker } = await startBroker();
    // No retry within the test: the two would take the client id back and forth.
    const first = makeConnection(broker.url, { clientId: 'cb-same-id', reconnectPeriodMs: 60_000 });
    await first.connect();
    const dropped = nextEvent(first, 'disconnected');
    const second = makeConnection(broker.url, { clientId: 'cb-same-id', reconnectPeriodMs: 60_000 });
    await second.connect();
    await dropped;
    expect(first.lastError).toBe('broker disconnected us: session taken over (reason code 142)');
  });
}

describe(`MqttConnection protocol version against ${embeddedBroker.name}`, () =>
  protocolSuite(embeddedBroker));

describe.skipIf(!has('mosquitto'))(`MqttConnection protocol version against ${mosquittoBroker.name}`, () =>
  protocolSuite(mosquittoBroker),
);
