/**
 * Publishes retained topics (discovery configs, charger state) only when their payload changed, so
 * Home Assistant is not flooded with identical messages. The memory is per broker session: after a
 * reconnect (the broker may have restarted and lost everything) every topic goes out again.
 */
import type { MqttConnection, QoS } from './connection.js';

type Publisher = Pick<MqttConnection, 'publish' | 'generation'>;

export class RetainedPublisher {
  private readonly connection: Publisher;
  private readonly qos: QoS;
  private readonly lastSent = new Map<string, string | Buffer>();
  private generation: number;

  constructor(connection: Publisher, options: { qos?: QoS } = {}) {
    this.connection = connection;
    this.qos = options.qos ?? 1;
    this.generation = connection.generation;
  }

  /** Publish retained if different from what this session last published; resolves true if sent. */
  async publish(topic: string, payload: string | Buffer): Promise<boolean> {
    this.forgetIfNewSession();
    const previous = this.lastSent.get(topic);
    if (previous !== undefined && samePayload(previous, payload)) return false;
    // Remember before awaiting so a concurrent identical publish is skipped, not doubled.
    this.lastSent.set(topic, payload);
    try {
      await this.connection.publish(topic, payload, { retain: true, qos: this.qos });
      return true;
    } catch (err) {
      // Forget a failed publish so the next call tries again.
      if (this.lastSent.get(topic) === payload) this.lastSent.delete(topic);
      throw err;
    }
  }

  /** Remove a retained topic from the broker (empty retained payload) and from our memory. */
  async clear(topic: string): Promise<void> {
    this.forgetIfNewSession();
    this.lastSent.delete(topic);
    await this.connection.publish(topic, '', { retain: true, qos: this.qos });
  }

  /** Make the next publish of every topic go out, e.g. after Home Assistant announced a restart. */
  forgetAll(): void {
    this.lastSent.clear();
  }

  private forgetIfNewSession(): void {
    if (this.connection.generation === this.generation) return;
    this.generation = this.connection.generation;
    this.lastSent.clear();
  }
}

function samePayload(a: string | Buffer, b: string | Buffer): boolean {
  if (typeof a === 'string' && typeof b === 'string') return a === b;
  return Buffer.from(a).equals(Buffer.from(b));
}
