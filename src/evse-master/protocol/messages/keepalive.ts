/**
 * Heading (0x0003) and the one-byte acknowledgements: heading response 0x8003, status ack 0x8004,
 * charging-status ack 0x8005, charging-status request 0x8006, status-record request 0x800D.
 * References send `01` or `00` (or nothing); the charger accepts both, so the byte is kept as-is.
 */

/** A payload of at most one meaningful byte; null = empty payload. */
export interface FlagPayload {
  flag: number | null;
}

export function encodeFlag(flag: number | null): Uint8Array {
  if (flag === null) return new Uint8Array(0);
  if (!Number.isInteger(flag) || flag < 0 || flag > 0xff)
    throw new RangeError(`flag must be a byte: ${flag}`);
  return Uint8Array.of(flag);
}

/** Never throws: extra bytes are ignored. */
export function decodeFlag(payload: Uint8Array): FlagPayload {
  return { flag: payload.length > 0 ? payload[0]! : null };
}

/** 0x0003: empty payload. */
export const encodeHeading = (): Uint8Array => new Uint8Array(0);

/** 0x8003: `01` (evseMQTT, py-besen) or `00` (emproto). */
export const encodeHeadingResponse = (flag: number | null = 1): Uint8Array => encodeFlag(flag);
/** 0x8004: `01`. */
export const encodeStatusAck = (flag: number | null = 1): Uint8Array => encodeFlag(flag);
/** 0x8005: `00` (emproto4go). */
export const encodeChargingStatusAck = (flag: number | null = 0): Uint8Array => encodeFlag(flag);
/** 0x8006: `00` → the charger answers 0x0006. */
export const encodeRequestChargingStatus = (flag: number | null = 0): Uint8Array => encodeFlag(flag);
/** 0x800D: empty (evseMQTT) → the charger answers 0x000D. */
export const encodeRequestStatusRecord = (flag: number | null = null): Uint8Array => encodeFlag(flag);
