/**
 * The charger's outbound byte stream as BLE delivers it (Q1): everything written in the same tick is
 * packed back to back and cut into notifications of at most `notificationSize` bytes, so several
 * frames share a notification and long frames straddle two. Delivery happens in a microtask, which
 * keeps it asynchronous and still lets `ManualClock.advance` flush it.
 */

export class NotificationStream {
  private parts: Uint8Array[] = [];
  private queuedBytes = 0;
  private scheduled = false;
  private closed = false;

  constructor(
    private readonly notificationSize: number,
    private readonly deliver: (chunk: Uint8Array) => void,
  ) {}

  push(bytes: Uint8Array): void {
    if (this.closed || bytes.length === 0) return;
    this.parts.push(bytes);
    this.queuedBytes += bytes.length;
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  /** Drops whatever is still queued; nothing is delivered after this. */
  close(): void {
    this.closed = true;
    this.parts = [];
    this.queuedBytes = 0;
  }

  private flush(): void {
    this.scheduled = false;
    if (this.closed || this.queuedBytes === 0) return;
    const stream = new Uint8Array(this.queuedBytes);
    let offset = 0;
    for (const part of this.parts) {
      stream.set(part, offset);
      offset += part.length;
    }
    this.parts = [];
    this.queuedBytes = 0;
    for (let start = 0; start < stream.length && !this.closed; start += this.notificationSize) {
      this.deliver(stream.slice(start, start + this.notificationSize));
    }
  }
}

/** Small seeded PRNG (mulberry32): junk bytes are reproducible run to run. */
export function createRandomBytes(seed: number): (length: number) => Uint8Array {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  return (length) => {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = next() & 0xff;
    return out;
  };
}
