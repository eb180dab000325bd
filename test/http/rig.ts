/**
 * Pieces the HTTP tests share: a real Bs20Charger logged in to the simulated BS20 (ManualClock), a
 * real MQTT connection to the embedded broker, and fetch helpers that keep every answer so tests
 * can look for secrets in all of them.
 */
import { ManualClock } from '../../src/core/clock.js';
import { Bs20Charger } from '../../src/evse-master/charger.js';
import { EvseSession } from '../../src/evse-master/session.js';
import { createSimulatedTransport, SimulatedBs20 } from '../../src/evse-master/simulator/index.js';
import { silentLogger } from '../../src/log.js';
import { MqttConnection } from '../../src/mqtt/connection.js';
import { type EmbeddedBroker, startEmbeddedBroker } from '../../src/mqtt/embedded-broker.js';

export const TZ = 'Europe/Berlin';

export interface Bs20Rig {
  clock: ManualClock;
  sim: SimulatedBs20;
  session: EvseSession;
  charger: Bs20Charger;
  close(): Promise<void>;
}

export async function loggedInBs20(
  options: { id?: string; pin?: string; clock?: ManualClock } = {},
): Promise<Bs20Rig> {
  const clock = options.clock ?? new ManualClock(Date.UTC(2026, 2, 10, 18, 0, 0));
  const pin = options.pin ?? '123456';
  const sim = new SimulatedBs20({ clock, timeZone: TZ, pin });
  const session = new EvseSession({ transport: createSimulatedTransport(sim), pin, clock, timeZone: TZ });
  const charger = new Bs20Charger({
    id: options.id ?? 'garage',
    name: 'Garage',
    session,
    maxCurrentA: 16,
    clock,
    timeZone: TZ,
  });
  await charger.open();
  await clock.advance(5_000);
  if (charger.getState().link !== 'online') throw new Error('the simulated BS20 did not log in');
  return {
    clock,
    sim,
    session,
    charger,
    close: async () => {
      await charger.close();
      sim.close();
    },
  };
}

export interface MqttRig {
  broker: EmbeddedBroker;
  connection: MqttConnection;
  close(): Promise<void>;
}

/** Embedded broker with credentials, and our connection to it (connected). */
export async function connectedMqtt(
  credentials: { username: string; password: string },
  reconnectPeriodMs = 60_000,
): Promise<MqttRig> {
  const broker = await startEmbeddedBroker({
    host: '127.0.0.1',
    port: 0,
    logger: silentLogger(),
    ...credentials,
  });
  const connection = mqttConnection(`mqtt://127.0.0.1:${broker.port}`, credentials, reconnectPeriodMs);
  await connection.connect();
  return {
    broker,
    connection,
    close: async () => {
      await connection.close();
      await broker.close();
    },
  };
}

/** Our MQTT connection to `url`, not started yet. */
export function mqttConnection(
  url: string,
  credentials: { username: string; password: string },
  reconnectPeriodMs = 60_000,
): MqttConnection {
  return new MqttConnection({
    url,
    ...credentials,
    clientId: `http-test-${process.pid}-${Math.random().toString(16).slice(2)}`,
    will: { topic: 'chargebridge/bridge/state', payload: 'offline', retain: true, qos: 1 },
    keepaliveS: 30,
    reconnectPeriodMs,
    logger: silentLogger(),
  });
}

export interface Answer {
  status: number;
  headers: Headers;
  body: string;
}

/** Every answer any test received, so the secret check can look at all of them. */
export const allAnswers: Answer[] = [];

export async function get(
  url: string,
  options: { token?: string; authorization?: string; method?: string; body?: string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  if (options.authorization !== undefined) headers.authorization = options.authorization;
  const res = await fetch(url, {
    method: options.method ?? 'GET',
    headers,
    ...(options.body !== undefined ? { body: options.body } : {}),
  });
  const answer = { status: res.status, headers: res.headers, body: await res.text() };
  allAnswers.push(answer);
  return answer;
}

/** Headers and body of an answer as one text, for "this secret appears nowhere" checks. */
export function answerText(answer: Answer): string {
  return `${[...answer.headers.entries()].map(([k, v]) => `${k}: ${v}`).join('\n')}\n\n${answer.body}`;
}
