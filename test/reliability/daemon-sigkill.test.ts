/**
 * SIGKILL at random points of charging sessions, again and again: the real CLI in a child process,
 * one BS20 (`transport: simulated`) that lives in the test process and keeps charging while the
 * daemon is dead (outside-charger.ts), a persistent data_dir, and `ocpp_upstream` pointing at a port
 * where nothing listens, so every transaction message piles up in the offline queue on disk.
 *
 * Each round starts the daemon, drives it like Home Assistant and the driver would (plug in, start
 * and stop charging, unplug, a burst of current changes) and kills it at a seeded-random event: the
 * n-th MQTT message, a session event, a command frame reaching the charger, a store or queue write
 * touching the disk. While it is dead the car may be unplugged or plugged in. After each kill the
 * files must parse, no session on disk may vanish or double, the queue may only grow; after each
 * restart the open session must be resumed with its energy never lower than before.
 *
 * At the end a real central system (@voltbras/ts-ocpp) comes up on that port and the daemon
 * delivers the queue: every session in the store must show up as exactly one transaction, in order,
 * with meter values that never go down.
 */
import { existsSync, type FSWatcher, mkdtempSync, rmSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock, systemClock } from '../../src/core/clock.js';
import type { Journal } from '../../src/ocpp/client/offline-queue.js';
import type { SessionRecord } from '../../src/sessions/record.js';
import { embeddedBroker, type TestBroker } from '../helpers/brokers.js';
import { freePort, VoltbrasCentralSystem } from '../ocpp/client/peers.js';
import { DaemonProcess } from './daemon-process.js';
import { OutsideCharger } from './outside-charger.js';
import { runSeed, seededRandom } from './seeded-random.js';
import {
  queueFile,
  readQueueFile,
  readSessionFiles,
  type SessionFiles,
  sessionFolder,
} from './store-files.js';

const ROUNDS = 20;
/** Longest wait for a kill point once armed; it then kills anyway ("fallback"). */
const TRIGGER_WAIT_MS = 3_000;
const STARTUP_WAIT_MS = 10_000;
const STATE_TOPIC = 'chargebridge/garage';
/** A session the daemon has shown this long before its kill must be on disk (a write takes ms). */
const KNOWN_LONG_ENOUGH_MS = 2_000;
const seed = runSeed('daemon-sigkill');
const random = seededRandom(seed);

const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const step of cleanups.splice(0).reverse()) await step();
});

interface Heard {
  topic: string;
  text: string;
  json: Record<string, unknown>;
  round: number;
  /** Real time it arrived. */
  at: number;
}

/** Home Assistant as far as this test needs it: every message on `chargebridge/#`, and commands. */
class HomeAssistant {
  readonly heard: Heard[] = [];
  round = 0;
  private readonly listeners = new Set<(m: Heard) => void>();

  private constructor(private readonly client: MqttClient) {
    client.on('message', (topic, payload) => {
      if (topic.includes('/set/')) return;
      const text = payload.toString('utf8');
      let json: Record<string, unknown> = {};
      try {
        const value: unknown = JSON.parse(text);
        if (typeof value === 'object' && value !== null) json = value as Record<string, unknown>;
      } catch {
        // availability and other plain-text topics
      }
      const message = { topic, text, json, round: this.round, at: Date.now() };
      this.heard.push(message);
      for (const listener of [...this.listeners]) listener(message);
    });
  }

  static async connect(url: string): Promise<HomeAssistant> {
    const client = await connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5_000 });
    await client.subscribeAsync('chargebridge/#', { qos: 0 });
    return new HomeAssistant(client);
  }

  listen(listener: (m: Heard) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  next(match: (m: Heard) => boolean, what: string, timeoutMs: number): Promise<Heard> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`no ${what} within ${timeoutMs} ms (round ${this.round}, seed ${seed})`));
      }, timeoutMs);
      const off = this.listen((m) => {
        if (!match(m)) return;
        clearTimeout(timer);
        off();
        resolve(m);
      });
    });
  }

  async set(key: string, value: string): Promise<void> {
    await this.client.publishAsync(`${STATE_TOPIC}/set/${key}`, value, { qos: 0 });
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

type Plan = 'plug_and_charge' | 'charge' | 'stop' | 'unplug' | 'run' | 'burst';
type Trigger =
  | { kind: 'startup'; n: number }
  | { kind: 'state'; n: number }
  | { kind: 'event'; type: 'session_started' | 'session_completed' }
  | { kind: 'frame'; type: 'charge_start' | 'charge_stop' | 'max_current_request'; n: number }
  | { kind: 'write'; file: 'open' | 'month' | 'queue'; n: number };

function describeTrigger(t: Trigger): string {
  switch (t.kind) {
    case 'startup':
      return `MQTT message ${t.n} of the start`;
    case 'state':
      return `charger state ${t.n} after the action`;
    case 'event':
      return `bridge/event ${t.type}`;
    case 'frame':
      return `${t.type} frame ${t.n} reaching the charger`;
    case 'write':
      return `file event ${t.n} of a ${t.file} write`;
  }
}

interface RoundLog {
  round: number;
  plan: Plan | 'none';
  trigger: string;
  fired: string;
  whileDead: string;
  killedAt: number;
  /** Real ms from the spawn to the charger online, and to the kill. */
  onlineMs: number;
  killMs: number;
}

/** What the charger itself did: its sessions by chargeId, with the register at start and end. */
interface ChargerSession {
  chargeId: string;
  startedAt: number;
  startKwh: number;
  endedAt: number | null;
  endKwh: number | null;
}

function tempWriteMatches(file: 'open' | 'month' | 'queue', name: string): boolean {
  // Temp files are <file>.tmp-<pid>-<8 hex> (core/durable-file.ts).
  if (file === 'open') return /^open\.json\.tmp-\d+-[0-9a-f]{8}$/.test(name);
  if (file === 'month') return /^\d{4}-\d{2}\.json\.tmp-\d+-[0-9a-f]{8}$/.test(name);
  return /^garage\.queue\.json\.tmp-\d+-[0-9a-f]{8}$/.test(name);
}

/** The energy register (Wh) of an OCPP MeterValue, if it has one. */
function registerWh(meterValue: unknown): number | null {
  const sampled = (meterValue as { sampledValue?: Array<Record<string, unknown>> }).sampledValue ?? [];
  const energy = sampled.find(
    (s) => (s.measurand ?? 'Energy.Active.Import.Register') === 'Energy.Active.Import.Register',
  );
  return energy ? Number(energy.value) : null;
}

describe('daemon killed with SIGKILL at random points of charging sessions', () => {
  it(`${ROUNDS} kills: sessions, the open session and the OCPP queue survive; the backend gets each transaction once`, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cb-sigkill-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const dataDir = path.join(dir, 'data');
    const broker: TestBroker = await embeddedBroker.start();
    cleanups.push(() => broker.stop());
    const charger = await OutsideCharger.start({
      clock: systemClock,
      // The charger's clock shows local time in the daemon's zone, as the daemon sets it.
      timeZone: 'Europe/Berlin',
      phases: 3,
      hardwareMaxCurrentA: 16,
      firstBeaconDelayMs: 50,
      beaconIntervalMs: 500,
      statusIntervalMs: 500,
      chargingStatusIntervalMs: 500,
      headingIntervalMs: 2_000,
      seed,
    });
    cleanups.push(() => charger.close());
    const sim = charger.sim;
    const ha = await HomeAssistant.connect(broker.url);
    cleanups.push(() => ha.close());
    // Nothing listens here until the last round: every transaction message waits in the queue.
    const csPort = await freePort();
    const configFile = path.join(dir, 'configuration.yaml');
    writeFileSync(
      configFile,
      [
        `data_dir: ${dataDir}`,
        'timezone: Europe/Berlin',
        `mqtt:\n  url: ${broker.url}\n  reconnect_period_ms: 250`,
        'homeassistant:\n  enabled: false',
        'chargers:',
        '  - id: garage',
        '    type: bs20',
        '    transport: simulated',
        '    max_current: 16',
        '    ocpp_upstream:',
        `      url: ws://127.0.0.1:${csPort}/ocpp`,
        '      meter_value_sample_interval_s: 1',
        '      heartbeat_interval_s: 30',
        '      ping_interval_s: 0',
        '      call_timeout_s: 5',
        '      reconnect_max_delay_s: 1',
        '',
      ].join('\n'),
    );
    // The next daemon is spawned while the current one runs and held until the kill: its start is
    // then the daemon's own start, not Node loading modules.
    const spawnHeld = () =>
      new DaemonProcess({
        configFile,
        imports: ['./test/reliability/outside-charger-preload.ts'],
        env: { OUTSIDE_CHARGER_ADDRESS: charger.address },
        held: true,
      });
    const daemons = { current: null as DaemonProcess | null, next: spawnHeld() };
    const startDaemon = (): DaemonProcess => {
      const started = daemons.next;
      daemons.current = started;
      daemons.next = spawnHeld();
      started.go();
      return started;
    };
    cleanups.push(async () => {
      await daemons.current?.kill();
      await daemons.next.kill();
    });

    // ---- what the charger did (the truth the store is checked against) ----
    const chargerSessions = new Map<string, ChargerSession>();
    let current: ChargerSession | null = null;
    const noteStart = () => {
      const s = sim.state.session;
      if (!s || s.startedAtMs === null || chargerSessions.has(s.chargeId)) return;
      current = {
        chargeId: s.chargeId,
        startedAt: s.startedAtMs,
        startKwh: sim.state.energyTotalKwh - s.energyKwh,
        endedAt: null,
        endKwh: null,
      };
      chargerSessions.set(s.chargeId, current);
    };
    sim.events.on('received', (frame) => {
      // Read once the charger has handled the frame.
      if (frame.message.type === 'charge_start') queueMicrotask(noteStart);
    });
    sim.events.on('session_ended', () => {
      if (!current) return;
      current.endedAt = Date.now();
      current.endKwh = sim.state.energyTotalKwh;
      current = null;
    });
    const runningChargeId = (): string | null =>
      sim.state.chargePhase === 'charging' ? (sim.state.session?.chargeId ?? null) : null;

    // ---- the disk after each kill ----
    const log: RoundLog[] = [];
    const findings: string[] = [];
    const where = (round: number) =>
      `round ${round} (killed at ${log[round]?.fired ?? '?'}), seed ${seed} (replay with CB_TEST_SEED=${seed})`;
    const disk: { files: SessionFiles | null; queue: Journal | null } = { files: null, queue: null };
    /** Every session and every StartTransaction that was ever on disk at a kill. */
    const onDisk = {
      sessions: new Map<string, SessionRecord>(),
      starts: [] as Array<{ timestamp: string; meterStart: number }>,
    };
    /** Highest session energy Home Assistant saw, per session start (ISO text). */
    const energySeen = new Map<string, number>();

    const checkDisk = (round: number) => {
      let files: SessionFiles;
      let queue: Journal | null;
      try {
        files = readSessionFiles(dataDir);
        queue = readQueueFile(dataDir, 'garage');
      } catch (err) {
        throw new Error(`a file does not parse after ${where(round)}: ${(err as Error).message}`);
      }
      expect(files.aside, `files moved aside after ${where(round)}`).toEqual([]);
      const all = [...files.closed, ...files.open];
      const ids = all.map((r) => r.id);
      expect(new Set(ids).size, `duplicate session ids after ${where(round)}: ${ids}`).toBe(ids.length);
      const chargeIds = all.map((r) => r.chargerSessionId).filter((id) => id !== null);
      expect(new Set(chargeIds).size, `one charger session twice after ${where(round)}`).toBe(
        chargeIds.length,
      );
      expect(files.open.length, `open sessions after ${where(round)}`).toBeLessThanOrEqual(1);
      // Nothing on disk goes away; closed sessions never change; open ones only gain energy.
      for (const before of disk.files?.closed ?? []) {
        const now = files.closed.find((r) => r.id === before.id);
        expect(now, `closed session ${before.id} after ${where(round)}`).toEqual(before);
      }
      for (const before of disk.files?.open ?? []) {
        const now = all.find((r) => r.id === before.id);
        expect(now, `session ${before.id} (open before) lost after ${where(round)}`).toBeDefined();
        expect(now?.startedAt).toBe(before.startedAt);
        expect(now?.meterStartKwh).toBe(before.meterStartKwh);
        expect(now?.energyKwh ?? 0, `energy of ${before.id} after ${where(round)}`).toBeGreaterThanOrEqual(
          before.energyKwh ?? 0,
        );
      }
      // A session closed as interrupted must be over at the charger.
      const running = runningChargeId();
      for (const r of files.closed) {
        if (r.stopReason === 'interrupted' && r.chargerSessionId !== null) {
          expect(
            r.chargerSessionId,
            `session ${r.id} closed as interrupted while the charger still runs it, ${where(round)}`,
          ).not.toBe(running);
        }
      }
      // The queue: parses, only grows while the central system is unreachable, one start per transaction.
      if (queue) {
        const seqs = queue.entries.map((e) => e.seq);
        expect(seqs, `queue order after ${where(round)}`).toEqual([...seqs].sort((a, b) => a - b));
        expect(Math.max(0, ...seqs)).toBeLessThan(queue.nextSeq);
        for (const before of disk.queue?.entries ?? []) {
          expect(
            queue.entries.find((e) => e.seq === before.seq),
            `queued ${before.action} #${before.seq} lost after ${where(round)}`,
          ).toEqual(before);
        }
        const byTx = new Map<string, string[]>();
        for (const e of queue.entries) byTx.set(e.txRef, [...(byTx.get(e.txRef) ?? []), e.action]);
        for (const [txRef, actions] of byTx) {
          expect(actions[0], `transaction ${txRef} after ${where(round)}`).toBe('StartTransaction');
          expect(actions.filter((a) => a === 'StartTransaction')).toHaveLength(1);
          const stop = actions.indexOf('StopTransaction');
          if (stop >= 0) expect(stop, `StopTransaction is the last of ${txRef}`).toBe(actions.length - 1);
        }
        const open = queue.openTransaction as { txRef?: string } | null;
        if (open?.txRef) {
          expect(byTx.get(open.txRef)?.[0], `open transaction without its start, ${where(round)}`).toBe(
            'StartTransaction',
          );
          expect(byTx.get(open.txRef)).not.toContain('StopTransaction');
        }
      } else {
        expect(disk.queue, `the queue file vanished after ${where(round)}`).toBeNull();
      }
      disk.files = files;
      disk.queue = queue;
      for (const r of all) onDisk.sessions.set(r.id, r);
      for (const e of queue?.entries ?? []) {
        if (e.action !== 'StartTransaction') continue;
        const start = { timestamp: String(e.payload.timestamp), meterStart: Number(e.payload.meterStart) };
        if (!onDisk.starts.some((q) => q.timestamp === start.timestamp)) onDisk.starts.push(start);
      }
    };

    // ---- triggers ----
    const arm = (trigger: Trigger): { fired: Promise<string>; disarm: () => void } => {
      const offs: Array<() => void> = [];
      let watcher: FSWatcher | null = null;
      const fired = new Promise<string>((resolve) => {
        let count = 0;
        const hit = (label: string) => {
          count++;
          if (trigger.kind === 'event' || count >= (trigger as { n: number }).n) resolve(label);
        };
        switch (trigger.kind) {
          case 'startup':
            offs.push(ha.listen((m) => hit(`${m.topic} (message ${count + 1} of the start)`)));
            break;
          case 'state':
            offs.push(ha.listen((m) => m.topic === STATE_TOPIC && hit(`charger state ${count + 1}`)));
            break;
          case 'event':
            offs.push(
              ha.listen(
                (m) =>
                  m.topic === 'chargebridge/bridge/event' &&
                  m.json.type === trigger.type &&
                  hit(`bridge/event ${trigger.type}`),
              ),
            );
            break;
          case 'frame':
            offs.push(
              sim.events.on('received', (f) => {
                if (f.message.type === trigger.type) hit(`${trigger.type} frame ${count + 1}`);
              }),
            );
            break;
          case 'write': {
            const folder =
              trigger.file === 'queue' ? path.dirname(queueFile(dataDir, 'garage')) : sessionFolder(dataDir);
            watcher = watch(folder, (event, name) => {
              if (name && tempWriteMatches(trigger.file, name)) hit(`${event} ${name} (event ${count + 1})`);
            });
            break;
          }
        }
      });
      return {
        fired,
        disarm: () => {
          for (const off of offs) off();
          watcher?.close();
        },
      };
    };

    const waitFired = async (
      armed: { fired: Promise<string>; disarm: () => void },
      waitMs = TRIGGER_WAIT_MS,
    ): Promise<string> => {
      let timer: NodeJS.Timeout | undefined;
      const fallback = new Promise<string>((resolve) => {
        timer = setTimeout(() => resolve('fallback (the kill point did not come)'), waitMs);
      });
      const label = await Promise.race([armed.fired, fallback]);
      clearTimeout(timer);
      armed.disarm();
      return label;
    };

    const choosePlan = (): Plan => {
      if (!sim.state.carConnected) return 'plug_and_charge';
      if (sim.state.chargePhase !== 'charging') return 'charge';
      return random.pick<Plan>(['stop', 'unplug', 'run', 'burst', 'run']);
    };

    const chooseTrigger = (plan: Plan): Trigger => {
      const options: Trigger[] = [
        { kind: 'startup', n: random.between(1, 8) },
        { kind: 'state', n: random.between(1, 3) },
      ];
      if (existsSync(path.dirname(queueFile(dataDir, 'garage')))) {
        options.push({ kind: 'write', file: 'queue', n: random.between(1, 3) });
      }
      if (plan === 'plug_and_charge' || plan === 'charge') {
        options.push(
          { kind: 'event', type: 'session_started' },
          { kind: 'frame', type: 'charge_start', n: 1 },
        );
        if (existsSync(sessionFolder(dataDir)))
          options.push({ kind: 'write', file: 'open', n: random.between(1, 3) });
      }
      if (plan === 'stop' || plan === 'unplug') {
        options.push({ kind: 'event', type: 'session_completed' });
        if (existsSync(sessionFolder(dataDir)))
          options.push({ kind: 'write', file: 'month', n: random.between(1, 3) });
      }
      if (plan === 'stop') options.push({ kind: 'frame', type: 'charge_stop', n: 1 });
      if (plan === 'burst')
        options.push({ kind: 'frame', type: 'max_current_request', n: random.between(1, 3) });
      return random.pick(options);
    };

    const act = async (plan: Plan) => {
      switch (plan) {
        case 'plug_and_charge':
          sim.plugIn({ demandA: 16 });
          await ha.set('charging', 'ON');
          break;
        case 'charge':
          await ha.set('charging', 'ON');
          break;
        case 'stop':
          await ha.set('charging', 'OFF');
          break;
        case 'unplug':
          sim.unplug();
          break;
        case 'burst':
          await Promise.all(
            Array.from({ length: 8 }, () => ha.set('max_current', String(random.between(6, 16)))),
          );
          break;
        case 'run':
          break;
      }
    };

    const whileDead = (): string => {
      const roll = random.next();
      if (!sim.state.carConnected) {
        if (roll < 0.6) {
          sim.plugIn({ demandA: 16 });
          return 'car plugged in';
        }
        return 'nothing';
      }
      if (roll < 0.3) {
        sim.unplug();
        return 'car unplugged';
      }
      if (roll < 0.45) {
        sim.unplug();
        sim.plugIn({ demandA: 16 });
        return 'car unplugged and plugged in again';
      }
      return 'nothing';
    };

    const isOnline = (m: Heard) =>
      m.topic === STATE_TOPIC && m.json.link === 'online' && m.json.energy_total_kwh !== null;

    // ---- the rounds ----
    for (let round = 0; round < ROUNDS; round++) {
      ha.round = round;
      const openBefore = disk.files?.open[0] ?? null;
      // The open session on disk, if the charger still runs it: the daemon must resume it.
      const running = runningChargeId();
      const toResume =
        openBefore && running !== null && (openBefore.chargerSessionId ?? running) === running
          ? openBefore
          : null;
      const entry: RoundLog = {
        round,
        plan: 'none',
        trigger: '',
        fired: '',
        whileDead: '',
        killedAt: 0,
        onlineMs: 0,
        killMs: 0,
      };
      log.push(entry);
      const plan = choosePlan();
      const trigger = chooseTrigger(plan);
      entry.trigger = describeTrigger(trigger);
      const spawnedAt = Date.now();
      const run = startDaemon();
      let reachedOnline = false;
      if (trigger.kind === 'startup') {
        // A held daemon may still be loading its modules on a busy machine.
        entry.fired = await waitFired(arm(trigger), STARTUP_WAIT_MS);
      } else {
        await ha.next(isOnline, 'the charger online', 30_000).catch((err: Error) => {
          throw new Error(`${err.message}\n${run.lines.slice(-30).join('\n')}`);
        });
        reachedOnline = true;
        entry.onlineMs = Date.now() - spawnedAt;
        const armed = arm(trigger);
        entry.plan = plan;
        await act(plan);
        entry.fired = await waitFired(armed);
      }
      await run.kill();
      entry.killedAt = Date.now();
      entry.killMs = entry.killedAt - spawnedAt;
      checkDisk(round);

      // The open session was resumed: Home Assistant saw it (same start) with no less energy.
      const states = ha.heard.filter((m) => m.round === round && isOnline(m));
      if (toResume && reachedOnline) {
        const start = new Date(toResume.startedAt).toISOString().slice(0, 19);
        const shown = states.filter(
          (m) =>
            typeof m.json.session_start === 'string' &&
            new Date(Date.parse(m.json.session_start)).toISOString().slice(0, 19) === start,
        );
        expect(
          shown.length,
          `session ${toResume.id} not shown after the restart, ${where(round)}`,
        ).toBeGreaterThan(0);
        const stillOpen = [...(disk.files?.open ?? []), ...(disk.files?.closed ?? [])].find(
          (r) => r.id === toResume.id,
        );
        expect(stillOpen, `resumed session ${toResume.id} on disk, ${where(round)}`).toBeDefined();
        if (runningChargeId() === running) {
          expect(
            disk.files?.open.map((r) => r.id),
            `the charger still runs ${running}: its session stays open, ${where(round)}`,
          ).toContain(toResume.id);
        }
        for (const m of shown) {
          const energy = Number(m.json.session_energy_kwh);
          expect(energy, `session energy after the restart, ${where(round)}`).toBeGreaterThanOrEqual(
            toResume.energyKwh ?? 0,
          );
          const seen = energySeen.get(start) ?? 0;
          if (energy < seen) {
            findings.push(
              `${where(round)}: Home Assistant saw session ${toResume.id} drop from ${seen} to ${energy} kWh after the restart`,
            );
          }
        }
      }
      for (const m of states) {
        if (typeof m.json.session_start !== 'string' || typeof m.json.session_energy_kwh !== 'number')
          continue;
        const start = new Date(Date.parse(m.json.session_start)).toISOString().slice(0, 19);
        energySeen.set(start, Math.max(energySeen.get(start) ?? 0, m.json.session_energy_kwh));
      }
      entry.whileDead = whileDead();
    }

    // ---- the central system comes up: the queue is delivered ----
    const cs = new VoltbrasCentralSystem(csPort, new ManualClock(Date.now()));
    await cs.start();
    cleanups.push(() => cs.stop());
    ha.round = ROUNDS;
    const last = startDaemon();
    await ha.next(isOnline, 'the charger online (last start)', 30_000);
    if (sim.state.carConnected) sim.unplug();
    const deadline = Date.now() + 30_000;
    for (;;) {
      const queue = readQueueFile(dataDir, 'garage');
      const drained = queue !== null && queue.entries.length === 0 && queue.openTransaction === null;
      const stopsIn = cs.of('StopTransaction').length === cs.of('StartTransaction').length;
      if (drained && stopsIn && cs.of('StartTransaction').length > 0) break;
      if (Date.now() > deadline) {
        throw new Error(
          `the queue was not delivered: ${JSON.stringify(queue?.entries.slice(0, 3))}\n${last.lines.slice(-30).join('\n')}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await last.stop();
    const files = readSessionFiles(dataDir);
    expect(files.aside).toEqual([]);
    expect(files.open, 'every session is over once the car is unplugged').toEqual([]);

    // ---- every session in the store is one transaction at the backend, and the other way round ----
    // A kill before a record's first write completes loses it, and nothing can bring it back when the
    // car leaves before the next start: such cases are reported, not failed. Anything that was on
    // disk and went missing, doubled, or meter values going down fail the test.
    const sessions = [...files.closed].sort((a, b) => a.startedAt - b.startedAt);
    const starts = cs.received.filter((r) => r.action === 'StartTransaction');
    const stops = cs.of('StopTransaction');
    const values = cs.of('MeterValues');
    // The backend numbers transactions from 1 in the order the starts arrive.
    const transactions = starts.map((s, i) => {
      const id = i + 1;
      return {
        id,
        start: s.payload,
        startedAt: Date.parse(String(s.payload.timestamp)),
        stops: stops.filter((p) => p.transactionId === id),
        meters: values
          .filter((p) => p.transactionId === id)
          .flatMap((p) => (p.meterValue as unknown[]).map(registerWh))
          .filter((v) => v !== null),
      };
    });
    type Transaction = (typeof transactions)[number];
    const during = (from: number, to: number | null) =>
      log
        .filter((r) => r.killedAt >= from && r.killedAt <= (to ?? Infinity) + 1_000)
        .map((r) => `round ${r.round} killed at ${r.fired} ${r.killedAt - from} ms in, then ${r.whileDead}`)
        .join('; ') || 'no kill';
    // Both sides are tied to what the charger did: a record by its charger session id (or its start
    // time), a transaction by the charger session running when it started.
    const chargerList = [...chargerSessions.values()].sort((a, b) => a.startedAt - b.startedAt);
    // The charger session running at `at`; else one that began within 1 s after it (the BS20 tells
    // its session start in whole seconds, and a transaction joined late starts there); else one that
    // ended within 1 s before it. In that order, since charger sessions can be under 2 s apart.
    const chargerSessionAt = (at: number) =>
      chargerList.find((c) => at >= c.startedAt && at <= (c.endedAt ?? Infinity)) ??
      chargerList.find((c) => at >= c.startedAt - 1_000 && at < c.startedAt) ??
      chargerList.find((c) => c.endedAt !== null && at > c.endedAt && at <= c.endedAt + 1_000);
    // A record without the charger's id belongs to the charger session running at its start; only
    // if none was, to one that began within 2 s after it (the record can be a moment early). Two
    // charger sessions can be under 2 s apart, so the running one must win.
    const chargerOfUnnamed = (r: SessionRecord) =>
      chargerList.find((c) => r.startedAt >= c.startedAt && r.startedAt <= (c.endedAt ?? Infinity)) ??
      chargerList.find((c) => r.startedAt >= c.startedAt - 2_000 && r.startedAt <= (c.endedAt ?? Infinity));
    const ofCharger = (r: SessionRecord, c: ChargerSession) =>
      r.chargerSessionId === c.chargeId || (r.chargerSessionId === null && chargerOfUnnamed(r) === c);
    const everStored = (c: ChargerSession) => [...onDisk.sessions.values()].some((r) => ofCharger(r, c));
    const problems: string[] = [];

    for (const t of transactions) {
      if (!chargerSessionAt(t.startedAt))
        problems.push(`transaction ${t.id} began while the charger was not charging`);
      if (t.stops.length !== 1) problems.push(`transaction ${t.id} has ${t.stops.length} StopTransactions`);
      const series = [Number(t.start.meterStart), ...t.meters, Number(t.stops[0]?.meterStop)];
      if (series.some((v, i) => i > 0 && v < (series[i - 1] as number))) {
        problems.push(`transaction ${t.id}: meter values go down: ${series.join(', ')}`);
      }
    }
    for (let i = 1; i < transactions.length; i++) {
      const [before, after] = [transactions[i - 1] as Transaction, transactions[i] as Transaction];
      if (after.startedAt < before.startedAt)
        problems.push(`transaction ${after.id} starts before ${before.id}`);
      if (Number(after.start.meterStart) < Number(before.stops[0]?.meterStop)) {
        problems.push(`transaction ${after.id} starts below the meter where ${before.id} stopped`);
      }
    }
    for (const r of sessions) {
      if (!chargerList.some((c) => ofCharger(r, c)))
        problems.push(`session ${r.id} matches nothing the charger did`);
    }
    for (const c of chargerList) {
      const records = sessions.filter((r) => ofCharger(r, c));
      const txs = transactions.filter((t) => chargerSessionAt(t.startedAt) === c);
      const kills = during(c.startedAt, c.endedAt);
      const what = `the charger's session ${c.chargeId} (${c.startKwh}→${c.endKwh} kWh)`;
      if (records.length > 1) problems.push(`${what} is ${records.length} times in the store (${kills})`);
      if (txs.length > 1) problems.push(`${what} is ${txs.length} transactions at the backend (${kills})`);
      const record = records[0];
      const tx = txs[0];
      if (!record) {
        // The daemon showed it to Home Assistant, then lived on long enough to write it down.
        const known = log.find((r) => {
          const first = ha.heard.find((m) => m.round === r.round && m.json.session_id === c.chargeId);
          return first !== undefined && r.killedAt - first.at > KNOWN_LONG_ENOUGH_MS;
        });
        if (everStored(c)) problems.push(`${what} was in the store and is gone (${kills})`);
        else if (known) {
          problems.push(
            `${what} was known to the daemon of round ${known.round} for seconds and never stored (${kills})`,
          );
        } else {
          findings.push(
            `${what} never reached the store${tx ? `, yet the backend has it as transaction ${tx.id}` : ''} (${kills})`,
          );
        }
        continue;
      }
      // The record starts where the charger's session did, also when a daemon joined it late.
      if (
        record.startedAt > c.startedAt + 2_000 ||
        Math.abs((record.meterStartKwh ?? 0) - c.startKwh) > 0.011
      ) {
        problems.push(
          `${what} began at ${new Date(c.startedAt).toISOString()}; session ${record.id} says ${new Date(record.startedAt).toISOString()} at ${record.meterStartKwh} kWh (${kills})`,
        );
      }
      if (!tx) {
        const queued = onDisk.starts.some((q) => chargerSessionAt(Date.parse(q.timestamp)) === c);
        if (queued) {
          problems.push(`${what}: its StartTransaction was in the queue file and never arrived (${kills})`);
        } else {
          findings.push(
            `${what} is session ${record.id} in the store, but its StartTransaction never reached the queue file (${kills})`,
          );
        }
        continue;
      }
      const startWh = Math.round(c.startKwh * 1000);
      if (Number(tx.start.meterStart) !== startWh) {
        findings.push(
          `${what}: transaction ${tx.id} begins at ${String(tx.start.meterStart)} Wh (${String(tx.start.timestamp)}), the session at ${startWh} Wh: the StartTransaction was written by a later daemon (${kills})`,
        );
      }
    }
    const fired = new Map<string, number>();
    for (const r of log) {
      const kind = r.fired.startsWith('fallback')
        ? `fallback (${r.trigger})`
        : r.trigger.replace(/\d+/g, 'n');
      fired.set(kind, (fired.get(kind) ?? 0) + 1);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? 0;
    console.info(
      `[daemon-sigkill] ${ROUNDS} kills (${[...fired].map(([k, n]) => `${k}: ${n}`).join(', ')}); ` +
        `start to online ${median(log.filter((r) => r.onlineMs > 0).map((r) => r.onlineMs))} ms, start to kill ${median(log.map((r) => r.killMs))} ms (medians); ` +
        `${sessions.length} sessions stored, ${chargerSessions.size} at the charger; backend: ${starts.length} starts, ` +
        `${stops.length} stops, ${values.length} meter values`,
    );
    for (const f of findings) console.info(`[daemon-sigkill] finding: ${f}`);
    const iso = (ms: number | null) => (ms === null ? 'open' : new Date(ms).toISOString().slice(11, 23));
    const picture = [
      `seed ${seed} (replay with CB_TEST_SEED=${seed})`,
      'kills:',
      ...log.map((r) => `  ${iso(r.killedAt)} ${JSON.stringify(r)}`),
      'charger sessions:',
      ...[...chargerSessions.values()].map(
        (c) => `  ${c.chargeId} ${iso(c.startedAt)}–${iso(c.endedAt)} ${c.startKwh}→${c.endKwh} kWh`,
      ),
      'stored sessions:',
      ...sessions.map(
        (r) =>
          `  ${r.id} (${r.chargerSessionId}) ${iso(r.startedAt)}–${iso(r.endedAt)} ${r.meterStartKwh}→${r.meterStopKwh} kWh ${r.stopReason}`,
      ),
      'transactions at the backend:',
      ...transactions.map(
        (t) =>
          `  #${t.id} ${iso(t.startedAt)}–${iso(Date.parse(String(t.stops[0]?.timestamp)) || null)} ${String(t.start.meterStart)}→${String(t.stops[0]?.meterStop)} Wh ${String(t.stops[0]?.reason)}`,
      ),
    ].join('\n');
    expect(problems, picture).toEqual([]);
    // The run did exercise sessions (the seed decides how many).
    expect(chargerSessions.size).toBeGreaterThanOrEqual(3);
    expect(sessions.length).toBeGreaterThanOrEqual(1);
  }, 180_000);
});
