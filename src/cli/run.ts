/**
 * `chargebridge run`: load the config (or fall back to the demo), start the daemon, and stop it
 * cleanly on SIGTERM/SIGINT. A restart request from Home Assistant or SIGHUP restarts it in-process
 * with the configuration read again, if that configuration is valid.
 */
import { networkInterfaces } from 'node:os';
import { ConfigError, DEMO_CHARGER_ID, type LoadedConfig, loadConfig } from '../config/index.js';
import { type RunningDaemon, startDaemon } from '../daemon.js';
import { resolveLogFormat } from '../log/choose-format.js';
import { createLogger, type Logger, releaseConsole } from '../log.js';
import { haConnection, startBanner } from './banner.js';
import { chargebridgeVersion } from './version.js';

/** Hard limit for a shutdown: systemd's default stop timeout is 90 s, ours must be far below. */
const SHUTDOWN_LIMIT_MS = 8_000;
/** Exit code of a stop that could not write all its data (1 is a start that failed). */
export const EXIT_UNSAVED = 2;

export async function runDaemon(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let loaded = loadOrReport(args, env);
  if (!loaded) return 1;
  const requests = new StopRequests();
  try {
    for (;;) {
      applyProcessSettings(loaded);
      const log = createLogger({
        level: loaded.config.logLevel,
        format: loaded.config.logFormat,
        captureConsole: true,
      });
      log.info(
        { version: chargebridgeVersion(), config: loaded.path, demo: loaded.isDemo },
        'starting chargebridge',
      );
      let daemon: RunningDaemon;
      try {
        daemon = await startDaemon({
          loaded,
          logger: log,
          onRestartRequest: () => requests.restart(),
          restartProblem: () => configProblem(args, env),
        });
      } catch (err) {
        log.fatal({ err: err instanceof Error ? err.message : String(err) }, 'chargebridge could not start');
        return 1;
      }
      printStartBanner(daemon, loaded, log);

      // A restart (Home Assistant's button, SIGHUP) reads the configuration first: a broken file
      // keeps the running daemon as it is, with the problem in the log.
      let next: LoadedConfig | null = null;
      let outcome: string;
      for (;;) {
        outcome = await requests.next();
        if (outcome !== 'restart') break;
        next = reloadOrReport(args, env, log);
        if (next) break;
      }
      log.info({ reason: outcome }, 'stopping chargebridge');
      const stopped = await stopWithin(daemon, SHUTDOWN_LIMIT_MS);
      if (!stopped) log.warn(`shutdown took longer than ${SHUTDOWN_LIMIT_MS / 1000} s; exiting anyway`);
      const unsaved = reportUnsaved(daemon, log);
      log.flush();
      if (!next) return unsaved ? EXIT_UNSAVED : 0;
      loaded = next;
    }
  } finally {
    requests.close();
    releaseConsole();
  }
}

/**
 * What ends the current run: SIGTERM/SIGINT (stop) or a restart (SIGHUP, `systemctl reload`, or
 * Home Assistant's restart button). Re-armed after each one.
 */
class StopRequests {
  private waiting: ((outcome: string) => void) | null = null;
  private pending: string | null = null;
  private readonly onSignal = (signal: NodeJS.Signals) => this.emit(signal === 'SIGHUP' ? 'restart' : signal);

  constructor() {
    for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, this.onSignal);
  }

  restart(): void {
    this.emit('restart');
  }

  next(): Promise<string> {
    const pending = this.pending;
    this.pending = null;
    if (pending) return Promise.resolve(pending);
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  close(): void {
    for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.off(signal, this.onSignal);
  }

  private emit(outcome: string): void {
    // After a stop signal the default handling comes back: a second Ctrl-C ends the process at once.
    if (outcome !== 'restart') this.close();
    const waiting = this.waiting;
    this.waiting = null;
    if (waiting) waiting(outcome);
    // A stop outranks a restart that nobody has picked up yet.
    else if (this.pending !== 'SIGTERM' && this.pending !== 'SIGINT') this.pending = outcome;
  }
}

/**
 * Settings that are process-wide by nature: the time zone (so every time we print or parse, not only
 * the charger's, uses the configured zone) and which HCI adapter noble opens (read when it loads).
 */
function applyProcessSettings(loaded: LoadedConfig): void {
  process.env.TZ = loaded.config.timezone;
  const hci = loaded.config.ble.hciDeviceId;
  if (hci !== undefined) process.env.NOBLE_HCI_DEVICE_ID = String(hci);
}

function loadOrReport(args: string[], env: NodeJS.ProcessEnv): LoadedConfig | null {
  try {
    return loadConfig({ args, env });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.stderr.write(
        'chargebridge did not start; nothing was changed. Fix the configuration and try again.\n',
      );
      return null;
    }
    throw err;
  }
}

/** The configuration file's errors as the user would see them at start, or null when it is fine. */
function configProblem(args: string[], env: NodeJS.ProcessEnv): string | null {
  try {
    loadConfig({ args, env });
    return null;
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
}

function reloadOrReport(args: string[], env: NodeJS.ProcessEnv, log: Logger): LoadedConfig | null {
  try {
    return loadConfig({ args, env });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    log.error(
      { problems: err.message },
      'not restarting: the configuration has errors; chargebridge keeps running with the previous one',
    );
    return null;
  }
}

/** One error line per file a stop could not write, naming where its data is kept; true if any. */
function reportUnsaved(daemon: RunningDaemon, log: Logger): boolean {
  const unsaved = daemon.unsavedAtStop;
  if (unsaved.length === 0) return false;
  for (const u of unsaved) {
    log.error(
      {
        file: u.file,
        keptIn: u.keptIn,
        keptSince: u.keptSince === null ? null : new Date(u.keptSince).toISOString(),
      },
      `could not write ${u.file} at stop: ${u.detail}`,
    );
  }
  log.error(
    { files: unsaved.map((u) => u.file), exitCode: EXIT_UNSAVED },
    `chargebridge stopped without writing ${unsaved.length} file(s); their data is kept as told above`,
  );
  return true;
}

async function stopWithin(daemon: RunningDaemon, limitMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), limitMs);
  });
  const result = await Promise.race([daemon.stop().then(() => true as const), timedOut]);
  clearTimeout(timer);
  return result;
}

/**
 * Where to point Home Assistant, on every start (demo or not); see startBanner for the password rule.
 * With JSON logs stdout carries nothing but JSON lines, so the same facts go out as one log line.
 */
function printStartBanner(daemon: RunningDaemon, loaded: LoadedConfig, log: Logger): void {
  const { config } = loaded;
  const connection = haConnection({
    mqtt: config.mqtt,
    login: daemon.brokerLogin,
    ...(daemon.embeddedBroker ? { port: daemon.embeddedBroker.port } : {}),
    interfaces: networkInterfaces(),
    secretValues: loaded.secretValues,
  });
  if (resolveLogFormat(config.logFormat, process.stdout, process.env) === 'json') {
    const homeAssistant =
      connection.kind === 'embedded'
        ? {
            broker: connection.addresses,
            port: connection.port,
            username: connection.username,
            passwordShownBy: 'chargebridge mqtt-login',
            protocol: 5,
          }
        : { broker: connection.url };
    log.info({ homeAssistant }, 'point Home Assistant at this MQTT broker');
    if (loaded.isDemo) {
      log.warn(
        { config: loaded.path, charger: DEMO_CHARGER_ID },
        'DEMO mode: no configuration file was found, so a SIMULATED BS20 runs on the embedded broker',
      );
    }
    return;
  }
  const banner = startBanner({
    connection,
    tty: process.stdout.isTTY === true,
    ...(loaded.isDemo
      ? { demo: { configPath: loaded.path, chargerId: DEMO_CHARGER_ID, baseTopic: config.mqtt.baseTopic } }
      : {}),
  });
  process.stdout.write(banner);
}
