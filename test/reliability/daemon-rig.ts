/**
 * The real daemon for reliability, fuzz and security suites: built from YAML by startDaemon exactly
 * as `chargebridge run` does, simulated BS20 chargers on a ManualClock, and an MQTT client standing
 * in for Home Assistant. Helpers move simulated time while letting real loopback I/O happen.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { IClientOptions } from 'mqtt';
import { type LoadedConfig, parseConfigText } from '../../src/config/index.js';
import { ManualClock } from '../../src/core/clock.js';
import { type RunningDaemon, startDaemon } from '../../src/daemon.js';
import type { SimulatedBs20 } from '../../src/evse-master/simulator/index.js';
import { type Logger, silentLogger } from '../../src/log.js';
import { freePort } from '../helpers/mosquitto.js';
import { MqttProbe } from '../helpers/mqtt-probe.js';

export interface DaemonRigOptions {
  /** The `mqtt:` section (indented YAML after `mqtt:`); default: the embedded broker on a free port. */
  mqttYaml?: string;
  /** The `chargers:` list items; default one simulated BS20 `garage` with a 16 A ceiling. */
  chargersYaml?: string;
  /** More top-level YAML (users:, http:, homeassistant: …). */
  extraYaml?: string;
  /** Files written beside the config file first (secrets.yaml, password files). */
  files?: Record<string, string | Uint8Array>;
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  /** Options of the Home Assistant stand-in (default: the login the daemon created); null: none. */
  probe?: IClientOptions | null;
  startMs?: number;
}

export interface DaemonRig {
  readonly daemon: RunningDaemon;
  readonly loaded: LoadedConfig;
  readonly clock: ManualClock;
  readonly dir: string;
  readonly configText: string;
  /** Subscribed to `homeassistant/#` and `chargebridge/#`; undefined with `probe: null`. */
  readonly ha: MqttProbe | undefined;
  /** The login the daemon created in its data dir (see savedBrokerLogin); {} when there is none. */
  readonly login: BrokerLoginOptions;
  sim(id?: string): SimulatedBs20;
  /** Stops the daemon and the probe and removes the data dir; safe to call twice. */
  stop(): Promise<void>;
}

export const GARAGE_YAML = [
  '  - id: garage',
  '    name: Garage',
  '    type: bs20',
  '    transport: simulated',
  '    max_current: 16',
].join('\n');

export interface BrokerLoginOptions {
  username?: string;
  password?: string;
}

/**
 * The embedded broker's login as a user reads it for Home Assistant: from data_dir/mqtt-login.json,
 * which the daemon creates when no login is configured. {} when there is no such file.
 */
export function savedBrokerLogin(dataDir: string): BrokerLoginOptions {
  let text: string;
  try {
    text = readFileSync(path.join(dataDir, 'mqtt-login.json'), 'utf8');
  } catch {
    return {};
  }
  const { username, password } = JSON.parse(text) as { username: string; password: string };
  return { username, password };
}

export async function embeddedBrokerYaml(extra = ''): Promise<string> {
  const port = await freePort();
  return `  embedded_broker:\n    host: 127.0.0.1\n    port: ${port}\n${extra}`;
}

export async function startDaemonRig(options: DaemonRigOptions = {}): Promise<DaemonRig> {
  const dir = mkdtempSync(path.join(tmpdir(), 'cb-reliability-'));
  for (const [name, text] of Object.entries(options.files ?? {})) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  const configText = [
    `data_dir: ${dir}`,
    'timezone: Europe/Berlin',
    'mqtt:',
    options.mqttYaml ?? (await embeddedBrokerYaml()),
    'chargers:',
    options.chargersYaml ?? GARAGE_YAML,
    options.extraYaml ?? '',
  ].join('\n');
  const configPath = path.join(dir, 'configuration.yaml');
  writeFileSync(configPath, configText);
  const loaded = parseConfigText(configText, { path: configPath, env: options.env ?? {} });
  const clock = new ManualClock(options.startMs ?? Date.UTC(2026, 5, 1, 16, 0, 0));
  let daemon: RunningDaemon;
  try {
    daemon = await startDaemon({ loaded, logger: options.logger ?? silentLogger(), clock });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const login = savedBrokerLogin(dir);
  let ha: MqttProbe | undefined;
  if (options.probe !== null) {
    // Logs in like Home Assistant would: with the login the daemon created, unless told otherwise.
    ha = await MqttProbe.connect(daemon.mqttUrl, options.probe ?? login);
    await ha.subscribe('homeassistant/#');
    await ha.subscribe('chargebridge/#');
  }
  let stopped: Promise<void> | undefined;
  return {
    daemon,
    loaded,
    clock,
    dir,
    configText,
    ha,
    login,
    sim(id = 'garage') {
      const sim = daemon.simulators.get(id);
      if (!sim) throw new Error(`no simulated charger '${id}'`);
      return sim;
    },
    stop() {
      stopped ??= (async () => {
        await ha?.close().catch(() => undefined);
        await daemon.stop();
        rmSync(dir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}

/** One turn of the real event loop, so socket reads and writes can happen. */
export function ioTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Moves simulated time forward by `totalMs` in `stepMs` steps, with real I/O between steps. */
export async function runFor(clock: ManualClock, totalMs: number, stepMs = 1_000): Promise<void> {
  for (let done = 0; done < totalMs; done += stepMs) {
    await clock.advance(Math.min(stepMs, totalMs - done));
    await ioTurn();
  }
}

/**
 * Waits for `condition`, moving simulated time `stepMs` per round and giving real I/O a few ms;
 * bounded by real time, never a fixed sleep.
 */
export async function waitUntil(
  condition: () => boolean,
  clock: ManualClock,
  options: { stepMs?: number; timeoutMs?: number; what?: string } = {},
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 5_000);
  while (!condition()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${options.what ?? 'a condition'}`);
    }
    await new Promise<void>((resolve) => setTimeout(resolve, 2));
    await clock.advance(options.stepMs ?? 50);
  }
}

export const parseJson = (text: string): Record<string, unknown> => {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
};
