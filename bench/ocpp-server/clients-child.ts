/**
 * Simulated stations in their own process (ocpp-rpc clients, one websocket each): connect and boot
 * all, then a steady phase (MeterValues and Heartbeat every interval, spread over the interval),
 * then a saturation burst (back-to-back calls, one outstanding per station). Reports over IPC.
 */
import { call, createRpcClient, type RpcClient } from '../../src/ocpp/rpc.js';
import type { MeterValue } from '../../src/ocpp/types.js';
import { summarise } from '../report.js';
import { type FromClients, type PhaseReport, stationIdentity, type ToClients } from './shared.js';

const [url = '', countText = '0', steadyText = '20', intervalText = '10', burstText = '5'] =
  process.argv.slice(2);
const count = Number(countText);
const steadyMs = Number(steadyText) * 1000;
const intervalMs = Number(intervalText) * 1000;
const burstMs = Number(burstText) * 1000;
const send = (m: FromClients) => process.send?.(m);
let failures = 0;

function meterValue(i: number, round: number): MeterValue[] {
  const energyWh = 1_000_000 + i * 10 + round * 30;
  return [
    {
      timestamp: new Date().toISOString(),
      sampledValue: [
        { value: String(energyWh), measurand: 'Energy.Active.Import.Register', unit: 'Wh' },
        { value: '11040', measurand: 'Power.Active.Import', unit: 'W' },
        { value: '16.0', measurand: 'Current.Import', phase: 'L1', unit: 'A' },
        { value: '16.0', measurand: 'Current.Import', phase: 'L2', unit: 'A' },
        { value: '16.0', measurand: 'Current.Import', phase: 'L3', unit: 'A' },
        { value: '230.1', measurand: 'Voltage', phase: 'L1-N', unit: 'V' },
        { value: '16', measurand: 'Current.Offered', unit: 'A' },
      ],
    },
  ];
}

async function timed(latencies: number[], job: () => Promise<unknown>): Promise<void> {
  const started = performance.now();
  try {
    await job();
    latencies.push(performance.now() - started);
  } catch {
    failures++;
  }
}

async function connectAll(): Promise<RpcClient[]> {
  const clients: RpcClient[] = [];
  const batch = Number(process.env.CB_BENCH_BATCH ?? 100);
  for (let start = 0; start < count; start += batch) {
    const group = Array.from({ length: Math.min(batch, count - start) }, (_, k) => start + k);
    const made = await Promise.all(
      group.map(async (i) => {
        const client = createRpcClient({
          endpoint: url,
          identity: stationIdentity(i),
          protocols: ['ocpp1.6'],
          reconnect: false,
          pingIntervalMs: 0,
          callTimeoutMs: 30_000,
        });
        try {
          await client.connect();
          await call(client, 'BootNotification', { chargePointVendor: 'Bench', chargePointModel: 'Sim' });
          await call(client, 'StatusNotification', {
            connectorId: 1,
            errorCode: 'NoError',
            status: 'Charging',
          });
          return client;
        } catch {
          failures++;
          return null;
        }
      }),
    );
    for (const c of made) if (c) clients.push(c);
  }
  return clients;
}

async function steady(clients: RpcClient[]): Promise<{ calls: number; latencies: number[] }> {
  const latencies: number[] = [];
  const end = performance.now() + steadyMs;
  await Promise.all(
    clients.map(async (client, i) => {
      // Spread the stations over the interval, as real ones would be.
      let next = performance.now() + (i / clients.length) * intervalMs;
      for (let round = 0; ; round++) {
        const wait = next - performance.now();
        if (next >= end) return;
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        await timed(latencies, () =>
          call(client, 'MeterValues', { connectorId: 1, transactionId: 1, meterValue: meterValue(i, round) }),
        );
        await timed(latencies, () => call(client, 'Heartbeat', {}));
        next += intervalMs;
      }
    }),
  );
  return { calls: latencies.length, latencies };
}

async function burst(clients: RpcClient[]): Promise<{ calls: number; latencies: number[]; seconds: number }> {
  const latencies: number[] = [];
  const started = performance.now();
  const end = started + burstMs;
  await Promise.all(
    clients.map(async (client, i) => {
      for (let round = 0; performance.now() < end; round++) {
        if (round % 2 === 0) {
          await timed(latencies, () =>
            call(client, 'MeterValues', { connectorId: 1, meterValue: meterValue(i, round) }),
          );
        } else {
          await timed(latencies, () => call(client, 'Heartbeat', {}));
        }
      }
    }),
  );
  return { calls: latencies.length, latencies, seconds: (performance.now() - started) / 1000 };
}

function phaseReport(latencies: number[], seconds: number): PhaseReport {
  const { p50, p99, max, n } = summarise(latencies);
  return { calls: n, seconds, p50Ms: p50, p99Ms: p99, maxMs: max };
}

async function main(): Promise<void> {
  const connectStarted = performance.now();
  const clients = await connectAll();
  const connectMs = performance.now() - connectStarted;
  send({ type: 'phase', phase: 'connected' });
  await new Promise<void>((resolve) =>
    process.once('message', (m: ToClients) => m.type === 'go' && resolve()),
  );
  const s = await steady(clients);
  send({ type: 'phase', phase: 'steady-done' });
  await new Promise<void>((resolve) =>
    process.once('message', (m: ToClients) => m.type === 'go' && resolve()),
  );
  const b = await burst(clients);
  send({
    type: 'report',
    connectMs,
    connected: clients.length,
    steady: phaseReport(s.latencies, steadyMs / 1000),
    burst: phaseReport(b.latencies, b.seconds),
    failures,
  });
  await Promise.all(clients.map((c) => c.close({ force: true })));
  process.exit(0);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
