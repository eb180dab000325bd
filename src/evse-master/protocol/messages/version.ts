/** Version 0x8106 (empty request) → 0x0106 (§4.10). CDD boards may never answer. */
import { putU8, putU32, readText, requireLength, u8, u32, writeText } from './payload.js';

export interface VersionInfo {
  hardwareVersion: string;
  softwareVersion: string;
  /** Meaning unknown (BS20: 0x42296D48). */
  featureBits: number;
  /** Byte 36, absent on BS20 (36-byte payload). */
  supportNew: number | null;
}

const VERSION_BYTES = 36;

export function decodeVersion(payload: Uint8Array): VersionInfo {
  requireLength(payload, VERSION_BYTES, 'version');
  return {
    hardwareVersion: readText(payload, [0, 16]),
    softwareVersion: readText(payload, [16, 16]),
    featureBits: u32(payload, 32),
    supportNew: payload.length > VERSION_BYTES ? u8(payload, VERSION_BYTES) : null,
  };
}

export function encodeVersion(v: VersionInfo): Uint8Array {
  const p = new Uint8Array(v.supportNew === null ? VERSION_BYTES : VERSION_BYTES + 1);
  writeText(p, v.hardwareVersion, 'hardwareVersion', [0, 16]);
  writeText(p, v.softwareVersion, 'softwareVersion', [16, 16]);
  putU32(p, 32, v.featureBits, 'featureBits');
  if (v.supportNew !== null) putU8(p, VERSION_BYTES, v.supportNew, 'supportNew');
  return p;
}

/** 0x8106 has no payload. */
export const encodeGetVersion = (): Uint8Array => new Uint8Array(0);
