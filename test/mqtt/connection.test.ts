import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import { MqttAuthError, MqttConnection, type MqttConnectionOptions } from '../../src/mqtt/connection.js';
import { RetainedPublisher } from '../../src/mqtt/retained-publisher.js';
import { brokers, type TestBroker, type TestBrokerOptions } from '../helpers/brokers.js';
import { MqttProbe, nextEvent } from '../helpers/mqtt-probe.js';
import { describeEach } from '../helpers/system-programs.js';

const standIn = fileURLToPath(new URL('./fixtures/daemon-stand-in.ts', import.meta.url));

describeEach(brokers)('MqttConnection against $name', (kind) => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function startBroker(options?: TestBrokerOptions): Promise<TestBroker> {
    const broker = await kind.start(options);
    cleanups.push(() => broker.stop());
    return broker;
  }

  function makeConnection(
    broker: TestBroker,
    overrides: Partial<MqttConnectionOptions> = {},
  ): MqttConnection {
    const connection = new MqttConnection({
      url: broker.url,
      clientId: `test-${Math.random().toString(16).slice(2)}`,
      will: { topic: 'cb/bridge/state', payload: '{"state":"offline"}', retain: true, qos: 1 },
      keepaliveS: 30,
      reconnectPeriodMs: 50,
      logger: silentLogger(),
      ...overrides,
    });
    cleanups.push(() => connection.close());
    return connection;
  }

  async function probe(broker: TestBroker, ...topics: string[]): Promise<MqttProbe> {
    const p = await MqttProbe.connect(broker.url);
    cleanups.push(() => p.close());
    for (const t of topics) await p.subscribe(t);
    return p;
  }

  it('publishes, subscribes and counts messages', async () => {
    const broker = await startBroker();
    const connection = makeConnection(broker);
    const received: [string, string][] = [];
    connection.on('message', (topic, payload) => received.push([topic, payload.toString()]));
    await connection.subscribe(['cb/garage/set/#', 'cb/bridge/request/#']);
    const connected = nextEvent(connection, 'connected');
    await connection.connect();
    await connected;
    expect(connection.state).toBe('connected');

    const watcher = await probe(broker, 'cb/garage');
    await connection.publish('cb/garage', '{"power":7200}', { retain: true, qos: 1 });
    expect((await watcher.waitFor('cb/garage')).text).toBe('{"power":7200}');

    const message = nextEvent(connection, 'message');
    await watcher.publish('cb/garage/set/max_current', '16');
    expect((await message).map(String)).toEqual(['cb/garage/set/max_current', '16', 'false']);
    expect(received).toEqual([['cb/garage/set/max_current', '16']]);
    expect(connection.counters()).toMatchObject({ published: 1, received: 1, reconnects: 0, queued: 0 });
  });

  it('the broker publishes the retained will when the daemon process is killed', async () => {
    const broker = await startBroker();
    const child = spawn(process.execPath, ['--import', 'tsx', standIn, broker.url, 'cb/bridge/state'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    cleanups.push(async () => {
      child.kill('SIGKILL');
      await exited;
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout?.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve());
      child.once('exit', (code) => reject(new Error(`stand-in exited early (${code})`)));
    });
    const watcher = await probe(broker, 'cb/bridge/state');
    expect((await watcher.waitFor('cb/bridge/state')).text).toBe('online');

    child.kill('SIGKILL');
    await exited;
    const will = await watcher.waitFor('cb/bridge/state', (m) => m.text === 'offline');
    // A client arriving later (Home Assistant after a restart) sees the retained offline.
    const late = await probe(broker, 'cb/bridge/state');
    const retained = await late.waitFor('cb/bridge/state');
    expect([will.text, retained.text, retained.retain]).toEqual(['offline', 'offline', true]);
  });

  it('close() disconnects cleanly, so the broker does not publish the will', async () => {
    const broker = await startBroker();
    const connection = makeConnection(broker);
    await connection.connect();
    await connection.publish('cb/bridge/state', '{"state":"online"}', { retain: true, qos: 1 });
    // Not awaited: close() itself waits for in-flight publishes before disconnecting.
    const last = connection.publish('cb/bridge/info', 'last words', { retain: true, qos: 1 });
    await connection.close();
    await last;
    expect(connection.state).toBe('closed');
    const late = await probe(broker, 'cb/bridge/state', 'cb/bridge/info');
    expect((await late.waitFor('cb/bridge/state')).text).toBe('{"state":"online"}');
    expect((await late.waitFor('cb/bridge/info')).text).toBe('last words');
    await expect(connection.publish('x', 'y')).rejects.toThrow(/closed/);
  });

  it('emits connected again after a broker restart, with subscriptions restored', async () => {
    const broker = await startBroker();
    const connection = makeConnection(broker);
    let connectedCount = 0;
    connection.on('connected', () => connectedCount++);
    await connection.subscribe('cb/garage/set/charging');
    await connection.connect();
    const generation = connection.generation;

    const disconnected = nextEvent(connection, 'disconnected');
    const reconnected = nextEvent(connection, 'connected');
    await broker.restart();
    await disconnected;
    // Subscribed while offline: must work after the reconnect too.
    await connection.subscribe('cb/garage/set/max_current');
    await reconnected;
    expect(connectedCount).toBe(2);
    expect(connection.generation).toBe(generation + 1);
    expect(connection.counters().reconnects).toBe(1);

    const ha = await probe(broker);
    const first = nextEvent(connection, 'message');
    await ha.publish('cb/garage/set/charging', 'ON');
    expect((await first).map(String)).toEqual(['cb/garage/set/charging', 'ON', 'false']);
    const second = nextEvent(connection, 'message');
    await ha.publish('cb/garage/set/max_current', '10');
    expect((await second).map(String)).toEqual(['cb/garage/set/max_current', '10', 'false']);
  });

  it('RetainedPublisher skips unchanged payloads and re-publishes everything after a reconnect', async () => {
    const broker = await startBroker();
    const connection = makeConnection(broker);
    await connection.connect();
    const retained = new RetainedPublisher(connection);
    expect(await retained.publish('cb/garage', 'A')).toBe(true);
    expect(await retained.publish('cb/garage', 'A')).toBe(false);
    expect(await retained.publish('cb/garage', Buffer.from('A'))).toBe(false);
    expect(await retained.publish('cb/garage', 'B')).toBe(true);
    expect(await retained.publish('cb/other', 'B')).toBe(true);
    expect(connection.counters().published).toBe(3);

    // The restarted broker has lost its retained messages (no persistence in these tests).
    const reconnected = nextEvent(connection, 'connected');
    await broker.restart();
    await reconnected;
    expect(await retained.publish('cb/garage', 'B')).toBe(true);
    expect(await retained.publish('cb/garage', 'B')).toBe(false);
    const late = await probe(broker, 'cb/garage');
    const message = await late.waitFor('cb/garage');
    expect([message.text, message.retain]).toEqual(['B', true]);

    await retained.clear('cb/garage');
    expect(await retained.publish('cb/garage', 'B')).toBe(true);
  });

  it('holds events while offline up to the limit, dropping the oldest, and rejects what is left on close', async () => {
    const broker = await startBroker();
    const connection = makeConnection(broker, { maxQueuedPublishes: 2, reconnectPeriodMs: 60_000 });
    await connection.connect();
    const disconnected = nextEvent(connection, 'disconnected');
    await broker.stop();
    await disconnected;
    const first = connection.publish('cb/a', '1', { qos: 1 });
    const second = connection.publish('cb/b', '2');
    const third = connection.publish('cb/c', '3');
    await expect(first).rejects.toThrow(/queue full \(2 messages.*dropped cb\/a/);
    // Retained publishes do not count against the bound: one per topic is always kept.
    const state = connection.publish('cb/s', 'x', { retain: true });
    expect(connection.counters().queued).toBe(3);
    await connection.close();
    await expect(second).rejects.toThrow(/closed before the message was sent/);
    await expect(third).rejects.toThrow(/closed before the message was sent/);
    await expect(state).rejects.toThrow(/closed before the message was sent/);
    expect(connection.counters()).toMatchObject({ queued: 0, publishFailures: 4 });
  });

  it('keeps the latest retained state of every topic through a flood while the broker is down', async () => {
    const broker = await startBroker();
    const connection = makeConnection(broker, { maxQueuedPublishes: 1000 });
    await connection.connect();
    const disconnected = nextEvent(connection, 'disconnected');
    const reconnected = nextEvent(connection, 'connected');
    const restarting = broker.restart();
    await disconnected;
    // 6000 state updates to 300 topics, far beyond the 1000 bound, plus a few events.
    const topics = 300;
    const sends: Promise<void>[] = [];
    for (let i = 0; i < 6000; i++) {
      sends.push(connection.publish(`cb/flood/${i % topics}`, `v${i}`, { retain: true, qos: 1 }));
    }
    const event = connection.publish('cb/bridge/event', '{"type":"flood"}');
    expect(connection.counters().queued).toBe(topics + 1);
    await restarting;
    await reconnected;
    // Superseded publishes resolve too: nothing fails.
    await Promise.all([...sends, event]);
    expect(connection.counters().publishFailures).toBe(0);

    const late = await probe(broker, 'cb/flood/#');
    for (let t = 0; t < topics; t++) {
      expect((await late.waitFor(`cb/flood/${t}`)).text).toBe(`v${5700 + t}`);
    }
  });

  it('delivers what was queued offline once the broker is back', async () => {
    const broker = await startBroker();
    const connection = makeConnection(broker);
    await connection.connect();
    const disconnected = nextEvent(connection, 'disconnected');
    const reconnected = nextEvent(connection, 'connected');
    // Restart in two steps so the publish happens while the broker is really gone.
    const restarting = broker.restart();
    await disconnected;
    const queued = connection.publish('cb/garage', 'while offline', { retain: true, qos: 1 });
    await restarting;
    await reconnected;
    await queued;
    const late = await probe(broker, 'cb/garage');
    expect((await late.waitFor('cb/garage')).text).toBe('while offline');
  });

  it('connect() rejects with MqttAuthError on bad credentials, keeps retrying, and connects with good ones', async () => {
    const broker = await startBroker({ username: 'chargebridge', password: 'correct horse' });

    const anonymous = makeConnection(broker);
    await expect(anonymous.connect()).rejects.toBeInstanceOf(MqttAuthError);
    expect(anonymous.state).toBe('refused');
    await anonymous.close();

    const wrong = makeConnection(broker, { username: 'chargebridge', password: 'battery staple' });
    const refusals: string[] = [];
    wrong.on('refused', (reason) => refusals.push(reason));
    const rejected = wrong.connect();
    // 3.1.1 says "bad username or password", MQTT 5 "bad user name or password".
    await expect(rejected).rejects.toThrow(
      /refused the connection: (bad user ?name or password|not authorized)/i,
    );
    expect(wrong.state).toBe('refused');
    expect(wrong.lastError).toMatch(/bad user ?name or password|not authorized/i);
    // It keeps retrying at the reconnect period, surfacing each refusal.
    await nextEvent(wrong, 'refused');
    expect(refusals.length).toBeGreaterThanOrEqual(2);
    await wrong.close();

    const right = makeConnection(broker, { username: 'chargebridge', password: 'correct horse' });
    await right.connect();
    expect(right.state).toBe('connected');
    expect(right.lastError).toBeUndefined();
  });

  it('close() before the broker ever answered rejects the pending connect()', async () => {
    const broker = await startBroker();
    await broker.stop();
    const connection = makeConnection(broker);
    const connecting = connection.connect();
    await connection.close();
    await expect(connecting).rejects.toThrow(/closed before it was established/);
  });
});
