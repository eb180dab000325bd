/**
 * `/healthz` follows the real MQTT connection: 503 with the reason while the broker is unreachable,
 * gone or refusing us, 200 again once it is back. A charger out of range is listed, not fatal.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type RunningHttpServer, startHttpServer } from '../../src/http/server.js';
import { silentLogger } from '../../src/log.js';
import type { MqttConnection } from '../../src/mqtt/connection.js';
import { startEmbeddedBroker } from '../../src/mqtt/embedded-broker.js';
import { freePort } from '../helpers/mosquitto.js';
import { type Bs20Rig, connectedMqtt, get, loggedInBs20, mqttConnection } from './rig.js';

const TOKEN = 'health-token-0123456789';
const CREDENTIALS = { username: 'chargebridge', password: 'mqtt-secret-password' };
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serve(connection: MqttConnection, chargers: Bs20Rig[] = []): Promise<string> {
  const server: RunningHttpServer = await startHttpServer({
    host: '127.0.0.1',
    port: 0,
    token: TOKEN,
    chargers: chargers.map((r) => r.charger),
    mqtt: connection,
    version: 't',
    processMetrics: false,
  });
  cleanups.push(() => server.close());
  return `http://127.0.0.1:${server.port}/healthz`;
}

async function health(url: string) {
  const res = await get(url);
  return { status: res.status, body: JSON.parse(res.body) };
}

describe('/healthz and MQTT', () => {
  it('503 while the broker cannot be reached', async () => {
    const connection = mqttConnection(`mqtt://127.0.0.1:${await freePort()}`, CREDENTIALS);
    cleanups.push(() => connection.close());
    void connection.connect().catch(() => undefined);
    const url = await serve(connection);
    const { status, body } = await health(url);
    expect(status).toBe(503);
    expect(body.status).toBe('unavailable');
    expect(body.mqtt.connected).toBe(false);
    expect(body.reasons).toHaveLength(1);
    expect(body.reasons[0]).toMatch(
      /^mqtt: (connecting to the broker|connection to the broker lost; reconnecting)$/,
    );
  });

  it('503 while the broker refuses our credentials', async () => {
    const broker = await startEmbeddedBroker({
      host: '127.0.0.1',
      port: 0,
      logger: silentLogger(),
      ...CREDENTIALS,
    });
    cleanups.push(() => broker.close());
    const connection = mqttConnection(`mqtt://127.0.0.1:${broker.port}`, {
      ...CREDENTIALS,
      password: 'wrong',
    });
    cleanups.push(() => connection.close());
    await expect(connection.connect()).rejects.toThrow(/refused/);
    const { status, body } = await health(await serve(connection));
    expect(status).toBe(503);
    expect(body.reasons).toEqual(['mqtt: the broker refused our credentials']);
    expect(body.mqtt).toEqual({ connected: false, state: 'refused' });
  });

  it('200, then 503 when the broker goes away, then 200 once it is back', async () => {
    const mqtt = await connectedMqtt(CREDENTIALS, 100);
    const port = mqtt.broker.port;
    let broker = mqtt.broker;
    cleanups.push(async () => {
      await mqtt.connection.close();
      await broker.close();
    });
    const url = await serve(mqtt.connection);
    expect((await health(url)).status).toBe(200);

    const lost = new Promise<void>((resolve) => mqtt.connection.once('disconnected', () => resolve()));
    await broker.close();
    await lost;
    const down = await health(url);
    expect(down.status).toBe(503);
    expect(down.body.reasons).toEqual(['mqtt: connection to the broker lost; reconnecting']);

    const back = new Promise<void>((resolve) => mqtt.connection.once('connected', () => resolve()));
    broker = await startEmbeddedBroker({ host: '127.0.0.1', port, logger: silentLogger(), ...CREDENTIALS });
    await back;
    const up = await health(url);
    expect(up.status).toBe(200);
    expect(up.body.reasons).toEqual([]);
  });

  it('stays 200 when a charger is out of range, and says so in its link', async () => {
    const mqtt = await connectedMqtt(CREDENTIALS);
    cleanups.push(() => mqtt.close());
    const bs20 = await loggedInBs20();
    cleanups.push(() => bs20.close());
    const url = await serve(mqtt.connection, [bs20]);
    expect((await health(url)).body.chargers).toEqual([{ id: 'garage', kind: 'bs20', link: 'online' }]);

    bs20.sim.setUnreachable(true);
    await bs20.clock.advance(2_000);
    const { status, body } = await health(url);
    expect(status).toBe(200);
    expect(body.chargers[0].link).not.toBe('online');
    expect(body.chargers[0].link).toBe(bs20.charger.getState().link);
  });
});
