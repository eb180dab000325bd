/**
 * First checks on a raw MQTT command payload, before any command-specific parsing: size, UTF-8,
 * and a strict decimal-number reader (no exponents, hex, NaN or Infinity).
 */

/** Longest payload any command needs (an ISO date is ~30 bytes); anything bigger is refused unread. */
export const MAX_PAYLOAD_BYTES = 256;

export type Decoded = { ok: true; text: string } | { ok: false; error: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function decodePayload(payload: Uint8Array | string): Decoded {
  const bytes = typeof payload === 'string' ? Buffer.byteLength(payload, 'utf8') : payload.byteLength;
  if (bytes > MAX_PAYLOAD_BYTES) {
    return { ok: false, error: `payload is too long (${bytes} bytes, at most ${MAX_PAYLOAD_BYTES})` };
  }
  if (typeof payload === 'string') return { ok: true, text: payload };
  try {
    return { ok: true, text: utf8.decode(payload) };
  } catch {
    return { ok: false, error: 'payload is not valid UTF-8 text' };
  }
}

/** Payload text for an error message: quoted, shortened, control characters escaped. */
export function quote(text: string): string {
  const short = text.length > 40 ? `${text.slice(0, 40)}…` : text;
  return JSON.stringify(short);
}

const DECIMAL = /^([+-]?)(\d{1,9})(?:\.(\d{1,9}))?$/;

export interface ParsedDecimal {
  value: number;
  /** Digits after the decimal point, ignoring trailing zeros ("16.50" → 1). */
  decimals: number;
}

/** `16`, `16.0`, `-6`, `+7.25`; null for anything else. */
export function parseDecimal(text: string): ParsedDecimal | null {
  const m = DECIMAL.exec(text);
  if (!m) return null;
  const fraction = (m[3] ?? '').replace(/0+$/, '');
  const value = Number(`${m[1]}${m[2]}${fraction ? `.${fraction}` : ''}`);
  return { value: Object.is(value, -0) ? 0 : value, decimals: fraction.length };
}

const lenient = new TextDecoder('utf-8');

/**
 * A payload as text safe for a log line or a bridge event: invalid UTF-8 shown as U+FFFD, control
 * characters escaped as \uXXXX, cut at `maxChars` with an ellipsis.
 */
export function printable(payload: Uint8Array | string, maxChars = 64): string {
  // Decode only what can show: a 1 MB payload must not cost a 1 MB string.
  const limit = (maxChars + 1) * 4;
  const text =
    typeof payload === 'string' ? payload.slice(0, limit) : lenient.decode(payload.subarray(0, limit));
  const inputCut = typeof payload === 'string' ? payload.length > limit : payload.byteLength > limit;
  const chars = [...text];
  const shown = chars
    .slice(0, maxChars)
    .map((c) => (isControl(c) ? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}` : c))
    .join('');
  return inputCut || chars.length > maxChars ? `${shown}…` : shown;
}

/** C0 and C1 control characters (and DEL). */
function isControl(char: string): boolean {
  const code = char.charCodeAt(0);
  return code < 0x20 || (code >= 0x7f && code <= 0x9f);
}
