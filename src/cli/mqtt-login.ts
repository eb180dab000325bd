/**
 * `chargebridge mqtt-login [--config <file>]`: the address, port and login Home Assistant needs for
 * the embedded broker, with the steps in Home Assistant. Creates the login when there is none yet
 * (the same function the daemon uses), so Home Assistant can be set up before the first start.
 */
import { networkInterfaces } from 'node:os';
import { ConfigError } from '../config/errors.js';
import { loadConfig } from '../config/load.js';
import { createLogger, type Logger } from '../log.js';
import { resolveBrokerLogin } from '../mqtt/broker-login.js';
import { haConnection, mqttLoginText, type NetworkInterfaces } from './banner.js';

export interface TextOutput {
  write(text: string): void;
}

const USAGE = `usage: chargebridge mqtt-login [--config <file>]
  shows the MQTT broker address, port, username and password for Home Assistant
`;

export interface MqttLoginOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** This machine's network interfaces (tests pass fixed ones). */
  interfaces?: NetworkInterfaces;
  /** Where a moved-aside login file is reported; default: warnings and errors on stderr. */
  logger?: Logger;
}

export async function runMqttLogin(
  args: string[],
  out: TextOutput,
  options: MqttLoginOptions = {},
): Promise<number> {
  const unknown = args.find((a, i) => !a.startsWith('--config') && args[i - 1] !== '--config');
  if (unknown !== undefined) {
    out.write(`unknown option: ${unknown}\n${USAGE}`);
    return 2;
  }
  try {
    const loaded = loadConfig({ args, env: options.env ?? process.env, cwd: options.cwd });
    const { mqtt, dataDir } = loaded.config;
    const login = mqtt.embeddedBroker.enabled
      ? await resolveBrokerLogin({
          broker: mqtt.embeddedBroker,
          dataDir,
          logger: options.logger ?? createLogger({ level: 'warn', destination: process.stderr }),
        })
      : null;
    const text = mqttLoginText(
      haConnection({
        mqtt,
        login,
        interfaces: options.interfaces ?? networkInterfaces(),
        secretValues: loaded.secretValues,
      }),
    );
    if (loaded.isDemo) out.write(`No configuration file at ${loaded.path}: this is the DEMO's broker.\n\n`);
    // A running daemon with another data folder (systemd sets CHARGEBRIDGE_DATA_DIR) would not know it.
    if (login?.createdNow)
      out.write(
        `There was no login in ${dataDir}: created one in ${login.file}; chargebridge uses it from its next start.\n` +
          'If chargebridge already runs, it keeps its data elsewhere: run this command with its data_dir\n' +
          '(e.g. CHARGEBRIDGE_DATA_DIR from its service file) and delete that file.\n\n',
      );
    out.write(text);
    return 0;
  } catch (error) {
    out.write(`${error instanceof ConfigError ? error.message : (error as Error).message}\n`);
    return 1;
  }
}
