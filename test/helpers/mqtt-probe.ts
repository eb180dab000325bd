/**
 * A plain mqtt.js client for tests: watches topics and waits for messages (with a timeout, never a
 * sleep), and publishes as "someone else on the broker" (Home Assistant, a user's script).
 */
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import type { TypedEmitter } from '../../src/core/emitter.js';

export interface ReceivedMessage {
  topic: string;
  payload: Buffer;
  text: string;
  retain: boolean;
}

export class MqttProbe {
  readonly received: ReceivedMessage[] = [];
  private waiters: { match: (m: ReceivedMessage) => boolean; resolve: (m: ReceivedMessage) => void }[] = [];

  private constructor(private readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      const message = { topic, payload, text: payload.toString('utf8'), retain: packet.retain };
      this.received.push(message);
      for (const w of [...this.waiters]) {
        if (w.match(message)) {
          this.waiters = this.waiters.filter((x) => x !== w);
          w.resolve(message);
        }
      }
    });
  }

  static async connect(url: string, options: IClientOptions = {}): Promise<MqttProbe> {
    const client = await connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5000, ...options });
    (client.stream as { setNoDelay?: (noDelay: boolean) => void }).setNoDelay?.(true);
    return new MqttProbe(client);
  }

  async subscribe(topic: string): Promise<void> {
    await this.client.subscribeAsync(topic, { qos: 1 });
  }

  async publish(topic: string, payload: string | Buffer, options: { retain?: boolean; qos?: 0 | 1 } = {}) {
    await this.client.publishAsync(topic, payload, {
      qos: options.qos ?? 1,
      retain: options.retain ?? false,
    });
  }

  /** The first message (already received or still to come) matching topic and optional predicate. */
  waitFor(
    topic: string,
    predicate: (m: ReceivedMessage) => boolean = () => true,
    timeoutMs = 5000,
  ): Promise<ReceivedMessage> {
    const match = (m: ReceivedMessage) => m.topic === topic && predicate(m);
    const seen = this.received.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        const got = this.received.map((m) => `${m.topic}=${m.text}`).join(', ');
        reject(
          new Error(`no matching message on ${topic} within ${timeoutMs} ms (received: ${got || 'nothing'})`),
        );
      }, timeoutMs);
      const done = (m: ReceivedMessage) => {
        clearTimeout(timer);
        resolve(m);
      };
      this.waiters.push({ match, resolve: done });
    });
  }

  /** Messages received on a topic so far. */
  on(topic: string): ReceivedMessage[] {
    return this.received.filter((m) => m.topic === topic);
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

/** Resolve on the next `event` of a TypedEmitter, or reject after `timeoutMs`. */
export function nextEvent<E extends { [K in keyof E]: unknown[] }, K extends keyof E>(
  emitter: TypedEmitter<E>,
  event: K,
  timeoutMs = 5000,
): Promise<E[K]> {
  return new Promise((resolve, reject) => {
    const off = emitter.once(event, (...args: E[K]) => {
      clearTimeout(timer);
      resolve(args);
    });
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no '${String(event)}' event within ${timeoutMs} ms`));
    }, timeoutMs);
  });
}
