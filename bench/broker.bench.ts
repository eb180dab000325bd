/**
 * The embedded broker beside a real Mosquitto, each in its own process, measured in the same run
 * with the same mqtt.js clients on loopback, at MQTT 5 and 3.1.1, QoS 0 and 1: throughput (a
 * window of publishes until the last one is delivered), latency (one message at a time, publish →
 * delivery) and the broker process's CPU time per message. Then the memory of the broker process
 * and of the whole daemon (demo configuration) when idle.
 *
 * aedes 1.2 (the broker before the MQTT 5 move) is measured too when it is installed under the
 * alias `aedes-1` (`npm i --no-save aedes-1@npm:aedes@1.2.0`); it speaks 3.1.1 only.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { startMosquitto } from '../test/helpers/mosquitto.js';
import { measureIdleRss } from './daemon.bench.js';
import { type Bench, type BenchSection, fmt, summarise } from './report.js';

const BURST = 20_000;
const LATENCY_SAMPLES = 2_000;
/** Messages in flight during the throughput run. */
const WINDOW = 100;
/** About the size of a charger's state JSON. */
const PAYLOAD = Buffer.alloc(1_200, 0x61);
const ROOT = path.resolve(import.meta.dirname, '..');

type Protocol = 5 | 4;
type QoS = 0 | 1;

interface Figures {
  broker: string;
  protocol: Protocol;
  qos: QoS;
  messagesPerS: number;
  delivered: number;
  p50Ms: number;
  p99Ms: number;
  /** The broker process's user+system CPU per 1,000 messages delivered, throughput part. */
  cpuMsPer1000: number;
}

interface BrokerUnderTest {
  name: string;
  url: string;
  pid: number;
  protocols: Protocol[];
  stop(): Promise<void>;
}

const protocolName = (p: Protocol) => (p === 5 ? 'MQTT 5' : '3.1.1');

/** utime + stime of a process, in milliseconds (clock ticks are 100 Hz on Linux). */
async function cpuMs(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function rssMb(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN) / 1024;
}

async function client(url: string, protocolVersion: Protocol): Promise<MqttClient> {
  const c = await connectAsync(url, { reconnectPeriod: 0, clean: true, protocolVersion });
  (c.stream as { setNoDelay?: (v: boolean) => void }).setNoDelay?.(true);
  return c;
}

async function measure(broker: BrokerUnderTest, protocol: Protocol, qos: QoS): Promise<Figures> {
  const publisher = await client(broker.url, protocol);
  const subscriber = await client(broker.url, protocol);
  const topic = `bench/${protocol}/${qos}`;
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
  const cpuBefore = await cpuMs(broker.pid);
  const started = process.hrtime.bigint();
  const allDelivered = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 30_000);
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
  const cpuSpent = (await cpuMs(broker.pid)) - cpuBefore;
  const delivered = received;
  received = 0;

  // Latency: one at a time.
  const latencies: number[] = [];
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    const arrived = new Promise<void>((resolve) => {
      onMessage = resolve;
    });
    const t0 = process.hrtime.bigint();
    publisher.publish(topic, PAYLOAD, { qos });
    await arrived;
    latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  await publisher.endAsync();
  await subscriber.endAsync();
  const s = summarise(latencies);
  return {
    broker: broker.name,
    protocol,
    qos,
    messagesPerS: delivered / seconds,
    delivered,
    p50Ms: s.p50,
    p99Ms: s.p99,
    cpuMsPer1000: (cpuSpent / Math.max(1, delivered)) * 1000,
  };
}

/** A broker of ours in a child process (tsx runs the TypeScript source, as the bench does). */
async function startNodeBroker(which: 'current' | 'aedes-1'): Promise<BrokerUnderTest> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(ROOT, 'bench/broker-process.ts'), which],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    let text = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const line = text.split('\n')[0];
      if (text.includes('\n') && line) resolve((JSON.parse(line) as { port: number }).port);
    });
    child.once('exit', (code) => reject(new Error(`broker process ${which} exited with ${code}`)));
  });
  return {
    name: which === 'current' ? 'embedded (aedes 2 beta)' : 'aedes 1.2 (before)',
    url: `mqtt://127.0.0.1:${port}`,
    pid: child.pid ?? 0,
    protocols: which === 'current' ? [5, 4] : [4],
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

function aedes1Installed(): boolean {
  try {
    createRequire(import.meta.url).resolve('aedes-1');
    return true;
  } catch {
    return false;
  }
}

export const brokerBench: Bench = {
  name: 'broker',
  async run(): Promise<BenchSection> {
    const mosquitto = await startMosquitto();
    const mosquittoPid = mosquitto.pid ?? 0;
    const brokers: BrokerUnderTest[] = [
      await startNodeBroker('current'),
      {
        name: 'Mosquitto',
        url: mosquitto.url,
        pid: mosquittoPid,
        protocols: [5, 4],
        stop: () => mosquitto.dispose(),
      },
    ];
    if (aedes1Installed()) brokers.push(await startNodeBroker('aedes-1'));
    const idleRss = new Map<string, number>();
    for (const b of brokers) idleRss.set(b.name, await rssMb(b.pid));

    const results: Figures[] = [];
    try {
      for (const protocol of [5, 4] as const) {
        for (const qos of [0, 1] as const) {
          const here = brokers.filter((b) => b.protocols.includes(protocol));
          // Warm each up first, so none pays the JIT or socket set-up in its figures.
          for (const b of here) await measure(b, protocol, qos);
          for (const b of here) results.push(await measure(b, protocol, qos));
        }
      }
    } finally {
      for (const b of brokers) {
        idleRss.set(`${b.name} after`, await rssMb(b.pid).catch(() => Number.NaN));
        await b.stop();
      }
    }
    const daemon = await measureIdleRss();

    const rows: string[][] = [
      ['broker', 'protocol', 'QoS', 'throughput', 'delivered', 'latency p50', 'latency p99', 'broker CPU'],
    ];
    for (const r of results) {
      rows.push([
        r.broker,
        protocolName(r.protocol),
        String(r.qos),
        `${fmt(r.messagesPerS, 0)} msg/s`,
        `${r.delivered}/${BURST}`,
        `${fmt(r.p50Ms, 3)} ms`,
        `${fmt(r.p99Ms, 3)} ms`,
        `${fmt(r.cpuMsPer1000, 1)} ms / 1,000 msgs`,
      ]);
    }
    const embedded = brokers[0]?.name ?? '';
    const pick = (name: string, protocol: Protocol, qos: QoS) =>
      results.find((r) => r.broker === name && r.protocol === protocol && r.qos === qos);
    const ratios: string[][] = [
      ['protocol', 'QoS', 'throughput ÷ Mosquitto', 'latency p50 ÷ Mosquitto', 'CPU per message ÷ Mosquitto'],
    ];
    for (const protocol of [5, 4] as const) {
      for (const qos of [0, 1] as const) {
        const a = pick(embedded, protocol, qos);
        const m = pick('Mosquitto', protocol, qos);
        if (!a || !m) continue;
        ratios.push([
          protocolName(protocol),
          String(qos),
          `${fmt(a.messagesPerS / m.messagesPerS)}×`,
          `${fmt(a.p50Ms / m.p50Ms)}×`,
          `${fmt(a.cpuMsPer1000 / m.cpuMsPer1000)}×`,
        ]);
      }
    }
    const memory: string[][] = [['process', 'RSS idle', 'RSS after the runs']];
    for (const b of brokers) {
      memory.push([
        b.name,
        `${fmt(idleRss.get(b.name) ?? Number.NaN, 1)} MB`,
        `${fmt(idleRss.get(`${b.name} after`) ?? Number.NaN, 1)} MB`,
      ]);
    }
    memory.push([
      'the daemon (`node dist/main.js run`, one simulated BS20, embedded broker)',
      `${fmt(daemon.rssMb, 1)} MB`,
      `— (after ${daemon.settleS} s)`,
    ]);
    const v1 = brokers.find((b) => b.name.startsWith('aedes 1.2'));
    return {
      title: 'MQTT broker: the embedded broker beside Mosquitto, MQTT 5 and 3.1.1',
      method: `Each broker in its own process (ours started by \`bench/broker-process.ts\` exactly as the daemon starts it, run from source with tsx); one mqtt.js publisher and one subscriber on loopback at the protocol shown, ${PAYLOAD.length}-byte payloads (the size of a charger's state JSON). Throughput: ${BURST.toLocaleString('en')} publishes with ${WINDOW} in flight at a time, timed until the last is delivered; broker CPU is the broker process's user+system time over that part, from /proc. Latency: ${LATENCY_SAMPLES.toLocaleString('en')} messages one at a time, publish → delivery. All brokers run in the same benchmark, each after a warm-up round.`,
      table: rows,
      notes: [
        'The clients (one Node process) are usually the bottleneck at QoS 0: compare the CPU column for the brokers themselves.',
        v1
          ? 'aedes 1.2 is the broker before the MQTT 5 move; it refuses MQTT 5 clients, so it has 3.1.1 rows only.'
          : 'aedes 1.2 was not installed for this run (see the file header to include it).',
        'chargebridge publishes a few messages per second per charger, so every broker here has orders of magnitude of headroom; see docs/mqtt-broker.md for the choice.',
      ],
      extraTables: [
        { caption: 'Ratios, embedded ÷ Mosquitto, same run:', table: ratios },
        { caption: 'Memory (RSS from /proc):', table: memory },
      ],
    };
  },
};
