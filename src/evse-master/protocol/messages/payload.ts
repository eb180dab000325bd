/**
 * Shared helpers for payload codecs: bounds-checked big-endian reads, fixed-width ASCII fields, and
 * scaled integers (divide on decode, round on encode, so 147585 reads as 1475.85 exactly).
 */

/** The payload is too short to hold the fields a message needs. */
export class PayloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PayloadError';
  }
}

export function requireLength(payload: Uint8Array, minBytes: number, what: string): void {
  if (payload.length < minBytes) {
    throw new PayloadError(`${what}: payload is ${payload.length} bytes, needs at least ${minBytes}`);
  }
}

export const u8 = (p: Uint8Array, offset: number): number => p[offset]!;
export const u16 = (p: Uint8Array, offset: number): number => (p[offset]! << 8) | p[offset + 1]!;
export const u32 = (p: Uint8Array, offset: number): number =>
  p[offset]! * 0x1000000 + ((p[offset + 1]! << 16) | (p[offset + 2]! << 8) | p[offset + 3]!);

/** A field as [offset, length]; some strings continue in a second field (long login payloads). */
export type Segment = readonly [offset: number, length: number];

/** Text of fixed-width fields: cut at the first NUL, trailing spaces and 0xFF trimmed. */
export function readText(p: Uint8Array, ...segments: Segment[]): string {
  let text = '';
  for (const [offset, length] of segments) {
    for (let i = offset; i < offset + length && i < p.length; i++) {
      const b = p[i]!;
      if (b === 0) return trimEnd(text);
      text += String.fromCharCode(b);
    }
  }
  return trimEnd(text);
}

function trimEnd(text: string): string {
  return text.replace(/[ \u00ff]+$/, '');
}

/** Writes NUL-padded ASCII into fixed-width fields. Throws RangeError if it does not fit. */
export function writeText(p: Uint8Array, text: string, what: string, ...segments: Segment[]): void {
  const capacity = segments.reduce((sum, [, length]) => sum + length, 0);
  if (text.length > capacity) {
    throw new RangeError(`${what} is ${text.length} characters, the field holds ${capacity}`);
  }
  if (!/^[\x20-\x7e]*$/.test(text)) {
    throw new RangeError(`${what} must be printable ASCII: ${JSON.stringify(text)}`);
  }
  let index = 0;
  for (const [offset, length] of segments) {
    for (let i = 0; i < length; i++) {
      p[offset + i] = index < text.length ? text.charCodeAt(index) : 0;
      index++;
    }
  }
}

function checkRange(raw: number, max: number, what: string): number {
  if (!Number.isInteger(raw) || raw < 0 || raw > max) {
    throw new RangeError(`${what} out of range: ${raw} (raw must be 0..${max})`);
  }
  return raw;
}

export function putU8(p: Uint8Array, offset: number, value: number, what: string): void {
  p[offset] = checkRange(value, 0xff, what);
}

export function putU16(p: Uint8Array, offset: number, value: number, what: string): void {
  const raw = checkRange(value, 0xffff, what);
  p[offset] = raw >> 8;
  p[offset + 1] = raw & 0xff;
}

export function putU32(p: Uint8Array, offset: number, value: number, what: string): void {
  const raw = checkRange(value, 0xffffffff, what);
  p[offset] = Math.floor(raw / 0x1000000);
  p[offset + 1] = (raw >>> 16) & 0xff;
  p[offset + 2] = (raw >>> 8) & 0xff;
  p[offset + 3] = raw & 0xff;
}

/** A scaled value back to its raw integer (`230.1` V at ×0.1 → 2301). */
export function toRaw(value: number, divisor: number, what: string): number {
  if (!Number.isFinite(value)) throw new RangeError(`${what} must be a finite number, got ${value}`);
  return Math.round(value * divisor);
}

/** u16 where 0xFFFF means "unlimited/unset" ↔ null. */
export const u16OrNull = (p: Uint8Array, offset: number): number | null => {
  const raw = u16(p, offset);
  return raw === 0xffff ? null : raw;
};

export const concatBytes = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
};
