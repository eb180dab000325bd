/**
 * Publishes handed to mqtt.js that have not settled yet (in flight, or queued while offline).
 * Bounded so a long broker outage cannot grow memory without limit; each entry settles exactly once.
 */
export class PublishQueueFullError extends Error {
  constructor(limit: number, topic: string) {
    super(`MQTT publish queue full (${limit} messages waiting for the broker); dropped ${topic}`);
    this.name = 'PublishQueueFullError';
  }
}

interface Entry {
  fail(err: Error): void;
  settled: Promise<void>;
}

export class PendingPublishes {
  private readonly entries = new Set<Entry>();

  constructor(private readonly limit: number) {}

  get size(): number {
    return this.entries.size;
  }

  /**
   * Track one publish: `send` gets a callback to call when mqtt.js reports the outcome. Rejects at
   * once with PublishQueueFullError when `limit` publishes are already waiting, unless `unbounded`
   * (what was held while offline is bounded there already and must not be dropped on the way out).
   */
  track(topic: string, send: (done: (err?: Error) => void) => void, unbounded = false): Promise<void> {
    if (!unbounded && this.entries.size >= this.limit) {
      return Promise.reject(new PublishQueueFullError(this.limit, topic));
    }
    return new Promise<void>((resolve, reject) => {
      let markSettled = () => {};
      const settled = new Promise<void>((r) => {
        markSettled = r;
      });
      const finish = (err?: Error) => {
        // mqtt.js may still call back after we gave up on the entry at close(); ignore that.
        if (!this.entries.delete(entry)) return;
        markSettled();
        if (err) reject(err);
        else resolve();
      };
      const entry: Entry = { fail: finish, settled };
      this.entries.add(entry);
      send(finish);
    });
  }

  /** Resolves true when everything now pending has settled, false if `timeoutMs` passed first. */
  async drain(timeoutMs: number): Promise<boolean> {
    if (this.entries.size === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const all = Promise.all([...this.entries].map((e) => e.settled)).then(() => true as const);
    try {
      return await Promise.race([all, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Fail everything still pending (the connection is going away). */
  failAll(err: Error): void {
    for (const entry of [...this.entries]) entry.fail(err);
  }
}
