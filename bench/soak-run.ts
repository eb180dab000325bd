/**
 * A time-accelerated soak: the real daemon (embedded broker, sessions, Home Assistant) with N
 * simulated BS20 chargers on a ManualClock, a car plugged into each every evening and charged
 * through an MQTT command until full, unplugged next morning, for D simulated days. Every simulated
 * hour, after a forced GC, it samples RSS and heap, so a leak shows as a slope.
 *
 *   node --expose-gc --import tsx bench/soak-run.ts [--days 30] [--chargers 10] [--json]
 *
 * `npm run soak` runs the long version; bench/soak.bench.ts runs 7 days for docs/benchmarks.md.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connectAsync } from 'mqtt';
import { parseConfigText } from '../src/config/index.js';
import { ManualClock } from '../src/core/clock.js';
import { startDaemon } from '../src/daemon.js';
import { silentLogger } from '../src/log.js';
import { freePort } from '../test/helpers/mosquitto.js';

export interface SoakSample {
  hour: number;
  rssMb: number;
  heapUsedMb: number;
  externalMb: number;
  pendingTimers: number;
}

export interface SoakResult {
  days: number;
  chargers: number;
  wallSeconds: number;
  samples: SoakSample[];
  sessionsEnded: number;
  energyKwh: number;
  mqttMessagesSeen: number;
  publishFailures: number;
  /** Least-squares slope over the samples after the first simulated day (warm-up), MB per day. */
  rssSlopeMbPerDay: number;
  heapSlopeMbPerDay: number;
}

const MINUTE_MS = 60_000;
/** ManualClock gives I/O a turn after every timer; a few more per minute let the last hop land. */
const IO_TURNS_PER_MINUTE = 2;
/** 2026-06-01 00:00 in Europe/Berlin. */
const START_MS = Date.UTC(2026, 4, 31, 22, 0, 0);

function slope(points: Array<[x: number, y: number]>): number {
  const n = points.length;
  if (n < 2) return Number.NaN;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxy = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return sxy / sxx;
}

const mb = (bytes: number) => Math.round((bytes / 2 ** 20) * 100) / 100;

export async function runSoak(options: { days: number; chargers: number }): Promise<SoakResult> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc, so memory is sampled after a full collection');
  const dir = mkdtempSync(path.join(tmpdir(), 'cb-soak-'));
  const ids = Array.from({ length: options.chargers }, (_, i) => `ch${String(i + 1).padStart(2, '0')}`);
  const yaml = [
    `data_dir: ${dir}`,
    'timezone: Europe/Berlin',
    'mqtt:',
    '  embedded_broker:',
    '    host: 127.0.0.1',
    `    port: ${await freePort()}`,
    '    persist_retained: true',
    '    username: ha',
    '    password: soak-only',
    'chargers:',
    ...ids.flatMap((id) => [
      `  - id: ${id}`,
      '    type: bs20',
      '    transport: simulated',
      '    max_current: 16',
    ]),
  ].join('\n');
  const loaded = parseConfigText(yaml, { path: path.join(dir, 'configuration.yaml'), env: {} });
  const clock = new ManualClock(START_MS);
  const daemon = await startDaemon({ loaded, logger: silentLogger(), clock });
  const ha = await connectAsync(daemon.mqttUrl, {
    reconnectPeriod: 0,
    protocolVersion: 5,
    username: 'ha',
    password: 'soak-only',
  });
  let mqttMessagesSeen = 0;
  ha.on('message', () => {
    mqttMessagesSeen++;
  });
  await ha.subscribeAsync(['homeassistant/#', 'chargebridge/#'], { qos: 1 });

  let sessionsEnded = 0;
  const startWh = new Map<string, number>();
  for (const id of ids) {
    const sim = daemon.simulators.get(id)!;
    startWh.set(id, sim.state.energyTotalWh);
    sim.events.on('session_ended', () => {
      sessionsEnded++;
    });
  }

  const samples: SoakSample[] = [];
  const sample = (hour: number) => {
    gc();
    const m = process.memoryUsage();
    samples.push({
      hour,
      rssMb: mb(m.rss),
      heapUsedMb: mb(m.heapUsed),
      externalMb: mb(m.external),
      pendingTimers: clock.pendingTimers(),
    });
  };

  const started = Date.now();
  const totalMinutes = options.days * 24 * 60;
  for (let minute = 0; minute < totalMinutes; minute++) {
    const minuteOfDay = minute % (24 * 60);
    const day = Math.floor(minute / (24 * 60));
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      const sim = daemon.simulators.get(id)!;
      // Cars arrive between 17:00 and 18:10 and leave between 07:00 and 07:10.
      if (minuteOfDay === 17 * 60 + i * 7) {
        sim.plugIn({ demandA: 16, batteryKwh: 12 + ((day + i) % 10) });
      }
      if (minuteOfDay === 17 * 60 + i * 7 + 2) {
        ha.publish(`chargebridge/${id}/set/charging`, 'ON', { qos: 1 });
      }
      if (minuteOfDay === 7 * 60 + i) sim.unplug();
    }
    await clock.advance(MINUTE_MS);
    // Let sockets and files carry what this minute produced (daemon → broker → client is two hops).
    for (let turn = 0; turn < IO_TURNS_PER_MINUTE; turn++)
      await new Promise<void>((resolve) => setImmediate(resolve));
    if ((minute + 1) % 60 === 0) sample((minute + 1) / 60);
  }
  const wallSeconds = (Date.now() - started) / 1000;

  const energyKwh =
    ids.reduce(
      (sum, id) => sum + daemon.simulators.get(id)!.state.energyTotalWh - (startWh.get(id) ?? 0),
      0,
    ) / 1000;
  const publishFailures = daemon.connection.counters().publishFailures;
  await ha.endAsync();
  await daemon.stop();
  rmSync(dir, { recursive: true, force: true });

  const afterWarmUp = samples.filter((s) => s.hour > 24);
  return {
    days: options.days,
    chargers: options.chargers,
    wallSeconds,
    samples,
    sessionsEnded,
    energyKwh: Math.round(energyKwh * 10) / 10,
    mqttMessagesSeen,
    publishFailures,
    rssSlopeMbPerDay: slope(afterWarmUp.map((s) => [s.hour / 24, s.rssMb])),
    heapSlopeMbPerDay: slope(afterWarmUp.map((s) => [s.hour / 24, s.heapUsedMb])),
  };
}

function argument(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = index === -1 ? undefined : Number(process.argv[index + 1]);
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : fallback;
}

export function summaryLines(r: SoakResult): string[] {
  const first = r.samples.find((s) => s.hour === 24) ?? r.samples[0];
  const last = r.samples.at(-1);
  const maxRss = Math.max(...r.samples.map((s) => s.rssMb));
  const maxHeap = Math.max(...r.samples.map((s) => s.heapUsedMb));
  return [
    `${r.days} simulated days, ${r.chargers} simulated BS20 chargers, ${r.wallSeconds.toFixed(0)} s of wall time`,
    `sessions ended: ${r.sessionsEnded}, energy charged: ${r.energyKwh} kWh, MQTT messages seen by the HA client: ${r.mqttMessagesSeen}, publish failures: ${r.publishFailures}`,
    `RSS after day 1: ${first?.rssMb} MB, at the end: ${last?.rssMb} MB, max: ${maxRss} MB, slope: ${r.rssSlopeMbPerDay.toFixed(3)} MB/day`,
    `heap used after day 1: ${first?.heapUsedMb} MB, at the end: ${last?.heapUsedMb} MB, max: ${maxHeap} MB, slope: ${r.heapSlopeMbPerDay.toFixed(3)} MB/day`,
    `pending timers after day 1: ${first?.pendingTimers}, at the end: ${last?.pendingTimers}`,
  ];
}

async function main(): Promise<void> {
  const result = await runSoak({ days: argument('days', 30), chargers: argument('chargers', 10) });
  if (process.argv.includes('--json')) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  process.stdout.write(`${summaryLines(result).join('\n')}\n`);
  process.stdout.write('hour,rss_mb,heap_used_mb,external_mb,pending_timers\n');
  for (const s of result.samples) {
    if (s.hour % 24 === 0)
      process.stdout.write(`${s.hour},${s.rssMb},${s.heapUsedMb},${s.externalMb},${s.pendingTimers}\n`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  });
}
