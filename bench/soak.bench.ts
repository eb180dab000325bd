/**
 * Memory over time: a 7-day time-accelerated soak with 10 simulated BS20 chargers (bench/soak-run.ts
 * in its own `node --expose-gc` process), and the resident memory of the compiled daemon idling
 * with 1 and with 10 simulated chargers.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../test/helpers/mosquitto.js';
import { type Bench, type BenchSection, fmt } from './report.js';
import { type SoakResult, summaryLines } from './soak-run.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const SOAK_DAYS = 7;
const SOAK_CHARGERS = 10;
const IDLE_SETTLE_S = 30;
/** One VmRSS sample a second over the last this many seconds; the median is reported. */
const IDLE_SAMPLES = 10;

function runSoakProcess(days: number, chargers: number): Promise<SoakResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--expose-gc',
        '--import',
        'tsx',
        'bench/soak-run.ts',
        '--days',
        String(days),
        '--chargers',
        String(chargers),
        '--json',
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      const last = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0) reject(new Error(`soak run exited with ${code}`));
      else resolve(JSON.parse(last) as SoakResult);
    });
  });
}

interface IdleMemory {
  /** Median VmRSS over the last samples. */
  rssMb: number;
  /** VmHWM: the most the process ever had resident. */
  peakMb: number;
}

/** The compiled CLI (`npm run build` first) with `count` simulated chargers; VmRSS once it has settled. */
async function idleMemory(count: number): Promise<IdleMemory> {
  const dir = mkdtempSync(path.join(tmpdir(), 'cb-bench-idle-'));
  const config = path.join(dir, 'configuration.yaml');
  const chargers = Array.from({ length: count }, (_, i) =>
    [`  - id: ch${i + 1}`, '    type: bs20', '    transport: simulated', '    max_current: 16'].join('\n'),
  );
  writeFileSync(
    config,
    `data_dir: ${dir}\nmqtt:\n  embedded_broker:\n    host: 127.0.0.1\n    port: ${await freePort()}\nchargers:\n${chargers.join('\n')}\n`,
  );
  const child = spawn(process.execPath, ['dist/main.js', 'run', '--config', config], {
    cwd: ROOT,
    stdio: 'ignore',
    env: { ...process.env, CHARGEBRIDGE_LOG_LEVEL: 'warn' },
  });
  const status = () => readFileSync(`/proc/${child.pid}/status`, 'utf8');
  const kb = (text: string, field: string) =>
    Number(new RegExp(`${field}:\\s+(\\d+)`).exec(text)?.[1] ?? Number.NaN);
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  await sleep((IDLE_SETTLE_S - IDLE_SAMPLES) * 1000);
  const rss: number[] = [];
  for (let i = 0; i < IDLE_SAMPLES; i++) {
    rss.push(kb(status(), 'VmRSS'));
    await sleep(1000);
  }
  const peakKb = kb(status(), 'VmHWM');
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  rmSync(dir, { recursive: true, force: true });
  rss.sort((a, b) => a - b);
  return { rssMb: (rss[Math.floor(rss.length / 2)] ?? Number.NaN) / 1024, peakMb: peakKb / 1024 };
}

export const soakBench: Bench = {
  name: 'soak',
  async run(): Promise<BenchSection> {
    const idleOne = await idleMemory(1);
    const idleTen = await idleMemory(SOAK_CHARGERS);
    const soak = await runSoakProcess(SOAK_DAYS, SOAK_CHARGERS);
    const daily = soak.samples.filter((s) => s.hour % 24 === 0);
    const rows: string[][] = [['simulated day', 'RSS', 'heap used', 'external', 'pending timers']];
    for (const s of daily) {
      rows.push([
        String(s.hour / 24),
        `${fmt(s.rssMb, 1)} MB`,
        `${fmt(s.heapUsedMb, 1)} MB`,
        `${fmt(s.externalMb, 1)} MB`,
        String(s.pendingTimers),
      ]);
    }
    return {
      title: `Memory: idle daemon and a ${SOAK_DAYS}-day soak with ${SOAK_CHARGERS} chargers`,
      method: `Idle: the compiled CLI (\`node dist/main.js run\`) in its own process with 1 and with ${SOAK_CHARGERS} simulated BS20 chargers on the embedded broker, median of VmRSS read from /proc once a second over seconds ${IDLE_SETTLE_S - IDLE_SAMPLES}–${IDLE_SETTLE_S} (peak = VmHWM). Soak: bench/soak-run.ts in its own \`node --expose-gc\` process (TypeScript through tsx, which adds to RSS): the daemon with ${SOAK_CHARGERS} simulated chargers on a ManualClock, sessions and the embedded broker with retained persistence, an MQTT client standing in for Home Assistant; every evening a car is plugged into each charger and started with \`set/charging ON\`, it charges until full and is unplugged next morning. RSS and heap are sampled every simulated hour after a forced GC; the table shows one sample per day, the slope is a least-squares fit over every hourly sample after day 1.`,
      table: [
        ['measure', 'value'],
        ['idle RSS, 1 simulated BS20', `${fmt(idleOne.rssMb, 1)} MB (peak ${fmt(idleOne.peakMb, 1)} MB)`],
        [
          `idle RSS, ${SOAK_CHARGERS} simulated BS20`,
          `${fmt(idleTen.rssMb, 1)} MB (peak ${fmt(idleTen.peakMb, 1)} MB)`,
        ],
        ['soak RSS slope', `${fmt(soak.rssSlopeMbPerDay, 3)} MB/day`],
        ['soak heap slope', `${fmt(soak.heapSlopeMbPerDay, 3)} MB/day`],
      ],
      notes: [
        ...summaryLines(soak),
        'Idle RSS of a Node process moves by ±20 MB with V8 heap sizing from run to run, more than 9 extra chargers add; the peak (VmHWM) is the steadier figure.',
        'The long version: `npm run soak` (30 simulated days; `npm run soak -- --days N --chargers N` to change).',
      ],
      extraTables: [{ caption: 'Soak, one sample per simulated day (after a forced GC):', table: rows }],
    };
  },
};
