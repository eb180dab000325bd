/**
 * The OCPP central system under many stations: 1,000 and 2,000 simulated stations (a second
 * process of ocpp-rpc clients) connect, boot, then send MeterValues and Heartbeat every 10 s, then
 * call back to back for a few seconds. The server runs in a process of its own so its memory is its
 * own; a bare ocpp-rpc server with minimal handlers runs the same load in the same run, so our
 * overhead is a ratio on this machine rather than an absolute number.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import {
  type ClientsReport,
  type FromClients,
  type FromServer,
  nextMessage,
  type ServerKind,
} from './ocpp-server/shared.js';
import { type Bench, type BenchSection, fmt } from './report.js';

// CB_BENCH_QUICK=1: a smoke run (100 stations, short phases) to check the bench itself.
const QUICK = process.env.CB_BENCH_QUICK === '1';
const SIZES = QUICK ? [100] : [1000, 2000];
const STEADY_S = QUICK ? 4 : 20;
const INTERVAL_S = QUICK ? 2 : 10;
const BURST_S = QUICK ? 2 : 5;
const MB = 2 ** 20;

const childPath = (name: string) => fileURLToPath(new URL(`./ocpp-server/${name}`, import.meta.url));

interface Run {
  kind: ServerKind;
  stations: number;
  clients: ClientsReport;
  rssBaseBytes: number;
  rssLoadedBytes: number;
  heapBaseBytes: number;
  heapLoadedBytes: number;
  connectedAtServer: number;
}

async function memory(server: ChildProcess): Promise<Extract<FromServer, { type: 'memory' }>> {
  const reply = nextMessage<FromServer>(server, (m) => m.type === 'memory');
  server.send({ type: 'memory' });
  return (await reply) as Extract<FromServer, { type: 'memory' }>;
}

async function runOne(kind: ServerKind, stations: number): Promise<Run> {
  const server = fork(childPath('server-child.ts'), [kind, String(stations)], {
    execArgv: ['--import', 'tsx', '--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  try {
    const ready = (await nextMessage<FromServer>(server, (m) => m.type === 'ready')) as Extract<
      FromServer,
      { type: 'ready' }
    >;
    const base = await memory(server);
    const clients = fork(
      childPath('clients-child.ts'),
      [
        `ws://127.0.0.1:${ready.port}/ocpp`,
        String(stations),
        String(STEADY_S),
        String(INTERVAL_S),
        String(BURST_S),
      ],
      { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
    );
    await nextMessage<FromClients>(clients, (m) => m.type === 'phase' && m.phase === 'connected');
    clients.send({ type: 'go' });
    await nextMessage<FromClients>(clients, (m) => m.type === 'phase' && m.phase === 'steady-done');
    const loaded = await memory(server);
    const report = nextMessage<FromClients>(clients, (m) => m.type === 'report');
    clients.send({ type: 'go' });
    const result = (await report) as ClientsReport;
    return {
      kind,
      stations,
      clients: result,
      rssBaseBytes: base.rssBytes,
      rssLoadedBytes: loaded.rssBytes,
      heapBaseBytes: base.heapUsedBytes,
      heapLoadedBytes: loaded.heapUsedBytes,
      connectedAtServer: loaded.connected,
    };
  } finally {
    server.send({ type: 'stop' });
    await new Promise((resolve) => server.once('exit', resolve));
  }
}

function row(run: Run): string[] {
  const c = run.clients;
  const perStationKb = (bytes: number) => fmt(bytes / run.stations / 1024, 1);
  return [
    fmt(run.stations, 0),
    run.kind === 'bare' ? 'bare ocpp-rpc' : 'chargebridge',
    `${fmt(c.connected, 0)} / ${fmt(run.connectedAtServer, 0)}`,
    fmt(c.connectMs / 1000, 2),
    fmt(c.steady.calls / c.steady.seconds, 0),
    `${fmt(c.steady.p50Ms, 1)} / ${fmt(c.steady.p99Ms, 1)}`,
    fmt(c.burst.calls / c.burst.seconds, 0),
    `${fmt(c.burst.p50Ms, 1)} / ${fmt(c.burst.p99Ms, 1)}`,
    `${fmt(run.rssBaseBytes / MB, 1)} → ${fmt(run.rssLoadedBytes / MB, 1)}`,
    perStationKb(run.rssLoadedBytes - run.rssBaseBytes),
    perStationKb(run.heapLoadedBytes - run.heapBaseBytes),
    fmt(c.failures, 0),
  ];
}

export const ocppServerBench: Bench = {
  name: 'ocpp-server',
  async run(): Promise<BenchSection> {
    const runs: Run[] = [];
    const loadBefore = loadavg()[0] ?? 0;
    for (const stations of SIZES) {
      for (const kind of ['bare', 'chargebridge'] as const) {
        process.stdout.write(`  ${kind} with ${stations} stations …\n`);
        runs.push(await runOne(kind, stations));
      }
    }
    const notes: string[] = [];
    for (const stations of SIZES) {
      const bare = runs.find((r) => r.kind === 'bare' && r.stations === stations);
      const ours = runs.find((r) => r.kind === 'chargebridge' && r.stations === stations);
      if (!bare || !ours) continue;
      const rate = (r: Run) => r.clients.burst.calls / r.clients.burst.seconds;
      const perStation = (r: Run) => (r.rssLoadedBytes - r.rssBaseBytes) / r.stations;
      notes.push(
        `${fmt(stations, 0)} stations, chargebridge ÷ bare ocpp-rpc: saturated round-trips/s ×${fmt(rate(ours) / rate(bare), 2)}, ` +
          `steady p99 ×${fmt(ours.clients.steady.p99Ms / bare.clients.steady.p99Ms, 2)}, ` +
          `connect+boot time ×${fmt(ours.clients.connectMs / bare.clients.connectMs, 2)}, ` +
          `RSS per station ×${fmt(perStation(ours) / perStation(bare), 2)}.`,
      );
    }
    notes.push(
      `Machine load average (1 min) ${fmt(loadBefore, 1)} before and ${fmt(loadavg()[0] ?? 0, 1)} after the run, on ${cpus().length} cores: other work on the machine slows both servers alike.`,
      'The bare server answers Boot/Heartbeat/Status/MeterValues with constants; chargebridge also parses every sampled value, keeps a Charger per station (state, events), and sends each station GetConfiguration and TriggerMessage after its boot.',
      'Both processes share the same cores as the clients, so absolute figures understate a dedicated server; the ratios are the point. A home install (1–10 stations, one message per 10 s each) uses a tiny fraction of this.',
    );
    return {
      title: 'OCPP central system: many stations',
      method:
        `Server in its own Node process (\`--expose-gc\`, memory read after a GC), ${SIZES.map((n) => fmt(n, 0)).join(' and ')} simulated stations in a second process (ocpp-rpc clients on loopback, one websocket each, ` +
        `connected 100 at a time). Each station boots and sends a StatusNotification; then for ${STEADY_S} s every station sends MeterValues (7 sampled values) and a Heartbeat every ${INTERVAL_S} s, ` +
        `spread over the interval; then for ${BURST_S} s every station calls back to back (one call outstanding each). Latency is per call, measured at the station. ` +
        'RSS/heap per station = (after the steady phase − before any station connected) ÷ stations.',
      table: [
        [
          'stations',
          'server',
          'connected (clients / server)',
          'connect + boot all (s)',
          'steady round-trips/s',
          'steady p50 / p99 (ms)',
          'saturated round-trips/s',
          'saturated p50 / p99 (ms)',
          'server RSS (MB)',
          'RSS / station (KB)',
          'heap / station (KB)',
          'failed calls',
        ],
        ...runs.map(row),
      ],
      notes,
    };
  },
};
