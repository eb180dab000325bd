/**
 * Bounds on what other clients can make the embedded broker keep as retained messages (memory, and
 * disk when persisted): one payload at most `maxMessageBytes`, all topics + payloads together at most
 * `maxTotalBytes`. Clearing a topic, or replacing it with something no larger, is always allowed, so
 * a full store never stops the owners of its topics from updating or removing them.
 */

export interface RetainedLimits {
  /** mqtt.embedded_broker.retained_max_message_bytes */
  maxMessageBytes: number;
  /** mqtt.embedded_broker.retained_max_total_bytes */
  maxTotalBytes: number;
}

export interface RetainedRefusal {
  kind: 'message-too-large' | 'total-exceeded';
  /** Sent to MQTT 5 clients as the PUBACK's reason string: nothing internal in it. */
  message: string;
}

export class RetainedBounds {
  private readonly sizes = new Map<string, number>();
  private total = 0;

  constructor(private readonly limits: RetainedLimits) {}

  /** Why a retained publish of this size on this topic must be refused, or null when it fits. */
  check(topic: string, payloadBytes: number): RetainedRefusal | null {
    if (payloadBytes === 0) return null;
    if (payloadBytes > this.limits.maxMessageBytes) {
      return {
        kind: 'message-too-large',
        message: `retained message of ${payloadBytes} bytes is over the broker's limit of ${this.limits.maxMessageBytes} bytes`,
      };
    }
    const before = this.sizes.get(topic) ?? 0;
    const after = entryBytes(topic, payloadBytes);
    if (after > before && this.total - before + after > this.limits.maxTotalBytes) {
      return {
        kind: 'total-exceeded',
        message: `the broker's space for retained messages (${this.limits.maxTotalBytes} bytes) is full`,
      };
    }
    return null;
  }

  /** Account for a retained message now stored (an empty payload clears the topic). */
  record(topic: string, payloadBytes: number): void {
    this.total -= this.sizes.get(topic) ?? 0;
    if (payloadBytes === 0) {
      this.sizes.delete(topic);
      return;
    }
    const size = entryBytes(topic, payloadBytes);
    this.sizes.set(topic, size);
    this.total += size;
  }

  totalBytes(): number {
    return this.total;
  }
}

function entryBytes(topic: string, payloadBytes: number): number {
  return Buffer.byteLength(topic, 'utf8') + payloadBytes;
}
