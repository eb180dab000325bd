/**
 * The embedded aedes broker beside a real Mosquitto, measured in the same run with the same mqtt.js
 * clients on loopback: throughput (a burst of publishes until the last one is delivered) and
 * latency (one message at a time, publish → delivery), at QoS 0 and QoS 1.
 */
import { connectAsync, type MqttClient } from 'mqtt';
import { silentLogger } from '../src/log.js';
import { startEmbeddedBroker } from '../src/mqtt/embedded-broker.js';
import { startMosquitto } from '../test/helpers/mosquitto.js';
import { type Bench, type BenchSection, fmt, summarise } from './report.js';

const BURST = 20_000;
const LATENCY_SAMPLES = 2_000;
/** Messages in flight during the throughput run. */
const WINDOW = 100;
/** About the size of a charger's state JSON. */
const PAYLOAD = Buffer.alloc(1_200, 0x61);

interface Figures {
  broker: string;
  qos: 0 | 1;
  messagesPerS: number;
  delivered: number;
  p50Ms: number;
  p99Ms: number;
}

async function client(url: string): Promise<MqttClient> {
  const c = await connectAsync(url, { reconnectPeriod: 0, clean: true });
  (c.stream as { setNoDelay?: (v: boolean) => void }).setNoDelay?.(true);
  return c;
}

async function measure(broker: string, url: string, qos: 0 | 1): Promise<Figures> {
  const publisher = await client(url);
  const subscriber = await client(url);
  const topic = `bench/${broker}/${qos}`;
  await subscriber.subscribeAsync(topic, { qos });

  let received = 0;
  let onMessage: (() => void) | null = null;
  subscriber.on('message', () => {
    received++;
    onMessage?.();
  });

  // Throughput: a window of messages in flight, refilled on each delivery, until all are delivered.
  // (A burst with no window overruns Mosquitto's per-client queue, 1000 by default, and it drops.)
  let sent = 0;
  const started = process.hrtime.bigint();
  const allDelivered = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 20_000);
    onMessage = () => {
      if (sent < BURST) {
        publisher.publish(topic, PAYLOAD, { qos });
        sent++;
      }
      if (received >= BURST) {
        clearTimeout(timer);
        resolve();
      }
    };
  });
  for (; sent < WINDOW; sent++) publisher.publish(topic, PAYLOAD, { qos });
  await allDelivered;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const delivered = received;
  received = 0;

  // Latency: one at a time.
  const latencies: number[] = [];
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    const arrived = new Promise<void>((resolve) => {
      onMessage = resolve;
    });
    const sent = process.hrtime.bigint();
    publisher.publish(topic, PAYLOAD, { qos });
    await arrived;
    latencies.push(Number(process.hrtime.bigint() - sent) / 1e6);
  }
  await publisher.endAsync();
  await subscriber.endAsync();
  const s = summarise(latencies);
  return { broker, qos, messagesPerS: delivered / seconds, delivered, p50Ms: s.p50, p99Ms: s.p99 };
}

export const brokerBench: Bench = {
  name: 'broker',
  async run(): Promise<BenchSection> {
    const aedes = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, logger: silentLogger() });
    const mosquitto = await startMosquitto();
    const results: Figures[] = [];
    try {
      for (const qos of [0, 1] as const) {
        // Warm both up first, so neither pays the JIT or socket set-up in its figures.
        await measure('warm-up', `mqtt://127.0.0.1:${aedes.port}`, qos);
        await measure('warm-up', mosquitto.url, qos);
        results.push(await measure('aedes (embedded)', `mqtt://127.0.0.1:${aedes.port}`, qos));
        results.push(await measure('Mosquitto', mosquitto.url, qos));
      }
    } finally {
      await aedes.close();
      await mosquitto.dispose();
    }
    const rows: string[][] = [['broker', 'QoS', 'throughput', 'delivered', 'latency p50', 'latency p99']];
    for (const r of results) {
      rows.push([
        r.broker,
        String(r.qos),
        `${fmt(r.messagesPerS, 0)} msg/s`,
        `${r.delivered}/${BURST}`,
        `${fmt(r.p50Ms, 3)} ms`,
        `${fmt(r.p99Ms, 3)} ms`,
      ]);
    }
    const ratio = (qos: 0 | 1, pick: (f: Figures) => number) => {
      const a = results.find((r) => r.qos === qos && r.broker.startsWith('aedes'));
      const m = results.find((r) => r.qos === qos && r.broker === 'Mosquitto');
      return a && m ? pick(a) / pick(m) : Number.NaN;
    };
    return {
      title: 'MQTT broker: embedded aedes beside Mosquitto',
      method: `One mqtt.js publisher and one subscriber on loopback, ${PAYLOAD.length}-byte payloads (the size of a charger's state JSON). Throughput: ${BURST.toLocaleString('en')} publishes with ${WINDOW} in flight at a time, timed until the last is delivered. Latency: ${LATENCY_SAMPLES.toLocaleString('en')} messages one at a time, publish → delivery. Both brokers run in the same benchmark, after a warm-up round each.`,
      table: rows,
      notes: [
        `aedes/Mosquitto throughput: ${fmt(ratio(0, (f) => f.messagesPerS))}× at QoS 0, ${fmt(ratio(1, (f) => f.messagesPerS))}× at QoS 1; latency p50: ${fmt(ratio(0, (f) => f.p50Ms))}× and ${fmt(ratio(1, (f) => f.p50Ms))}×.`,
        'chargebridge publishes a few messages per second per charger, so either broker has several orders of magnitude of headroom; Mosquitto is the better choice when other devices share the broker.',
        'aedes runs inside the daemon process and shares its event loop and CPU; Mosquitto is a separate process here.',
      ],
    };
  },
};
