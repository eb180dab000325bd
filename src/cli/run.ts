/**
 * `chargebridge run`: load the config (or fall back to the demo), start the daemon, and stop it
 * cleanly on SIGTERM/SIGINT. A restart request from Home Assistant restarts it in-process with the
 * configuration read again.
 */
import { ConfigError, DEMO_CHARGER_ID, type LoadedConfig, loadConfig } from '../config/index.js';
import { type RunningDaemon, startDaemon } from '../daemon.js';
import { createLogger } from '../log.js';
import { chargebridgeVersion } from './version.js';

/** Hard limit for a shutdown: systemd's default stop timeout is 90 s, ours must be far below. */
const SHUTDOWN_LIMIT_MS = 8_000;

export async function runDaemon(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  for (;;) {
    const loaded = loadOrReport(args, env);
    if (!loaded) return 1;
    applyProcessSettings(loaded);
    const log = createLogger({ level: loaded.config.logLevel });
    log.info(
      { version: chargebridgeVersion(), config: loaded.path, demo: loaded.isDemo },
      'starting chargebridge',
    );

    let requestRestart: () => void = () => undefined;
    const restartRequested = new Promise<'restart'>((resolve) => {
      requestRestart = () => resolve('restart');
    });
    let daemon: RunningDaemon;
    try {
      daemon = await startDaemon({ loaded, logger: log, onRestartRequest: () => requestRestart() });
    } catch (err) {
      log.fatal({ err: err instanceof Error ? err.message : String(err) }, 'chargebridge could not start');
      return 1;
    }
    if (loaded.isDemo) printDemoBanner(daemon, loaded);

    const outcome = await Promise.race([restartRequested, signalled()]);
    log.info({ reason: outcome }, 'stopping chargebridge');
    const stopped = await stopWithin(daemon, SHUTDOWN_LIMIT_MS);
    if (!stopped) log.warn(`shutdown took longer than ${SHUTDOWN_LIMIT_MS / 1000} s; exiting anyway`);
    log.flush();
    if (outcome !== 'restart') return 0;
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

function signalled(): Promise<string> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      resolve(signal);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
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

function printDemoBanner(daemon: RunningDaemon, loaded: LoadedConfig): void {
  const port = daemon.embeddedBroker?.port ?? 1883;
  const base = loaded.config.mqtt.baseTopic;
  const lines = [
    '',
    '  chargebridge is running in DEMO mode: no configuration file was found at',
    `    ${loaded.path}`,
    `  so it runs a SIMULATED BS20 charger ("${DEMO_CHARGER_ID}") on the EMBEDDED MQTT broker (port ${port}).`,
    '',
    '  Watch it:',
    `    mosquitto_sub -h localhost -p ${port} -t '${base}/#' -t 'homeassistant/#' -v`,
    "  Point Home Assistant's MQTT integration at this machine, port " + `${port}, to see the entities.`,
    '',
    '  Use your real charger:',
    '    1. find it:   npx chargebridge scan        (close the EVSE Master phone app first)',
    `    2. copy config/chargebridge.example.yaml to ${loaded.path}`,
    "       and fill in the charger's address, PIN and max_current",
    '    3. check it:  npx chargebridge config check',
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
