/**
 * A byte pipe to one charger. The session above it only sees bytes; how they travel (BLE GATT,
 * an in-process simulator, UDP later) is the transport's business.
 */
import type { TypedEmitter } from '../../core/emitter.js';

export type TransportEvents = {
  /** A chunk of the charger's byte stream (a BLE notification: any cut of the frames). */
  data: [chunk: Uint8Array];
  /** The link went down (remote disconnect, adapter off, …). Not emitted for `close()`. */
  disconnect: [reason: string];
  /** Signal strength update, where the link has one. */
  rssi: [dbm: number];
};

export interface TransportInfo {
  /** Human-readable description for logs, e.g. `ble 9c:a5:0e:c8:a2:12 (CDD)`. */
  description: string;
  address: string | null;
  localName: string | null;
  rssiDbm: number | null;
}

export class TransportError extends Error {
  readonly code: 'no_adapter' | 'not_found' | 'connect_failed' | 'gatt' | 'closed' | 'write_failed';
  constructor(code: TransportError['code'], message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransportError';
    this.code = code;
  }
}

export interface Transport {
  readonly events: TypedEmitter<TransportEvents>;
  /** Open the link; resolves once bytes can flow both ways. Rejects with TransportError. */
  connect(signal?: AbortSignal): Promise<TransportInfo>;
  /** Write one complete frame. Writes are serialized by the transport. */
  write(bytes: Uint8Array): Promise<void>;
  /** Close the link; idempotent. */
  close(): Promise<void>;
  readonly connected: boolean;
}
