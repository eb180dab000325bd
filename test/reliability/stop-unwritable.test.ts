/**
 * A clean stop that cannot write its data: the real CLI in a child process (`chargebridge run`), a
 * BS20 charging outside it (outside-charger.ts), and a disk that fills up mid-session
 * (disk-full-preload.ts). SIGTERM must end with exit code 2 and an error line per file that could
 * not be written, saying where the data is kept instead; the next start finds it there.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { EXIT_UNSAVED } from '../../src/cli/run.js';
import { systemClock } from '../../src/core/clock.js';
import { embeddedBroker, type TestBroker } from '../helpers/brokers.js';
import { freePort } from '../helpers/mosquitto.js';
import { DaemonProcess } from './daemon-process.js';
import { OutsideCharger } from './outside-charger.js';
import { readSessionFiles, sessionFolder } from './store-files.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanups.splice(0).reverse()) await step();
});

/** Waits for a condition on files or messages, bounded; polls instead of sleeping a fixed time. */
async function eventually(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise<void>((resolve) => setTimeout(resolve, 25));
  }
}

interface Setup {
  dataDir: string;
  trigger: string;
  charger: OutsideCharger;
  ha: MqttClient;
  events: Array<Record<string, unknown>>;
  spawn(match: string): DaemonProcess;
}

/** `mqttYaml`: the `mqtt:` section's body instead of the test broker (the embedded broker case). */
async function setup(mqttYaml?: string): Promise<Setup> {
  const dir = mkdtempSync(path.join(tmpdir(), 'cb-stop-unwritable-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const dataDir = path.join(dir, 'data');
  const broker: TestBroker = await embeddedBroker.start();
  cleanups.push(() => broker.stop());
  const charger = await OutsideCharger.start({
    clock: systemClock,
    timeZone: 'Europe/Berlin',
    phases: 3,
    hardwareMaxCurrentA: 16,
    firstBeaconDelayMs: 50,
    beaconIntervalMs: 500,
    statusIntervalMs: 500,
    chargingStatusIntervalMs: 500,
    headingIntervalMs: 2_000,
  });
  cleanups.push(() => charger.close());
  const ha = await connectAsync(broker.url, { reconnectPeriod: 0 });
  cleanups.push(() => ha.endAsync(true));
  const events: Array<Record<string, unknown>> = [];
  ha.on('message', (topic, payload) => {
    if (topic === 'chargebridge/bridge/event')
      events.push(JSON.parse(payload.toString()) as Record<string, unknown>);
  });
  await ha.subscribeAsync('chargebridge/bridge/event');
  const configFile = path.join(dir, 'configuration.yaml');
  writeFileSync(
    configFile,
    [
      `data_dir: ${dataDir}`,
      'timezone: Europe/Berlin',
      `mqtt:\n${mqttYaml ?? `  url: ${broker.url}\n  reconnect_period_ms: 250`}`,
      'homeassistant:\n  enabled: false',
      'chargers:',
      '  - id: garage',
      '    type: bs20',
      '    transport: simulated',
      '    max_current: 16',
      '',
    ].join('\n'),
  );
  const trigger = path.join(dir, 'disk-full');
  return {
    dataDir,
    trigger,
    charger,
    ha,
    events,
    spawn(match) {
      const daemon = new DaemonProcess({
        configFile,
        imports: ['./test/reliability/outside-charger-preload.ts', './test/reliability/disk-full-preload.ts'],
        env: { OUTSIDE_CHARGER_ADDRESS: charger.address, DISK_FULL_WHEN: trigger, DISK_FULL_MATCH: match },
      });
      cleanups.push(() => daemon.kill());
      return daemon;
    },
  };
}

const logLines = (daemon: DaemonProcess) =>
  daemon.lines.flatMap((l) => {
    try {
      return [JSON.parse(l) as Record<string, unknown>];
    } catch {
      return [];
    }
  });

async function startCharging(s: Setup): Promise<void> {
  await eventually(() => s.charger.linked, 'the daemon to link to the charger');
  s.charger.sim.plugIn({ demandA: 16 });
  await eventually(() => {
    void s.ha.publishAsync('chargebridge/garage/set/charging', 'ON');
    return s.events.some((e) => e.type === 'session_started');
  }, 'session_started');
}

describe('a clean stop that cannot write its data', () => {
  it('the open session: exit code 2, the file named, open.json from its last write is kept', async () => {
    const s = await setup();
    const daemon = s.spawn(`${path.sep}sessions${path.sep}`);
    await startCharging(s);
    const openPath = path.join(sessionFolder(s.dataDir), 'open.json');
    await eventually(() => readSessionFiles(s.dataDir).open.length === 1, 'the open session on disk');
    const onDisk = readFileSync(openPath, 'utf8');
    const [session] = readSessionFiles(s.dataDir).open;

    writeFileSync(s.trigger, ''); // the disk is full from now on
    // A note on the running session: open.json must be written again, and cannot be.
    await s.ha.publishAsync(
      'chargebridge/bridge/request/session/note',
      JSON.stringify({ id: session?.id, text: 'written while the disk is full' }),
    );
    await eventually(
      () =>
        s.events.some(
          (e) => e.type === 'store_problem' && (e.data as { kind?: string }).kind === 'write_failed',
        ),
      'store_problem write_failed',
    );
    await daemon.stop();

    expect(daemon.child.exitCode).toBe(EXIT_UNSAVED);
    const errors = logLines(daemon).filter((l) => (l.level as number) >= 50);
    const told = errors.find((l) => l.file === openPath);
    expect(told?.keptIn).toBe(openPath);
    expect(String(told?.msg)).toMatch(
      new RegExp(
        `could not write ${openPath} at stop: the open session ${session?.id} stays in ${openPath} from \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z; the last \\d+ seconds? of progress were not written`,
      ),
    );
    expect(errors.at(-1)).toMatchObject({ files: [openPath], exitCode: 2 });
    // Nothing half-written and nothing deleted: the last good open.json is where the message says.
    expect(readFileSync(openPath, 'utf8')).toBe(onDisk);
    expect(readdirSync(sessionFolder(s.dataDir)).filter((n) => n.includes('.tmp'))).toEqual([]);
  });

  it('a completed session whose month file cannot be written: kept in the journal, back in the month at the next start', async () => {
    const s = await setup();
    const daemon = s.spawn('\\d{4}-\\d{2}\\.json');
    await startCharging(s);
    writeFileSync(s.trigger, '');
    s.charger.sim.unplug();
    await eventually(() => s.events.some((e) => e.type === 'session_completed'), 'session_completed');
    await daemon.stop();

    expect(daemon.child.exitCode).toBe(EXIT_UNSAVED);
    const folder = sessionFolder(s.dataDir);
    const journal = readdirSync(folder).find((n) => n.endsWith('.journal')) ?? 'no journal';
    const month = path.join(folder, journal.replace('.journal', '.json'));
    const told = logLines(daemon).find((l) => l.file === month && (l.level as number) >= 50);
    expect(told?.keptIn).toBe(path.join(folder, journal));
    expect(String(told?.msg)).toMatch(
      /they are kept in .*\.journal and put back into the month file at the next start/,
    );
    expect(existsSync(month)).toBe(false);

    rmSync(s.trigger);
    const again = s.spawn('\\d{4}-\\d{2}\\.json');
    await eventually(() => existsSync(month), 'the month file written at the next start');
    await again.stop();
    expect(again.child.exitCode).toBe(0);
    expect(readSessionFiles(s.dataDir).closed).toHaveLength(1);
    expect(readSessionFiles(s.dataDir).open).toEqual([]);
  });

  it("the embedded broker's retained messages: exit code 2, the snapshot and journal named with the time of their last write", async () => {
    const port = await freePort();
    const s = await setup(`  embedded_broker:\n    host: 127.0.0.1\n    port: ${port}`);
    const daemon = s.spawn('mqtt-retained');
    await eventually(() => daemon.logged(/chargebridge started/).length > 0, 'the start');
    await eventually(() => s.charger.linked, 'the daemon to link to the charger');
    const journal = path.join(s.dataDir, 'mqtt-retained.journal');
    // The header and at least one batch of messages on disk, so the last good write has a time.
    await eventually(
      () => existsSync(journal) && readFileSync(journal, 'utf8').split('\n').filter(Boolean).length > 1,
      'the first retained append',
    );
    writeFileSync(s.trigger, '');
    // The charger's state changes: its retained state topic must be written, and cannot be.
    s.charger.sim.plugIn({ demandA: 16 });
    await eventually(
      () => daemon.logged(/could not write retained messages/).length > 0,
      'the failed append',
    );
    await daemon.stop();

    expect(daemon.child.exitCode).toBe(EXIT_UNSAVED);
    const snapshot = path.join(s.dataDir, 'mqtt-retained.json');
    const told = logLines(daemon).find((l) => l.file === snapshot && 'keptIn' in l);
    expect(told?.keptIn).toBe(snapshot);
    expect(String(told?.msg)).toMatch(
      /retained messages changed since \d{4}-\d\d-\d\dT[\d:.]+Z \(the last \d+ seconds?\) are not in .*mqtt-retained\.json and .*mqtt-retained\.journal; chargebridge publishes its own discovery and states again at the next start/,
    );
  });
});
