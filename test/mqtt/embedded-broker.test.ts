import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger, silentLogger } from '../../src/log.js';
import { type EmbeddedBroker, startEmbeddedBroker } from '../../src/mqtt/embedded-broker.js';
import { RetainedStore } from '../../src/mqtt/retained-store.js';
import { MqttProbe } from '../helpers/mqtt-probe.js';

const host = '127.0.0.1';

function captureLogs() {
  const stream = new PassThrough();
  const lines: Record<string, unknown>[] = [];
  let raw = '';
  stream.on('data', (chunk: Buffer) => {
    raw += chunk.toString('utf8');
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line));
  });
  return { logger: createLogger({ level: 'debug', destination: stream }), lines, raw: () => raw };
}

describe('embedded broker', () => {
  let dir: string;
  let broker: EmbeddedBroker | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'chargebridge-broker-test-'));
  });

  afterEach(async () => {
    await broker?.close();
    broker = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('picks a free port and counts connected clients', async () => {
    broker = await startEmbeddedBroker({ host, port: 0, allowAnonymous: true, logger: silentLogger() });
    expect(broker.port).toBeGreaterThan(0);
    expect(broker.clientCount()).toBe(0);
    const probe = await MqttProbe.connect(`mqtt://${host}:${broker.port}`);
    expect(broker.clientCount()).toBe(1);
    await probe.close();
  });

  it('keeps retained messages across a restart via persistFile, and forgets cleared ones', async () => {
    const persistFile = join(dir, 'mqtt-retained.json');
    const options = { host, port: 0, persistFile, allowAnonymous: true, logger: silentLogger() };
    broker = await startEmbeddedBroker(options);
    const writer = await MqttProbe.connect(`mqtt://${host}:${broker.port}`, { protocolVersion: 5 });
    await writer.publish('homeassistant/device/bs20/config', '{"name":"Garage"}', { retain: true });
    await writer.publish('chargebridge/garage', Buffer.from([0, 1, 2, 255]), { retain: true });
    await writer.publish('chargebridge/old', 'gone soon', { retain: true });
    await writer.publish('chargebridge/old', '', { retain: true });
    await writer.publish('chargebridge/not-retained', 'x');
    await writer.close();
    // Within the 1 s batch: close() must write what is pending.
    await broker.close();

    broker = await startEmbeddedBroker(options);
    const reader = await MqttProbe.connect(`mqtt://${host}:${broker.port}`);
    await reader.subscribe('#');
    const config = await reader.waitFor('homeassistant/device/bs20/config');
    expect(config.text).toBe('{"name":"Garage"}');
    expect(config.retain).toBe(true);
    const state = await reader.waitFor('chargebridge/garage');
    expect([...state.payload]).toEqual([0, 1, 2, 255]);
    await reader.close();
    await broker.close();
    // Only the two live retained topics are on disk.
    const saved = await new RetainedStore({ path: persistFile, logger: silentLogger() }).load();
    expect(saved.map((m) => m.topic).sort()).toEqual([
      'chargebridge/garage',
      'homeassistant/device/bs20/config',
    ]);
    expect((await readdir(dir)).sort()).toEqual(['mqtt-retained.journal']);
  });

  it('moves a corrupt persist file aside, logs it, and still starts', async () => {
    const persistFile = join(dir, 'mqtt-retained.json');
    await writeFile(persistFile, '{"format":"chargebridge-retained","version":1,"messages":[{"topic"');
    const logs = captureLogs();
    broker = await startEmbeddedBroker({
      host,
      port: 0,
      persistFile,
      allowAnonymous: true,
      logger: logs.logger,
    });

    const files = await readdir(dir);
    const aside = files.find((f) => f.startsWith('mqtt-retained.json.corrupt-'));
    expect(aside).toBeDefined();
    expect(await readFile(join(dir, aside!), 'utf8')).toContain('"messages":[{"topic"');
    expect(logs.lines.some((l) => l.level === 50 && String(l.msg).includes('moved it aside'))).toBe(true);

    // Still a working broker that persists from here on.
    const probe = await MqttProbe.connect(`mqtt://${host}:${broker.port}`);
    await probe.publish('chargebridge/bridge/state', '{"state":"online"}', { retain: true });
    await probe.close();
    await broker.close();
    broker = undefined;
    const saved = await new RetainedStore({ path: persistFile, logger: silentLogger() }).load();
    expect(saved.map((m) => [m.topic, m.payload.toString()])).toEqual([
      ['chargebridge/bridge/state', '{"state":"online"}'],
    ]);
  });

  it('treats a file with the wrong shape as corrupt too', async () => {
    const persistFile = join(dir, 'mqtt-retained.json');
    await writeFile(persistFile, JSON.stringify({ format: 'something-else', messages: [] }));
    broker = await startEmbeddedBroker({ host, port: 0, persistFile, logger: silentLogger() });
    expect((await readdir(dir)).some((f) => f.startsWith('mqtt-retained.json.corrupt-'))).toBe(true);
  });

  it('fails clearly when the port is taken, naming the key to change', async () => {
    broker = await startEmbeddedBroker({ host, port: 0, logger: silentLogger() });
    await expect(startEmbeddedBroker({ host, port: broker.port, logger: silentLogger() })).rejects.toThrow(
      `mqtt: cannot listen on ${host}:${broker.port}: the port is already in use`,
    );
  });

  it('a second start on a taken port leaves the persist file as it was', async () => {
    const persistFile = join(dir, 'mqtt-retained.json');
    broker = await startEmbeddedBroker({
      host,
      port: 0,
      persistFile,
      allowAnonymous: true,
      logger: silentLogger(),
    });
    const probe = await MqttProbe.connect(`mqtt://${host}:${broker.port}`);
    await probe.publish('chargebridge/bridge/state', 'online', { retain: true });
    await probe.close();
    await expect(
      startEmbeddedBroker({ host, port: broker.port, persistFile, logger: silentLogger() }),
    ).rejects.toThrow(/mqtt\.embedded_broker\.port/);
    await broker.close();
    broker = undefined;
    const saved = await new RetainedStore({ path: persistFile, logger: silentLogger() }).load();
    expect(saved.map((m) => m.topic)).toEqual(['chargebridge/bridge/state']);
  });
});
