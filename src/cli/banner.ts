/**
 * What chargebridge tells a person about connecting Home Assistant: the start banner (demo and
 * config mode) and the `chargebridge mqtt-login` text. Pure functions of their input, so tests can
 * pass a fake terminal flag and fake network interfaces.
 */
import type { NetworkInterfaceInfo } from 'node:os';
import { redactText } from '../config/redact.js';
import type { MqttConfig } from '../config/schema.js';
import type { BrokerLogin } from '../mqtt/broker-login.js';

export type NetworkInterfaces = NodeJS.Dict<NetworkInterfaceInfo[]>;

/** How Home Assistant reaches MQTT: our embedded broker (with its login) or the user's own broker. */
export type HaConnection =
  | {
      kind: 'embedded';
      /** Addresses Home Assistant can use for this machine (see brokerAddresses). */
      addresses: string[];
      port: number;
      username: string;
      password: string;
      /** The login file, or null when the login is configured in mqtt.embedded_broker. */
      loginFile: string | null;
      allowAnonymous: boolean;
    }
  | { kind: 'external' /** Without its password. */; url: string };

const ALL_INTERFACES = new Set(['0.0.0.0', '::', '']);
const LOOPBACK = /^(127\.|::1$|localhost$)/i;
const SHOW_LOGIN_COMMAND = 'chargebridge mqtt-login';

/**
 * Where Home Assistant should point: the configured listen address, or when the broker listens on
 * every interface, this machine's IPv4 addresses that are not loopback.
 */
export function brokerAddresses(host: string, interfaces: NetworkInterfaces): string[] {
  if (!ALL_INTERFACES.has(host)) return [host];
  const found: string[] = [];
  for (const list of Object.values(interfaces)) {
    for (const info of list ?? []) {
      if (info.family === 'IPv4' && !info.internal && !found.includes(info.address)) found.push(info.address);
    }
  }
  return found;
}

export interface HaConnectionInput {
  mqtt: MqttConfig;
  /** The embedded broker's login; null with an external broker. */
  login: BrokerLogin | null;
  /** The port the broker really listens on (default: the configured one). */
  port?: number;
  interfaces: NetworkInterfaces;
  /** Values from !secret and *_file, hidden in the external broker's URL too. */
  secretValues?: ReadonlySet<string>;
}

export function haConnection(input: HaConnectionInput): HaConnection {
  const { mqtt, login } = input;
  if (!mqtt.embeddedBroker.enabled || !login)
    return { kind: 'external', url: redactText(mqtt.url ?? '(mqtt.url not set)', input.secretValues) };
  return {
    kind: 'embedded',
    addresses: brokerAddresses(mqtt.embeddedBroker.host, input.interfaces),
    port: input.port ?? mqtt.embeddedBroker.port,
    username: login.username,
    password: login.password,
    loginFile: login.source === 'file' ? (login.file ?? null) : null,
    allowAnonymous: mqtt.embeddedBroker.allowAnonymous,
  };
}

/** The broker, port and login lines; the password only when `showPassword`. */
function loginLines(conn: Extract<HaConnection, { kind: 'embedded' }>, showPassword: boolean): string[] {
  const addresses =
    conn.addresses.length > 0 ? conn.addresses.join(' or ') : "this machine's IP address (none found)";
  const lines = [`Broker:    ${addresses}`];
  if (conn.addresses.some((a) => LOOPBACK.test(a)))
    lines.push('           (listens on loopback only: Home Assistant must run on this machine)');
  lines.push(
    `Port:      ${conn.port}`,
    `Username:  ${conn.username}`,
    `Password:  ${showPassword ? conn.password : `run \`${SHOW_LOGIN_COMMAND}\` to show it`}`,
  );
  return lines;
}

/** Home Assistant's own menus, step by step. */
export function homeAssistantSteps(conn: Extract<HaConnection, { kind: 'embedded' }>): string[] {
  const broker = conn.addresses[0] ?? "this machine's IP address";
  return [
    'In Home Assistant:',
    '  1. Settings → Devices & services → Add integration → MQTT',
    `  2. Broker: ${broker}   Port: ${conn.port}   Username: ${conn.username}   Password: as above`,
    '  3. Then on the MQTT integration: Configure → Re-configure MQTT → Advanced options → Next',
    '     → MQTT protocol: 5   (no "Advanced options" switch? turn on Advanced mode in your user profile)',
  ];
}

function externalLines(url: string): string[] {
  return [
    `chargebridge uses your MQTT broker at ${url}.`,
    "Home Assistant must use the same broker (its MQTT integration with that broker's address and a",
    'login of that broker); chargebridge shows no password for it.',
  ];
}

/** The whole `chargebridge mqtt-login` text: always with the password, the person asked for it. */
export function mqttLoginText(conn: HaConnection): string {
  if (conn.kind === 'external') return `${externalLines(conn.url).join('\n')}\n`;
  const lines = [
    "Connect Home Assistant to chargebridge's MQTT broker:",
    '',
    ...loginLines(conn, true).map((l) => `  ${l}`),
    '',
    ...homeAssistantSteps(conn),
    '',
    conn.loginFile
      ? `The login is kept in ${conn.loginFile}; to use your own, set mqtt.embedded_broker.username and password.`
      : 'The login is the one configured in mqtt.embedded_broker.username and password.',
  ];
  if (conn.allowAnonymous)
    lines.push('Clients without a login are let in too (mqtt.embedded_broker.allow_anonymous: true).');
  return `${lines.join('\n')}\n`;
}

export interface StartBannerInput {
  connection: HaConnection;
  /** stdout is a terminal: a person is watching, so the password may be shown. Logs never get it. */
  tty: boolean;
  /** Set in demo mode: the config file that was not found, and the topics to watch. */
  demo?: { configPath: string; chargerId: string; baseTopic: string };
}

/** The block printed once the daemon runs: where to point Home Assistant (and, in demo mode, more). */
export function startBanner(input: StartBannerInput): string {
  const conn = input.connection;
  const lines = [''];
  if (input.demo) {
    const port = conn.kind === 'embedded' ? conn.port : 1883;
    lines.push(
      '  chargebridge is running in DEMO mode: no configuration file was found at',
      `    ${input.demo.configPath}`,
      `  so it runs a SIMULATED BS20 charger ("${input.demo.chargerId}") on the EMBEDDED MQTT broker (port ${port}).`,
      '',
    );
  } else {
    lines.push('  chargebridge is running.', '');
  }
  if (conn.kind === 'external') {
    lines.push(...externalLines(conn.url).map((l) => `  ${l}`));
  } else {
    lines.push(
      '  Point Home Assistant at its MQTT broker:',
      ...loginLines(conn, input.tty).map((l) => `    ${l}`),
      `  Step by step: \`${SHOW_LOGIN_COMMAND}\`. Use MQTT protocol 5 in the integration's advanced options.`,
    );
  }
  if (input.demo) {
    const login =
      conn.kind === 'embedded'
        ? ` -u ${conn.username} -P ${input.tty ? shellQuote(conn.password) : "'<password>'"}`
        : '';
    const port = conn.kind === 'embedded' ? conn.port : 1883;
    lines.push(
      '',
      '  Watch it:',
      `    mosquitto_sub -V mqttv5 -h localhost -p ${port}${login} -t '${input.demo.baseTopic}/#' -t 'homeassistant/#' -v`,
      '',
      '  Use your real charger:',
      '    1. find it:   npx chargebridge scan        (close the EVSE Master phone app first)',
      `    2. copy config/chargebridge.example.yaml to ${input.demo.configPath}`,
      "       and fill in the charger's address, PIN and max_current",
      '    3. check it:  npx chargebridge config check',
    );
  }
  lines.push('');
  return `${lines.join('\n')}\n`;
}

function shellQuote(text: string): string {
  return /^[A-Za-z0-9_-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
