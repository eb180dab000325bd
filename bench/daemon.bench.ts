/**
 * The daemon end to end, as Home Assistant sees it: status notification → retained state on MQTT,
 * MQTT command → frame at the charger, and the daemon's resident memory when idle.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connectAsync } from 'mqtt';
import { parseConfigText } from '../src/config/index.js';
import { ManualClock } from '../src/core/clock.js';
import { startDaemon } from '../src/daemon.js';
import { Cmd } from '../src/evse-master/protocol/commands.js';
import { silentLogger } from '../src/log.js';
import { type Bench, type BenchSection, fmt, summarise } from './report.js';

const ROUNDS = 300;

async function measureLatencies(): Promise<{ notifyToMqtt: number[]; commandToFrame: number[] }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'cb-bench-'));
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const loaded = parseConfigText(
    `data_dir: ${dir}\ntimezone: UTC\nmqtt:\n  embedded_broker:\n    host: 127.0.0.1\n    port: ${port}\n    username: ha\n    password: bench-only\nchargers:\n  - id: garage\n    type: bs20\n    transport: simulated\n    max_current: 16\n`,
    { path: path.join(dir, 'configuration.yaml'), env: {} },
  );
  const clock = new ManualClock();
  const daemon = await startDaemon({ loaded, logger: silentLogger(), clock });
  const sim = daemon.simulators.get('garage')!;
  await clock.advance(5_000);
  const ha = await connectAsync(daemon.mqttUrl, {
    reconnectPeriod: 0,
    protocolVersion: 5,
    username: 'ha',
    password: 'bench-only',
  });
  (ha.stream as { setNoDelay?: (v: boolean) => void }).setNoDelay?.(true);
  await ha.subscribeAsync('chargebridge/garage', { qos: 1 });

  const notifyToMqtt: number[] = [];
  let statusSentAt = 0n;
  sim.events.on('sent', (command) => {
    if (command === Cmd.Status) statusSentAt = process.hrtime.bigint();
  });
  let waiting: (() => void) | null = null;
  ha.on('message', () => {
    if (statusSentAt !== 0n && waiting) {
      notifyToMqtt.push(Number(process.hrtime.bigint() - statusSentAt) / 1e6);
      statusSentAt = 0n;
      const w = waiting;
      waiting = null;
      w();
    }
  });
  for (let i = 0; i < ROUNDS; i++) {
    // Change a value the state JSON carries, then let the next 10-second status report it.
    sim.setAmbientTemperature(15 + (i % 10));
    statusSentAt = 0n;
    const got = new Promise<void>((resolve) => {
      waiting = resolve;
    });
    await clock.advance(10_000);
    await Promise.race([got, new Promise((r) => setTimeout(r, 2_000))]);
  }

  const commandToFrame: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const amps = 10 + (i % 2);
    const arrived = new Promise<void>((resolve) => {
      const off = sim.events.on('received', (f) => {
        if (f.frame.command === Cmd.SetGetMaxCurrent) {
          off();
          resolve();
        }
      });
    });
    const started = process.hrtime.bigint();
    await ha.publishAsync('chargebridge/garage/set/max_current', String(amps), { qos: 1 });
    await arrived;
    commandToFrame.push(Number(process.hrtime.bigint() - started) / 1e6);
    await clock.advance(1_500);
  }
  await ha.endAsync();
  await daemon.stop();
  rmSync(dir, { recursive: true, force: true });
  return { notifyToMqtt, commandToFrame };
}

/** The real CLI in its own process, demo configuration, RSS read from /proc after it settles. */
export async function measureIdleRss(): Promise<{ rssMb: number; settleS: number }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'cb-bench-rss-'));
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const config = path.join(dir, 'configuration.yaml');
  writeFileSync(
    config,
    `mqtt:\n  embedded_broker:\n    host: 127.0.0.1\n    port: ${port}\nchargers:\n  - id: garage\n    type: bs20\n    transport: simulated\n`,
  );
  const root = path.resolve(import.meta.dirname, '..');
  const child = spawn(process.execPath, ['dist/main.js', 'run', '--config', config], {
    cwd: root,
    stdio: 'ignore',
    env: { ...process.env, CHARGEBRIDGE_LOG_LEVEL: 'warn' },
  });
  const settleS = 20;
  await new Promise((r) => setTimeout(r, settleS * 1000));
  const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
  return { rssMb: rssKb / 1024, settleS };
}

export const daemonBench: Bench = {
  name: 'daemon',
  async run(): Promise<BenchSection> {
    const { notifyToMqtt, commandToFrame } = await measureLatencies();
    const idle = await measureIdleRss();
    const n = summarise(notifyToMqtt);
    const c = summarise(commandToFrame);
    return {
      title: 'Daemon: notification → MQTT, command → frame, idle memory',
      method:
        'The daemon built from a config (embedded aedes broker, one simulated BS20), an external mqtt.js client standing in for Home Assistant on loopback. Notification → MQTT: from the simulator putting a changed status frame on the wire to the client receiving the retained state JSON. Command → frame: from the client publishing `set/max_current` (QoS 1) to the simulator decoding the 0x8107 frame. Idle memory: the compiled CLI (`node dist/main.js run`) in its own process, RSS read from /proc after it has run for a while.',
      table: [
        ['measure', 'samples', 'p50', 'p99', 'max'],
        [
          'notification → MQTT state',
          String(n.n),
          `${fmt(n.p50)} ms`,
          `${fmt(n.p99)} ms`,
          `${fmt(n.max)} ms`,
        ],
        [
          'MQTT command → charger frame',
          String(c.n),
          `${fmt(c.p50)} ms`,
          `${fmt(c.p99)} ms`,
          `${fmt(c.max)} ms`,
        ],
        ['idle RSS, one simulated BS20', '1', `${fmt(idle.rssMb, 1)} MB`, '—', `after ${idle.settleS} s`],
      ],
      notes: ['Run `npm run build` first: the memory figure is taken from the compiled daemon.'],
    };
  },
};
