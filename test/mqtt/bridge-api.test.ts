import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import { createLogger } from '../../src/log.js';
import { BridgeApi, type BridgeResponse } from '../../src/mqtt/bridge-api.js';
import { MqttConnection } from '../../src/mqtt/connection.js';
import { brokers, type TestBroker } from '../helpers/brokers.js';
import { MqttProbe } from '../helpers/mqtt-probe.js';
import { describeEach } from '../helpers/system-programs.js';

const base = 'cb';

describeEach(brokers)('BridgeApi against $name', (kind) => {
  let broker: TestBroker;
  let connection: MqttConnection;
  let api: BridgeApi;
  let client: MqttProbe;
  let logText = '';
  const notes: { sessionId: number; note: string }[] = [];

  beforeAll(async () => {
    broker = await kind.start();
    const logStream = new PassThrough();
    logStream.on('data', (chunk: Buffer) => {
      logText += chunk.toString('utf8');
    });
    connection = new MqttConnection({
      url: broker.url,
      clientId: 'bridge-api-test',
      will: { topic: `${base}/bridge/state`, payload: '{"state":"offline"}', retain: true, qos: 1 },
      keepaliveS: 30,
      reconnectPeriodMs: 100,
      logger: createLogger({ level: 'debug', destination: logStream }),
    });
    api = new BridgeApi({ connection, baseTopic: base, logger: createLogger({ destination: logStream }) });
    api.register(
      'sessions/list',
      z.strictObject({ limit: z.number().int().min(1).max(100).default(10) }),
      (p) => ({
        sessions: Array.from({ length: Math.min(p.limit, 2) }, (_, i) => ({ id: i + 1 })),
      }),
    );
    api.register(
      'session/note',
      z.strictObject({ sessionId: z.number().int(), note: z.string().max(200) }),
      async (p) => {
        notes.push(p);
        return { saved: true };
      },
    );
    api.register('restart', z.strictObject({}), () => {
      throw new Error('restart is not allowed while a session is running');
    });
    api.register('echo/transaction', z.strictObject({}), (_p, context) => ({
      seen: context.clientTransaction,
    }));
    api.register('weird', z.strictObject({}), () => ({ big: 1n }));
    await connection.connect();
    await api.start();
    client = await MqttProbe.connect(broker.url);
    await client.subscribe(`${base}/bridge/response/#`);
    await client.subscribe(`${base}/bridge/event`);
  });

  afterAll(async () => {
    api.stop();
    await client.close();
    await connection.close();
    await broker.stop();
  });

  /** Send a request and wait for the response carrying our marker transaction. */
  let counter = 0;
  async function request(name: string, payload: string | Buffer, marker?: string): Promise<BridgeResponse> {
    const before = client.on(`${base}/bridge/response/${name}`).length;
    await client.publish(`${base}/bridge/request/${name}`, payload);
    const message = await client.waitFor(`${base}/bridge/response/${name}`, (m) =>
      marker === undefined
        ? client.on(`${base}/bridge/response/${name}`).indexOf(m) >= before
        : (JSON.parse(m.text) as BridgeResponse).transaction === marker,
    );
    expect(message.retain).toBe(false);
    return JSON.parse(message.text) as BridgeResponse;
  }
  const tx = () => `t${++counter}`;

  it('answers ok with data and echoes the transaction', async () => {
    const t = tx();
    expect(await request('sessions/list', JSON.stringify({ limit: 5, transaction: t }), t)).toEqual({
      data: { sessions: [{ id: 1 }, { id: 2 }] },
      status: 'ok',
      transaction: t,
    });
  });

  it('treats an empty payload as no parameters and omits a missing transaction', async () => {
    expect(await request('sessions/list', '')).toEqual({
      data: { sessions: [{ id: 1 }, { id: 2 }] },
      status: 'ok',
    });
  });

  it('passes the validated payload and the client transaction to the handler', async () => {
    const t = tx();
    const response = await request(
      'session/note',
      JSON.stringify({ sessionId: 7, note: 'guest', transaction: t }),
      t,
    );
    expect(response).toEqual({ data: { saved: true }, status: 'ok', transaction: t });
    expect(notes).toContainEqual({ sessionId: 7, note: 'guest' });
    const numeric = await request('echo/transaction', JSON.stringify({ transaction: 42 }));
    expect(numeric).toEqual({ data: { seen: 42 }, status: 'ok', transaction: 42 });
  });

  it('rejects payloads that fail the schema, naming the field', async () => {
    const t = tx();
    const response = await request(
      'session/note',
      JSON.stringify({ sessionId: 'x', note: 'n', transaction: t }),
      t,
    );
    expect(response.status).toBe('error');
    expect(response.error).toMatch(/invalid request 'session\/note': sessionId: /);
    expect(response.data).toEqual({});
    expect(notes.some((n) => n.note === 'n')).toBe(false);
  });

  it('answers garbage and non-object payloads with an error', async () => {
    expect(await request('sessions/list', '{not json')).toEqual({
      data: {},
      status: 'error',
      error: 'request payload is not valid JSON',
    });
    expect(await request('sessions/list', Buffer.from([0xff, 0xfe, 0x00]))).toMatchObject({
      status: 'error',
    });
    for (const payload of ['[1,2]', '"text"', '42', 'null']) {
      expect(await request('sessions/list', payload)).toEqual({
        data: {},
        status: 'error',
        error: 'request payload must be a JSON object',
      });
    }
  });

  it('answers an unknown request name with an error, echoing the transaction', async () => {
    const t = tx();
    expect(await request('does/not/exist', JSON.stringify({ transaction: t }), t)).toEqual({
      data: {},
      status: 'error',
      error: "unknown request 'does/not/exist'",
      transaction: t,
    });
  });

  it('refuses an oversized payload without parsing it', async () => {
    const huge = JSON.stringify({ note: 'x'.repeat(64 * 1024), sessionId: 1 });
    const response = await request('session/note', huge);
    expect(response.status).toBe('error');
    expect(response.error).toMatch(/request too large \(\d+ bytes, limit 65536\)/);
    expect(notes.some((n) => n.note.length > 1000)).toBe(false);
  });

  it('turns a throwing handler into an error response without a stack trace, and logs it', async () => {
    const t = tx();
    const response = await request('restart', JSON.stringify({ transaction: t }), t);
    expect(response).toEqual({
      data: {},
      status: 'error',
      error: 'restart is not allowed while a session is running',
      transaction: t,
    });
    expect(JSON.stringify(response)).not.toMatch(/at .*\.ts:\d+/);
    expect(logText).toContain('bridge request failed');
  });

  it('answers with an error when the handler result cannot be encoded', async () => {
    const response = await request('weird', '{}');
    expect(response).toMatchObject({ status: 'error', data: {} });
    expect(response.error).toMatch(/could not encode response/);
  });

  it('publishes bridge events, not retained', async () => {
    await api.publishEvent('session_started', 'garage', { sessionId: 3 });
    const event = await client.waitFor(`${base}/bridge/event`);
    expect(JSON.parse(event.text)).toEqual({
      type: 'session_started',
      charger: 'garage',
      data: { sessionId: 3 },
    });
    expect(event.retain).toBe(false);
  });

  it('refuses to register the same name twice', () => {
    expect(() => api.register('restart', z.object({}), () => ({}))).toThrow(/already registered/);
  });
});
