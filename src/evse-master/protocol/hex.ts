/** Hex text <-> bytes, forgiving about the shapes hex takes in logs (spaces, colons, 0x prefixes). */

const SEPARATORS = /[\s:,;\-_]+/;

/**
 * Parses hex such as `06 01 00 19`, `06:01:00:19`, `0x06 0x01`, `0601AbCd`.
 * Throws an Error naming the problem on odd digit counts or non-hex characters.
 */
export function hexToBytes(hex: string): Uint8Array {
  const digits = hex
    .trim()
    .split(SEPARATORS)
    .map((token) => (token.startsWith('0x') || token.startsWith('0X') ? token.slice(2) : token))
    .join('');
  const bad = /[^0-9a-fA-F]/.exec(digits);
  if (bad) {
    throw new Error(`invalid hex: unexpected character ${JSON.stringify(bad[0])}`);
  }
  if (digits.length % 2 !== 0) {
    throw new Error(`invalid hex: odd number of digits (${digits.length})`);
  }
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) {
    out[i] = Number.parseInt(digits.slice(i * 2, i * 2 + 2), 16);
  }
  return out;
}

const HEX_DIGITS = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Continuous lowercase hex, the format of the spec's test vectors. */
export function bytesToHex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += HEX_DIGITS[b]!;
  return out;
}
