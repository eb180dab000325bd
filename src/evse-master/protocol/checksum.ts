/**
 * Frame checksum (§2.1): the plain byte sum of everything before the checksum field, kept to 16 bits.
 * It is not a CRC.
 */

function byteSum(bytes: Uint8Array, end: number): number {
  let sum = 0;
  for (let i = 0; i < end; i++) sum += bytes[i]!;
  return sum;
}

/** Byte sum of `bytes[0, end)` mod 65536 — what we put on the wire. */
export function frameChecksum(bytes: Uint8Array, end: number): number {
  return byteSum(bytes, end) & 0xffff;
}

/**
 * References disagree on the modulus (65536 vs 65535); they only differ once the raw sum reaches
 * 65535, so a stored value matching either one is accepted.
 */
export function checksumMatches(stored: number, bytes: Uint8Array, end: number): boolean {
  const sum = byteSum(bytes, end);
  return stored === (sum & 0xffff) || stored === sum % 0xffff;
}
