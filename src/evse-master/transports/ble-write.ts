/**
 * Helpers for talking to a charger over GATT: splitting a frame to the negotiated MTU and bounding
 * noble calls in time. noble's promises can stay pending forever (@abandonware/noble never rejects
 * a write or a discovery when the link drops, nor a write-with-response the peer never acks).
 */
import type { Clock } from '../../core/clock.js';

/** ATT header bytes in every write. */
const ATT_WRITE_OVERHEAD = 3;

/**
 * Cut a frame into pieces that fit one ATT write each (`mtu - 3` bytes). An unknown MTU (null)
 * means "assume it fits": the caller logs that.
 */
export function splitForMtu(frame: Uint8Array, mtu: number | null): Uint8Array[] {
  if (mtu === null || !Number.isFinite(mtu)) return [frame];
  const size = Math.floor(mtu) - ATT_WRITE_OVERHEAD;
  if (size < 1 || frame.length <= size) return [frame];
  const pieces: Uint8Array[] = [];
  for (let offset = 0; offset < frame.length; offset += size) {
    pieces.push(frame.subarray(offset, Math.min(offset + size, frame.length)));
  }
  return pieces;
}

export interface Bound {
  clock: Clock;
  /** Absent: no time limit (the caller bounds the whole operation elsewhere). */
  timeoutMs?: number;
  onTimeout?: () => Error;
  /** Rejects when the surrounding operation is over (link lost, aborted): wins the race at once. */
  cancelled?: Promise<never>;
}

/** `promise`, unless `timeoutMs` passes or `cancelled` rejects first. */
export function within<T>(promise: Promise<T>, bound: Bound): Promise<T> {
  // A late rejection of the losing promise must not surface as unhandled.
  promise.catch(() => {});
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      bound.clock.clearTimeout(timer);
      fn();
    };
    const onTimeout = bound.onTimeout ?? (() => new Error(`timed out after ${bound.timeoutMs} ms`));
    const timer =
      bound.timeoutMs === undefined
        ? undefined
        : bound.clock.setTimeout(() => settle(() => reject(onTimeout())), bound.timeoutMs);
    promise.then(
      (value) => settle(() => resolve(value)),
      (err: unknown) => settle(() => reject(err)),
    );
    bound.cancelled?.catch((err: unknown) => settle(() => reject(err)));
  });
}

/** A promise that rejects when `fail` is called; never unhandled. */
export function failureLatch(): { promise: Promise<never>; fail: (err: Error) => void } {
  let fail!: (err: Error) => void;
  const promise = new Promise<never>((_, reject) => {
    fail = reject;
  });
  promise.catch(() => {});
  return { promise, fail };
}
