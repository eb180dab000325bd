/**
 * One EVSE Master frame (§2): `06 01` · u16 total length · key type · 8-byte serial · 6-byte password ·
 * u16 command · payload · u16 checksum · `0F 02`. All integers big-endian.
 */
import { checksumMatches, frameChecksum } from './checksum.js';
import { bytesToHex } from './hex.js';

export { bytesToHex, hexToBytes } from './hex.js';

export interface Frame {
  keyType: number;
  /** 8 raw bytes; shown to users as the hex digits in wire order. */
  serial: Uint8Array;
  /** 6 bytes: the PIN as ASCII from the client, FF×6 from the charger. */
  password: Uint8Array;
  command: number;
  payload: Uint8Array;
}

export const FRAME_HEADER = [0x06, 0x01] as const;
export const FRAME_TAIL = [0x0f, 0x02] as const;
/** A frame with an empty payload. */
export const MIN_FRAME_LENGTH = 25;
/** Plausibility bound: the largest known layout is 25 + 446 = 471 bytes. */
export const MAX_FRAME_LENGTH = 512;
export const SERIAL_LENGTH = 8;
export const PASSWORD_LENGTH = 6;
export const PAYLOAD_OFFSET = 21;
/** What the charger puts in the password field of every frame it sends. */
export const CHARGER_PASSWORD: Uint8Array = new Uint8Array(PASSWORD_LENGTH).fill(0xff);

export type FrameErrorReason = 'too_short' | 'bad_header' | 'bad_length' | 'bad_tail' | 'bad_checksum';

export class FrameError extends Error {
  readonly reason: FrameErrorReason;
  constructor(reason: FrameErrorReason, message: string) {
    super(`${reason}: ${message}`);
    this.name = 'FrameError';
    this.reason = reason;
  }
}

function checkByte(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xff) {
    throw new RangeError(`${what} must be a byte (0..255), got ${value}`);
  }
}

/** Builds the wire bytes of a frame. Throws RangeError on fields that cannot be encoded. */
export function encodeFrame(frame: Frame): Uint8Array {
  checkByte(frame.keyType, 'keyType');
  if (frame.serial.length !== SERIAL_LENGTH) {
    throw new RangeError(`serial must be ${SERIAL_LENGTH} bytes, got ${frame.serial.length}`);
  }
  if (frame.password.length !== PASSWORD_LENGTH) {
    throw new RangeError(`password must be ${PASSWORD_LENGTH} bytes, got ${frame.password.length}`);
  }
  if (!Number.isInteger(frame.command) || frame.command < 0 || frame.command > 0xffff) {
    throw new RangeError(`command must be a u16, got ${frame.command}`);
  }
  const length = MIN_FRAME_LENGTH + frame.payload.length;
  if (length > MAX_FRAME_LENGTH) {
    throw new RangeError(`frame would be ${length} bytes, more than MAX_FRAME_LENGTH ${MAX_FRAME_LENGTH}`);
  }
  const out = new Uint8Array(length);
  out[0] = FRAME_HEADER[0];
  out[1] = FRAME_HEADER[1];
  out[2] = length >> 8;
  out[3] = length & 0xff;
  out[4] = frame.keyType;
  out.set(frame.serial, 5);
  out.set(frame.password, 13);
  out[19] = frame.command >> 8;
  out[20] = frame.command & 0xff;
  out.set(frame.payload, PAYLOAD_OFFSET);
  const checksum = frameChecksum(out, length - 4);
  out[length - 4] = checksum >> 8;
  out[length - 3] = checksum & 0xff;
  out[length - 2] = FRAME_TAIL[0];
  out[length - 1] = FRAME_TAIL[1];
  return out;
}

/** Copies the fields out of an already verified frame at `bytes[offset, offset+length)`. */
export function frameFromVerifiedBytes(bytes: Uint8Array, offset: number, length: number): Frame {
  return {
    keyType: bytes[offset + 4]!,
    serial: bytes.slice(offset + 5, offset + 13),
    password: bytes.slice(offset + 13, offset + 19),
    command: (bytes[offset + 19]! << 8) | bytes[offset + 20]!,
    payload: bytes.slice(offset + PAYLOAD_OFFSET, offset + length - 4),
  };
}

/** Decodes exactly one frame (no leading or trailing bytes). Throws FrameError. */
export function decodeFrame(bytes: Uint8Array): Frame {
  if (bytes.length < MIN_FRAME_LENGTH) {
    throw new FrameError('too_short', `${bytes.length} bytes, a frame has at least ${MIN_FRAME_LENGTH}`);
  }
  if (bytes[0] !== FRAME_HEADER[0] || bytes[1] !== FRAME_HEADER[1]) {
    throw new FrameError('bad_header', `starts with ${bytesToHex(bytes.subarray(0, 2))}, expected 0601`);
  }
  const length = (bytes[2]! << 8) | bytes[3]!;
  if (length !== bytes.length) {
    throw new FrameError('bad_length', `length field says ${length} bytes, got ${bytes.length}`);
  }
  if (bytes[length - 2] !== FRAME_TAIL[0] || bytes[length - 1] !== FRAME_TAIL[1]) {
    throw new FrameError('bad_tail', `ends with ${bytesToHex(bytes.subarray(length - 2))}, expected 0f02`);
  }
  const stored = (bytes[length - 4]! << 8) | bytes[length - 3]!;
  if (!checksumMatches(stored, bytes, length - 4)) {
    const computed = frameChecksum(bytes, length - 4);
    throw new FrameError(
      'bad_checksum',
      `stored 0x${stored.toString(16).padStart(4, '0')}, computed 0x${computed.toString(16).padStart(4, '0')}`,
    );
  }
  return frameFromVerifiedBytes(bytes, 0, length);
}

/** The 6-digit PIN as the ASCII bytes of the password field. */
export function pinToPassword(pin: string): Uint8Array {
  if (!/^[0-9]{6}$/.test(pin)) {
    // The PIN itself is never echoed back: it may end up in logs.
    throw new Error(`PIN must be exactly 6 digits 0-9 (got ${pin.length} characters)`);
  }
  const out = new Uint8Array(PASSWORD_LENGTH);
  for (let i = 0; i < PASSWORD_LENGTH; i++) out[i] = pin.charCodeAt(i);
  return out;
}

/** True when the password field holds FF×6, i.e. the frame came from the charger. */
export function isChargerPassword(password: Uint8Array): boolean {
  return password.length === PASSWORD_LENGTH && password.every((b) => b === 0xff);
}

/** The serial as users see it: hex digits of the 8 bytes in wire order, e.g. "9181102751219513". */
export function serialToString(serial: Uint8Array): string {
  return bytesToHex(serial);
}

/** Inverse of serialToString: 16 hex digits (normally all 0-9) → 8 bytes. */
export function serialFromString(s: string): Uint8Array {
  const digits = s.trim();
  if (!/^[0-9a-fA-F]{16}$/.test(digits)) {
    throw new Error(`serial must be 16 hex digits (e.g. "9181102751219513"), got ${JSON.stringify(s)}`);
  }
  const out = new Uint8Array(SERIAL_LENGTH);
  for (let i = 0; i < SERIAL_LENGTH; i++) out[i] = Number.parseInt(digits.slice(i * 2, i * 2 + 2), 16);
  return out;
}
