/**
 * Publishes made while the broker is unreachable, held here (not in mqtt.js's own queue) until the
 * next CONNACK so a flood cannot lose the latest state of any topic:
 *
 * - retained publishes (states, discovery, availability) coalesce per topic: a newer one replaces the
 *   held one, whose promise resolves as superseded (what it said is no longer true anyway). Their
 *   number is bounded by the number of topics, not by time offline.
 * - non-retained publishes (events) are bounded by `limit`; beyond it the oldest held event is dropped
 *   (its promise rejects with PublishQueueFullError): the newest events describe the present best.
 *
 * Everything goes out in the order of its latest update.
 */
import { PublishQueueFullError } from './pending-publishes.js';

export interface HeldPublish {
  topic: string;
  payload: string | Buffer;
  retain: boolean;
  qos: 0 | 1 | 2;
}

interface Entry {
  message: HeldPublish;
  resolve(): void;
  reject(err: Error): void;
}

export class OfflinePublishes {
  // Insertion order = send order; a superseding retained publish is deleted and re-inserted at the end.
  private readonly held = new Map<string, Entry>();
  private events = 0;
  private sequence = 0;
  private supersededCount = 0;

  constructor(
    private readonly limit: number,
    /** Called for each event dropped because `limit` events were already held. */
    private readonly onDropped: (topic: string) => void = () => {},
  ) {}

  get size(): number {
    return this.held.size;
  }

  /** Retained publishes replaced by a newer one to the same topic since this queue was made. */
  get superseded(): number {
    return this.supersededCount;
  }

  /** Hold one publish; the promise settles when `flush` hands it on, or it is superseded or dropped. */
  hold(message: HeldPublish): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const entry: Entry = { message, resolve, reject };
      if (message.retain) {
        const key = `retained:${message.topic}`;
        const older = this.held.get(key);
        if (older) {
          this.held.delete(key);
          this.supersededCount++;
          older.resolve();
        }
        this.held.set(key, entry);
        return;
      }
      if (this.events >= this.limit) this.dropOldestEvent();
      this.events++;
      this.held.set(`event:${this.sequence++}`, entry);
    });
  }

  /** Hand everything held to `send` in order and empty the queue; each promise follows its send. */
  flush(send: (message: HeldPublish) => Promise<void>): void {
    const entries = [...this.held.values()];
    this.held.clear();
    this.events = 0;
    for (const entry of entries) send(entry.message).then(entry.resolve, entry.reject);
  }

  /** Reject everything held (the connection is going away). */
  failAll(err: Error): void {
    const entries = [...this.held.values()];
    this.held.clear();
    this.events = 0;
    for (const entry of entries) entry.reject(err);
  }

  private dropOldestEvent(): void {
    for (const [key, entry] of this.held) {
      if (entry.message.retain) continue;
      this.held.delete(key);
      this.events--;
      entry.reject(new PublishQueueFullError(this.limit, entry.message.topic));
      this.onDropped(entry.message.topic);
      return;
    }
  }
}
