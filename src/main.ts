#!/usr/bin/env node
/**
 * The `chargebridge` command line. Each command's body lives in src/cli/ and is loaded on demand,
 * so `decode` never loads Bluetooth or MQTT code.
 */
import { chargebridgeVersion } from './cli/version.js';

const USAGE = `chargebridge ${chargebridgeVersion()}

usage:
  chargebridge [run] [--config <file>]     run the daemon (default command)
  chargebridge decode <hex> [--tz <zone>]  decode EVSE Master frames from a hex dump
  chargebridge scan [--seconds N]          list nearby EVSE Master chargers (Bluetooth LE)
  chargebridge config check [--config <file>]
                                           validate the configuration and print it without secrets
  chargebridge mqtt-login [--config <file>]
                                           the MQTT address and login for Home Assistant, with the steps
  chargebridge sessions list|export [--month YYYY-MM] [--user NAME] [--charger ID] [--format csv|json]
                                           charging sessions, e.g. a CSV for an expense report
  chargebridge --version | --help
`;

/** `scan` uses the noble package and adapter of the configuration unless told otherwise. */
async function withConfiguredNoble(args: string[]): Promise<string[]> {
  if (args.includes('--noble')) return args;
  try {
    const { loadConfig } = await import('./config/index.js');
    const { config } = loadConfig({ args });
    if (config.ble.hciDeviceId !== undefined)
      process.env.NOBLE_HCI_DEVICE_ID = String(config.ble.hciDeviceId);
    return [
      ...args.filter((a, i) => a !== '--config' && args[i - 1] !== '--config'),
      '--noble',
      config.ble.noblePackage,
    ];
  } catch {
    // A broken config must not stop a scan: the user may be scanning to write it.
    return args;
  }
}

const out = { write: (s: string) => void process.stdout.write(s) };

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case '--version':
    case '-v':
      out.write(`${chargebridgeVersion()}\n`);
      return 0;
    case '--help':
    case '-h':
    case 'help':
      out.write(USAGE);
      return 0;
    case 'decode':
      return (await import('./cli/decode.js')).runDecode(rest, out);
    case 'scan':
      return (await import('./cli/scan.js')).runScan(await withConfiguredNoble(rest), out);
    case 'sessions':
      return (await import('./cli/sessions.js')).runSessions(rest, out);
    case 'mqtt-login':
      return (await import('./cli/mqtt-login.js')).runMqttLogin(rest, out);
    case 'config':
      if (rest[0] === 'check')
        return (await import('./cli/config-check.js')).runConfigCheck(rest.slice(1), out);
      process.stderr.write(`unknown config command: ${rest[0] ?? '(none)'}\n\n${USAGE}`);
      return 2;
    case undefined:
    case 'run':
      return (await import('./cli/run.js')).runDaemon(rest);
    default:
      if (command.startsWith('--')) return (await import('./cli/run.js')).runDaemon(argv);
      process.stderr.write(`unknown command: ${command}\n\n${USAGE}`);
      return 2;
  }
}

/** One-shot commands exit explicitly: a noble binding can keep an adapter poll timer alive forever. */
const ONE_SHOT = new Set([
  'decode',
  'scan',
  'config',
  'sessions',
  'mqtt-login',
  '--version',
  '-v',
  '--help',
  '-h',
  'help',
]);

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    if (ONE_SHOT.has(process.argv[2] ?? '')) process.stdout.write('', () => process.exit(code));
  },
  (err: unknown) => {
    process.stderr.write(`chargebridge: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
