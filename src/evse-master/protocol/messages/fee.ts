/**
 * Charge fee 0x8104 → 0x0104 and service fee 0x8105 → 0x0105. Only evseMQTT sends them
 * (`[01 01 00 00]`; GET `[02 00]`) and the charger echoes the bytes; their meaning is unknown, so
 * everything after the action byte is kept raw.
 */
import { putU8, requireLength, u8 } from './payload.js';

export interface FeeSetting {
  action: number;
  /** The bytes after the action byte. */
  data: Uint8Array;
}

export function decodeFee(payload: Uint8Array): FeeSetting {
  requireLength(payload, 1, 'fee');
  return { action: u8(payload, 0), data: payload.slice(1) };
}

export function encodeFee(f: FeeSetting): Uint8Array {
  const p = new Uint8Array(1 + f.data.length);
  putU8(p, 0, f.action, 'fee action');
  p.set(f.data, 1);
  return p;
}

/** What evseMQTT sends after login: `[01 01 00 00]`. */
export const EVSEMQTT_FEE_SET: FeeSetting = Object.freeze({ action: 1, data: Uint8Array.of(1, 0, 0) });
