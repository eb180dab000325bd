import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { connectAsync } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger, silentLogger } from '../../src/log.js';
import { type EmbeddedBroker, startEmbeddedBroker } from '../../src/mqtt/embedded-broker.js';
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

/** The CONNACK refusal message mqtt.js reports, or 'connected'. */
async function tryConnect(port: number, username?: string, password?: string): Promise<string> {
  try {
    const client = await connectAsync(`mqtt://${host}:${port}`, {
      reconnectPeriod: 0,
      ...(username !== undefined ? { username } : {}),
      ...(password !== undefined ? { password } : {}),
    });
    await client.endAsync();
    return 'connected';
  } catch (err) {
    return (err as Error).message;
  }
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
    broker = await startEmbeddedBroker({ host, port: 0, logger: silentLogger() });
    expect(broker.port).toBeGreaterThan(0);
    expect(broker.clientCount()).toBe(0);
    const probe = await MqttProbe.connect(`mqtt://${host}:${broker.port}`);
    expect(broker.clientCount()).toBe(1);
    await probe.close();
  });

  it('with credentials, refuses anonymous and wrong passwords and accepts the right one', async () => {
    const logs = captureLogs();
    broker = await startEmbeddedBroker({
      host,
      port: 0,
      username: 'ha',
      password: 's3cret-pw',
      logger: logs.logger,
    });
    expect(await tryConnect(broker.port)).toMatch(/not authorized/i);
    expect(await tryConnect(broker.port, 'ha', 'wrong')).toMatch(/bad username or password/i);
    expect(await tryConnect(broker.port, 'someone', 's3cret-pw')).toMatch(/bad username or password/i);
    expect(await tryConnect(broker.port, 'ha')).toMatch(/bad username or password/i);
    expect(await tryConnect(broker.port, 'ha', 's3cret-pw')).toBe('connected');

    const messages = logs.lines.map((l) => l.msg);
    expect(messages).toContain('client refused');
    expect(messages).toContain('client connected');
    expect(logs.raw()).not.toContain('s3cret-pw');
    expect(logs.raw()).not.toContain('wrong');
  });

  it('keeps retained messages across a restart via persistFile, and forgets cleared ones', async () => {
    const persistFile = join(dir, 'retained.json');
    const options = { host, port: 0, persistFile, persistDebounceMs: 10_000, logger: silentLogger() };
    broker = await startEmbeddedBroker(options);
    const writer = await MqttProbe.connect(`mqtt://${host}:${broker.port}`);
    await writer.publish('homeassistant/device/bs20/config', '{"name":"Garage"}', { retain: true });
    await writer.publish('chargebridge/garage', Buffer.from([0, 1, 2, 255]), { retain: true });
    await writer.publish('chargebridge/old', 'gone soon', { retain: true });
    await writer.publish('chargebridge/old', '', { retain: true });
    await writer.publish('chargebridge/not-retained', 'x');
    await writer.close();
    // The debounce is long: close() must write what is pending.
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
    // Only the two live retained topics are in the file.
    const saved = JSON.parse(await readFile(persistFile, 'utf8')) as { messages: { topic: string }[] };
    expect(saved.messages.map((m) => m.topic).sort()).toEqual([
      'chargebridge/garage',
      'homeassistant/device/bs20/config',
    ]);
  });

  it('moves a corrupt persist file aside, logs it, and still starts', async () => {
    const persistFile = join(dir, 'retained.json');
    await writeFile(persistFile, '{"format":"chargebridge-retained","version":1,"messages":[{"topic"');
    const logs = captureLogs();
    broker = await startEmbeddedBroker({ host, port: 0, persistFile, logger: logs.logger });

    const files = await readdir(dir);
    const aside = files.find((f) => f.startsWith('retained.json.corrupt-'));
    expect(aside).toBeDefined();
    expect(await readFile(join(dir, aside!), 'utf8')).toContain('"messages":[{"topic"');
    expect(files).not.toContain('retained.json');
    expect(logs.lines.some((l) => l.level === 50 && String(l.msg).includes('moved it aside'))).toBe(true);

    // Still a working broker that persists from here on.
    const probe = await MqttProbe.connect(`mqtt://${host}:${broker.port}`);
    await probe.publish('chargebridge/bridge/state', '{"state":"online"}', { retain: true });
    await probe.close();
    await broker.close();
    broker = undefined;
    expect(await readFile(persistFile, 'utf8')).toContain('chargebridge/bridge/state');
  });

  it('treats a file with the wrong shape as corrupt too', async () => {
    const persistFile = join(dir, 'retained.json');
    await writeFile(persistFile, JSON.stringify({ format: 'something-else', messages: [] }));
    broker = await startEmbeddedBroker({ host, port: 0, persistFile, logger: silentLogger() });
    expect((await readdir(dir)).some((f) => f.startsWith('retained.json.corrupt-'))).toBe(true);
  });

  it('fails clearly when the port is taken', async () => {
    broker = await startEmbeddedBroker({ host, port: 0, logger: silentLogger() });
    await expect(startEmbeddedBroker({ host, port: broker.port, logger: silentLogger() })).rejects.toThrow(
      /EADDRINUSE/,
    );
  });
});
