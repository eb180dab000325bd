/** Password error 0x0155 (§3.1): the answer to every frame carrying a wrong PIN; payload `[00]`. */

export interface PasswordError {
  /** Null for an empty payload. */
  code: number | null;
}

export const decodePasswordError = (payload: Uint8Array): PasswordError => ({
  code: payload.length > 0 ? payload[0]! : null,
});

export function encodePasswordError(e: PasswordError = { code: 0 }): Uint8Array {
  if (e.code === null) return new Uint8Array(0);
  if (!Number.isInteger(e.code) || e.code < 0 || e.code > 0xff)
    throw new RangeError(`code must be a byte: ${e.code}`);
  return Uint8Array.of(e.code);
}
