/**
 * Bounds on retained messages in the embedded broker, over real mqtt.js connections at MQTT 5 and
 * 3.1.1: a refused retained message is not kept (a new subscriber does not get it) and the one
 * already on that topic is not lost. MQTT 5 QoS 1 publishers get PUBACK 0x87 with a reason string;
 * 3.1.1 publishers get a normal PUBACK and their message reaches current subscribers unretained.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { connectAsync, type MqttClient, type Packet } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { createLogger, silentLogger } from '../../src/log.js';
import { type EmbeddedBroker, startEmbeddedBroker } from '../../src/mqtt/embedded-broker.js';
import { RetainedStore } from '../../src/mqtt/retained-store.js';
import { MqttProbe } from '../helpers/mqtt-probe.js';

const host = '127.0.0.1';
const MARKER = 'marker/bounds';
const LIMITS = { retainedMaxMessageBytes: 1024, retainedMaxTotalBytes: 4096 };
type Protocol = 5 | 4;

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function start(options: Partial<Parameters<typeof startEmbeddedBroker>[0]> = {}) {
  const broker = await startEmbeddedBroker({
    host,
    port: 0,
    allowAnonymous: true,
    logger: silentLogger(),
    ...LIMITS,
    ...options,
  });
  cleanups.push(() => broker.close());
  return broker;
}

async function client(broker: EmbeddedBroker, protocolVersion: Protocol): Promise<MqttClient> {
  const c = await connectAsync(`mqtt://${host}:${broker.port}`, { reconnectPeriod: 0, protocolVersion });
  cleanups.push(() => c.endAsync(true));
  return c;
}

interface Outcome {
  ok: boolean;
  reasonCode?: number;
  reasonString?: string;
}

/** Publish retained at QoS 1 and report the PUBACK. */
async function publishRetained(c: MqttClient, topic: string, payload: string): Promise<Outcome> {
  let reasonString: string | undefined;
  const onPacket = (packet: Packet) => {
    if (packet.cmd === 'puback') reasonString = packet.properties?.reasonString;
  };
  c.on('packetreceive', onPacket);
  try {
    await c.publishAsync(topic, payload, { qos: 1, retain: true });
    return { ok: true };
  } catch (err) {
    return {
      ok: false,
      reasonCode: (err as { code?: number }).code,
      ...(reasonString ? { reasonString } : {}),
    };
  } finally {
    c.off('packetreceive', onPacket);
  }
}

/**
 * The retained messages a new subscriber gets for these topics. One SUBSCRIBE with the marker last:
 * aedes sends retained messages pattern by pattern in SUBSCRIBE order, so once the marker is in,
 * nothing else is coming.
 */
async function retainedFor(broker: EmbeddedBroker, topics: string[]): Promise<Record<string, string>> {
  const c = await connectAsync(`mqtt://${host}:${broker.port}`, { reconnectPeriod: 0 });
  const got: Record<string, string> = {};
  const markerSeen = new Promise<void>((resolve) => {
    c.on('message', (topic, payload) => {
      if (topic === MARKER) resolve();
      else got[topic] = payload.toString('utf8');
    });
  });
  await c.subscribeAsync([...topics, MARKER], { qos: 1 });
  await markerSeen;
  await c.endAsync(true);
  return got;
}

describe.each([5, 4] as const)('retained bounds at protocol %i', (protocol) => {
  it('a retained message over retainedMaxMessageBytes is not kept, and the one already on its topic stays', async () => {
    const broker = await start();
    const writer = await client(broker, protocol);
    expect(await publishRetained(writer, MARKER, 'm')).toEqual({ ok: true });
    expect(await publishRetained(writer, 'bounds/keep', 'small')).toEqual({ ok: true });
    const bytesBefore = broker.retainedBytes();
    const live = await MqttProbe.connect(`mqtt://${host}:${broker.port}`);
    cleanups.push(() => live.close());
    await live.subscribe('bounds/#');

    const big = 'B'.repeat(2000);
    const overKeep = await publishRetained(writer, 'bounds/keep', big);
    const overNew = await publishRetained(writer, 'bounds/big', big);
    if (protocol === 5) {
      for (const outcome of [overKeep, overNew]) {
        expect(outcome).toEqual({
          ok: false,
          reasonCode: 0x87,
          reasonString: "retained message of 2000 bytes is over the broker's limit of 1024 bytes",
        });
      }
    } else {
      expect([overKeep, overNew]).toEqual([{ ok: true }, { ok: true }]);
    }
    // A later message from the same publisher: anything before it has been delivered by now.
    await writer.publishAsync('bounds/after', 'x', { qos: 1 });
    await live.waitFor('bounds/after');
    const delivered = live.on('bounds/big');
    if (protocol === 5) expect(delivered).toEqual([]);
    else expect(delivered.map((m) => [m.text.length, m.retain])).toEqual([[2000, false]]);

    expect(await retainedFor(broker, ['bounds/keep', 'bounds/big'])).toEqual({ 'bounds/keep': 'small' });
    expect(broker.retainedBytes()).toBe(bytesBefore);
  });

  it('past retainedMaxTotalBytes a new topic or a larger payload is refused; replacing with no more, or clearing, still works', async () => {
    const broker = await start();
    const writer = await client(broker, protocol);
    const refused = protocol === 5 ? { ok: false, reasonCode: 0x87 } : { ok: true };
    expect(await publishRetained(writer, MARKER, 'm')).toEqual({ ok: true });
    // 4 × (8 + 1000) + 14 = 4046 of 4096 bytes.
    for (const t of ['a', 'b', 'c', 'd']) {
      expect(await publishRetained(writer, `bounds/${t}`, t.repeat(1000))).toEqual({ ok: true });
    }
    expect(broker.retainedBytes()).toBe(4046);
    expect(await publishRetained(writer, 'bounds/e', 'e'.repeat(100))).toMatchObject(refused);
    expect(await publishRetained(writer, 'bounds/a', 'A'.repeat(1100))).toMatchObject(refused);
    expect(await publishRetained(writer, 'bounds/a', 'A'.repeat(1000))).toEqual({ ok: true });
    expect(await publishRetained(writer, 'bounds/b', 'B'.repeat(500))).toEqual({ ok: true });
    expect(await publishRetained(writer, 'bounds/c', '')).toEqual({ ok: true });
    // Room again (4046 − 500 − 1008 = 2538): a new topic fits.
    expect(await publishRetained(writer, 'bounds/e', 'e'.repeat(100))).toEqual({ ok: true });

    const kept = await retainedFor(broker, ['bounds/#']);
    expect(Object.fromEntries(Object.entries(kept).map(([t, v]) => [t, `${v[0]}×${v.length}`]))).toEqual({
      'bounds/a': 'A×1000',
      'bounds/b': 'B×500',
      'bounds/d': 'd×1000',
      'bounds/e': 'e×100',
    });
    expect(broker.retainedBytes()).toBe(14 + 1008 + 508 + 1008 + 108);
  });
});

it('logs refused retained messages at most once a minute per client, with a count, and no payload', async () => {
  const stream = new PassThrough();
  const lines: Record<string, unknown>[] = [];
  stream.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line));
  });
  const clock = new ManualClock();
  const broker = await start({ clock, logger: createLogger({ level: 'info', destination: stream }) });
  const refusals = () => lines.filter((l) => String(l.msg).startsWith('refused to keep a retained message'));
  const writer = await connectAsync(`mqtt://${host}:${broker.port}`, {
    reconnectPeriod: 0,
    protocolVersion: 5,
    clientId: 'noisy-tool',
  });
  cleanups.push(() => writer.endAsync(true));
  const secret = 'P'.repeat(2000);
  for (let i = 0; i < 3; i++) await publishRetained(writer, `bounds/${i}`, secret);
  expect(refusals().map((l) => [l.clientId, l.count, l.reason])).toEqual([
    ['noisy-tool', 1, 'message-too-large'],
  ]);

  await clock.advance(60_000);
  await publishRetained(writer, 'bounds/3', secret);
  expect(refusals().map((l) => l.count)).toEqual([1, 3]);
  expect(JSON.stringify(lines)).not.toContain('PPPP');
});

describe('retained bounds with persistence', () => {
  let dir: string;
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('refused messages are not written; kept ones count against the total again after a restart', async () => {
    dir = await mkdtemp(join(tmpdir(), 'chargebridge-bounds-'));
    const persistFile = join(dir, 'mqtt-retained.json');
    let broker = await start({ persistFile });
    const v4 = await client(broker, 4);
    expect(await publishRetained(v4, MARKER, 'm')).toEqual({ ok: true });
    for (const t of ['a', 'b', 'c', 'd']) await publishRetained(v4, `bounds/${t}`, t.repeat(1000));
    await publishRetained(v4, 'bounds/too-big', 'x'.repeat(2000));
    await publishRetained(v4, 'bounds/no-room', 'y'.repeat(100));
    await broker.close();

    const onDisk = await new RetainedStore({ path: persistFile, logger: silentLogger() }).load();
    expect(onDisk.map((m) => m.topic).sort()).toEqual([
      'bounds/a',
      'bounds/b',
      'bounds/c',
      'bounds/d',
      'marker/bounds',
    ]);

    broker = await start({ persistFile });
    expect(broker.retainedBytes()).toBe(4046);
    const v5 = await client(broker, 5);
    expect(await publishRetained(v5, 'bounds/no-room', 'y'.repeat(100))).toMatchObject({
      ok: false,
      reasonCode: 0x87,
      reasonString: "the broker's space for retained messages (4096 bytes) is full",
    });
  });
});
