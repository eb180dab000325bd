/**
 * A frame as a JSON-ready object for logs and the `decode` CLI: header fields, then every payload
 * field with its unit in the name, times as ISO plus raw, bytes as hex. Secrets never appear: the
 * password field is shown as "charger" or "[redacted]", and payloads that carry a PIN or Wi-Fi
 * passphrase are redacted.
 */
import { commandDirection, commandHex, commandName } from './commands.js';
import { currentStateName, errorNamesLsb, errorNamesMsb, outputStateName, plugStateName } from './enums.js';
import { type Frame, isChargerPassword, serialToString } from './frame.js';
import { bytesToHex } from './hex.js';
import { type DecodeOptions, decodeMessage, type EvseMessage } from './message.js';
import type { EmTime } from './time.js';

/** set_password, BLE password and Wi-Fi info requests/replies carry secrets in the payload. */
const SECRET_PAYLOAD_COMMANDS = new Set([0x8102, 0x0102, 0x8109, 0x0109, 0x810a, 0x010a]);

function isEmTime(value: unknown): value is EmTime {
  return (
    typeof value === 'object' &&
    value !== null &&
    Object.keys(value).length === 2 &&
    'raw' in value &&
    'unixMs' in value
  );
}

function addField(out: Record<string, unknown>, key: string, value: unknown): void {
  if (value instanceof Uint8Array) {
    out[`${key}Hex`] = bytesToHex(value);
  } else if (isEmTime(value)) {
    out[key] = value.unixMs === null ? null : new Date(value.unixMs).toISOString();
    out[`${key}Raw`] = value.raw;
  } else {
    out[key] = value;
  }
}

/** Readable names next to the raw state codes. */
function addStateNames(out: Record<string, unknown>, message: EvseMessage): void {
  if (message.type === 'status') {
    out.plugStateName = plugStateName(message.plugState);
    out.outputStateName = outputStateName(message.outputState);
    out.currentStateName = currentStateName(message.currentState);
    out.errorBitsHex = `0x${message.errorBits.toString(16).padStart(message.errorWidthBits / 4, '0')}`;
    out.errorsLsb = errorNamesLsb(message.errorBits);
    out.errorsMsb = errorNamesMsb(message.errorBits, message.errorWidthBits);
  } else if (message.type === 'charging_status') {
    out.currentStateName = currentStateName(message.currentState);
  }
}

export function describeFrame(frame: Frame, options: DecodeOptions = {}): Record<string, unknown> {
  const message = decodeMessage(frame, options);
  const out: Record<string, unknown> = {
    command: commandHex(frame.command),
    commandName: commandName(frame.command),
    direction: commandDirection(frame.command),
    message: message.type,
    serial: serialToString(frame.serial),
    keyType: frame.keyType,
    password: isChargerPassword(frame.password) ? 'charger' : '[redacted]',
    payloadBytes: frame.payload.length,
  };
  if (SECRET_PAYLOAD_COMMANDS.has(frame.command)) {
    out.payloadHex = '[redacted]';
    return out;
  }
  for (const [key, value] of Object.entries(message)) {
    if (key === 'type' || key === 'command') continue;
    addField(out, key, value);
  }
  addStateNames(out, message);
  return out;
}
