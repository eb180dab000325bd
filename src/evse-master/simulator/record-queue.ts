/**
 * Charge records (0x000A) waiting for the client's 0x800A (Q14): the oldest is pushed as soon as a
 * client is logged in and replayed on an interval until acknowledged; with replay off each record
 * is pushed once.
 */
import type { Clock, TimerHandle } from '../../core/clock.js';
import { type ChargeRecordInput, encodeChargeRecord } from '../protocol/messages/record.js';

/** Un-acked records kept at most (oldest dropped first). */
const MAX_PENDING_RECORDS = 20;

export class ChargeRecordQueue {
  private pending: Array<{ chargeId: string; payload: Uint8Array }> = [];
  private timer: TimerHandle | undefined;

  constructor(
    private readonly clock: Clock,
    /** 0 = push once, no replay. */
    private readonly replayIntervalMs: number,
    /** Puts one record payload on the wire; false when nothing can be sent right now. */
    private readonly send: (payload: Uint8Array) => boolean,
  ) {}

  get size(): number {
    return this.pending.length;
  }

  add(record: ChargeRecordInput): void {
    this.pending.push({ chargeId: record.chargeId, payload: encodeChargeRecord(record) });
    if (this.pending.length > MAX_PENDING_RECORDS) this.pending.shift();
  }

  /** A client is logged in: push now and keep replaying. */
  push(): void {
    if (this.replayIntervalMs === 0) {
      while (this.pending.length > 0 && this.send(this.pending[0]!.payload)) this.pending.shift();
      return;
    }
    this.sendOldest();
    if (this.pending.length > 0 && !this.timer) {
      this.timer = this.clock.setInterval(() => this.sendOldest(), this.replayIntervalMs);
    }
  }

  /** 0x800A: removes the record with that chargeId, or the oldest when the payload names none. */
  ack(chargeId: string | null): void {
    const index = chargeId ? this.pending.findIndex((r) => r.chargeId === chargeId) : -1;
    this.pending.splice(Math.max(index, 0), 1);
    if (this.pending.length === 0) this.pause();
  }

  /** No client session: stop replaying (records stay queued). */
  pause(): void {
    this.clock.clearInterval(this.timer);
    this.timer = undefined;
  }

  private sendOldest(): void {
    const oldest = this.pending[0];
    if (oldest) this.send(oldest.payload);
    else this.pause();
  }
}
