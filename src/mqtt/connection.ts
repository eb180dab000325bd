/**
 * The daemon's one connection to the MQTT broker (mqtt.js underneath). Adds what the daemon needs on
 * top: a `connected` event on every (re)connect so discovery and state get re-published, our own
 * re-subscription after reconnects, a bounded offline queue, promise-based publish, a visible
 * "refused" state for bad credentials, and counters for metrics.
 *
 * Speaks MQTT 5 by default (Home Assistant requires it from 2027.1) and falls back to 3.1.1 only when
 * the broker refuses protocol 5 in its CONNACK.
 */
import { connect, type IClientOptions, type MqttClient, ReasonCodes } from 'mqtt';
import { type Clock, systemClock } from '../core/clock.js';
import { TypedEmitter } from '../core/emitter.js';
import { LogThrottle } from '../core/log-throttle.js';
import type { Logger } from '../log.js';
import { type HeldPublish, OfflinePublishes } from './offline-publishes.js';
import { PendingPublishes } from './pending-publishes.js';

export type QoS = 0 | 1 | 2;

/** Config `mqtt.protocol_version`: auto = 5, or 3.1.1 when the broker refuses 5. */
export type MqttProtocolSetting = 'auto' | '5' | '3.1.1';

/** Protocol level byte of CONNECT: 5 = MQTT 5, 4 = MQTT 3.1.1. */
export type MqttProtocolLevel = 4 | 5;

export interface MqttConnectionOptions {
  /** mqtt://host:port or mqtts://host:port */
  url: string;
  username?: string;
  password?: string;
  clientId: string;
  tls?: { ca?: string | Buffer; cert?: string | Buffer; key?: string | Buffer; rejectUnauthorized?: boolean };
  /** Last will, published by the broker when this connection dies without a DISCONNECT. */
  will: { topic: string; payload: string | Buffer; retain: boolean; qos: QoS };
  keepaliveS: number;
  reconnectPeriodMs: number;
  /** Default 'auto'. */
  protocolVersion?: MqttProtocolSetting;
  connectTimeoutMs?: number;
  /**
   * Bound on publishes waiting for the broker. While offline, retained publishes coalesce per topic
   * (never dropped) and only non-retained ones (events) count: beyond it the oldest is dropped.
   */
  maxQueuedPublishes?: number;
  /** For the throttle of the "dropped events" warning; default the system clock. */
  clock?: Clock;
  /** How long close() waits for in-flight publishes (the caller's `offline`) before cutting the socket. */
  closeTimeoutMs?: number;
  logger: Logger;
}

export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'refused' | 'closed';

export interface MqttConnectionEvents {
  /** After every CONNACK (first and each reconnect), once our subscriptions are back in place. */
  connected: [];
  disconnected: [];
  /** `retained`: delivered from the broker's store, not published just now. */
  message: [topic: string, payload: Buffer, retained: boolean];
  /** The broker refused the credentials; we keep retrying at the reconnect period. */
  refused: [reason: string];
}

export interface MqttConnectionCounters {
  published: number;
  received: number;
  reconnects: number;
  publishFailures: number;
  queued: number;
}

/** The broker refused MQTT 5 and mqtt.protocol_version says not to fall back to 3.1.1. */
export class MqttProtocolError extends Error {
  constructor(
    message: string,
    readonly reasonCode: number,
  ) {
    super(message);
    this.name = 'MqttProtocolError';
  }
}

/** The broker answered CONNACK with an authentication/authorization failure. */
export class MqttAuthError extends Error {
  constructor(
    message: string,
    readonly reasonCode: number,
  ) {
    super(message);
    this.name = 'MqttAuthError';
  }
}

// CONNACK codes meaning "your credentials are not accepted": 3.1.1 (4, 5) and 5.0 (134, 135, 138, 140).
const AUTH_REASON_CODES = new Set([4, 5, 134, 135, 138, 140]);
// CONNACK codes refusing the protocol level we asked for: a 3.1.1 broker answers 1 ("unacceptable
// protocol version"), a broker that parses MQTT 5 but will not speak it answers 0x84.
const PROTOCOL_REFUSED_CODES = new Set([1, 0x84]);
// MQTT 5 DISCONNECT reason: a client with the same client id connected.
const SESSION_TAKEN_OVER = 0x8e;
// While refused, repeat the error line every this many attempts rather than on each one.
const REFUSED_LOG_EVERY = 12;

export class MqttConnection extends TypedEmitter<MqttConnectionEvents> {
  private readonly options: MqttConnectionOptions;
  private readonly log: Logger;
  private client: MqttClient | undefined;
  // Starts at 5 unless configured 3.1.1; drops to 4 for good once an 'auto' connection was refused.
  private level: MqttProtocolLevel;
  private currentState: ConnectionState = 'idle';
  private error: string | undefined;
  private connectionGeneration = 0;
  private readonly topics = new Set<string>();
  private readonly pending: PendingPublishes;
  private readonly offline: OfflinePublishes;
  private readonly dropWarnings: LogThrottle;
  private readonly stats = { published: 0, received: 0, reconnects: 0, publishFailures: 0 };
  private failureStreak = 0;
  private firstConnect: { resolve(): void; reject(err: Error): void } | undefined;
  private closing: Promise<void> | undefined;

  constructor(options: MqttConnectionOptions) {
    super();
    this.options = options;
    const limit = options.maxQueuedPublishes ?? 1000;
    this.pending = new PendingPublishes(limit);
    this.log = options.logger.child({ component: 'mqtt', broker: redactUrl(options.url) });
    this.dropWarnings = new LogThrottle(options.clock ?? systemClock);
    this.offline = new OfflinePublishes(limit, (topic) => {
      const dropped = this.dropWarnings.take('dropped');
      if (dropped !== null) {
        this.log.warn(
          { dropped, limit, lastTopic: topic },
          'MQTT broker unreachable: publish queue full, dropping the oldest events (states are kept per topic)',
        );
      }
    });
    this.level = options.protocolVersion === '3.1.1' ? 4 : 5;
  }

  /**
   * The MQTT protocol level this connection speaks (or is trying): 5, or 4 (3.1.1) when configured so
   * or after an 'auto' connection found a broker that refuses 5 (kept until the process restarts).
   */
  get protocolVersion(): MqttProtocolLevel {
    return this.level;
  }

  get state(): ConnectionState {
    return this.currentState;
  }

  /** Why the last attempt failed (refused credentials, unreachable broker), cleared on success. */
  get lastError(): string | undefined {
    return this.error;
  }

  /** Increments on every successful (re)connect; lets caches tell that the broker session is new. */
  get generation(): number {
    return this.connectionGeneration;
  }

  get isConnected(): boolean {
    return this.currentState === 'connected';
  }

  counters(): MqttConnectionCounters {
    return { ...this.stats, queued: this.pending.size + this.offline.size };
  }

  /**
   * Start connecting. Resolves on the first CONNACK; rejects with MqttAuthError if the broker refuses
   * the credentials (retries continue in the background) or if close() is called first. An unreachable
   * broker does not reject: the connection keeps retrying, as the broker may simply start later.
   */
  connect(): Promise<void> {
    if (this.client) return Promise.reject(new Error('MqttConnection.connect() was already called'));
    if (this.closing) return Promise.reject(new Error('MQTT connection is closed'));
    const o = this.options;
    const clientOptions: IClientOptions = {
      clientId: o.clientId,
      protocolVersion: this.level,
      // Clean start, and at MQTT 5 a session that ends with the connection (expiry 0): we subscribe
      // again ourselves after every connect, so a kept session would only replay stale QoS 1 traffic.
      clean: true,
      ...(this.level === 5 ? { properties: { sessionExpiryInterval: 0 } } : {}),
      keepalive: o.keepaliveS,
      reconnectPeriod: o.reconnectPeriodMs,
      connectTimeout: o.connectTimeoutMs ?? 10_000,
      // Retry after a refused CONNACK too: credentials may be fixed on the broker side.
      reconnectOnConnackError: true,
      // We re-subscribe ourselves on every connect (see onConnect); mqtt.js would do it as well and
      // also replay a SUBSCRIBE queued while offline, subscribing twice.
      resubscribe: false,
      will: {
        topic: o.will.topic,
        payload: toBuffer(o.will.payload),
        qos: o.will.qos,
        retain: o.will.retain,
      },
      ...(o.username !== undefined ? { username: o.username } : {}),
      ...(o.password !== undefined ? { password: o.password } : {}),
      ...(o.tls?.ca !== undefined ? { ca: o.tls.ca } : {}),
      ...(o.tls?.cert !== undefined ? { cert: o.tls.cert } : {}),
      ...(o.tls?.key !== undefined ? { key: o.tls.key } : {}),
      ...(o.tls?.rejectUnauthorized !== undefined ? { rejectUnauthorized: o.tls.rejectUnauthorized } : {}),
    };
    const promise = new Promise<void>((resolve, reject) => {
      this.firstConnect = { resolve, reject };
    });
    this.currentState = 'connecting';
    this.log.info({ clientId: o.clientId }, 'connecting to MQTT broker');
    const client = connect(o.url, clientOptions);
    this.client = client;
    client.on('connect', () => this.onConnect(client));
    client.on('close', () => this.onClose());
    client.on('reconnect', () => {
      if (this.currentState !== 'refused') this.currentState = 'reconnecting';
    });
    client.on('error', (err) => this.onError(client, err));
    // MQTT 5 brokers say why they drop us; 3.1.1 brokers just close the socket.
    client.on('disconnect', (packet) =>
      this.onBrokerDisconnect(packet.reasonCode ?? 0, packet.properties?.reasonString),
    );
    client.on('message', (topic, payload, packet) => {
      this.stats.received++;
      this.emit('message', topic, payload, packet.retain === true);
    });
    return promise;
  }

  /**
   * Publish; settles when the message is handed to the broker (QoS 0) or acknowledged (QoS 1/2).
   * While offline the message waits (see OfflinePublishes: retained ones coalesce per topic and
   * resolve when superseded, events are bounded) and goes out after the reconnect.
   */
  publish(
    topic: string,
    payload: string | Buffer,
    options: { retain?: boolean; qos?: QoS } = {},
  ): Promise<void> {
    const client = this.client;
    if (this.closing) return Promise.reject(new Error(`MQTT connection is closed; not publishing ${topic}`));
    if (!client) return Promise.reject(new Error(`MQTT connection not started; not publishing ${topic}`));
    const message: HeldPublish = { topic, payload, qos: options.qos ?? 0, retain: options.retain ?? false };
    // Not handed to mqtt.js while offline: its own queue would keep every stale state.
    const sent = this.isConnected ? this.send(client, message) : this.offline.hold(message);
    return sent.then(
      () => {
        this.stats.published++;
      },
      (err: unknown) => {
        this.stats.publishFailures++;
        throw err;
      },
    );
  }

  private send(client: MqttClient, m: HeldPublish, unbounded = false): Promise<void> {
    return this.pending.track(
      m.topic,
      (done) => client.publish(m.topic, m.payload, { qos: m.qos, retain: m.retain }, (err) => done(err)),
      unbounded,
    );
  }

  /**
   * Subscribe (QoS 1). Topics are remembered and subscribed again after every reconnect. Resolves
   * once the broker granted them, or at once while offline (they go out with the next connect).
   */
  async subscribe(topics: string | string[]): Promise<void> {
    if (this.closing) throw new Error('MQTT connection is closed');
    const fresh = (Array.isArray(topics) ? topics : [topics]).filter((t) => !this.topics.has(t));
    if (fresh.length === 0) return;
    for (const t of fresh) this.topics.add(t);
    const client = this.client;
    if (!client || !this.isConnected) return;
    try {
      await this.sendSubscribe(client, fresh);
    } catch (err) {
      // Lost the connection mid-way: onConnect subscribes everything again.
      if (!this.isConnected) return;
      throw err;
    }
  }

  /**
   * Disconnect cleanly (a DISCONNECT, so the broker does not publish the will). Publishes nothing
   * itself: the caller publishes its `offline` first; we wait for that to go out, up to closeTimeoutMs.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    const wasConnected = this.isConnected;
    this.currentState = 'closed';
    this.firstConnect?.reject(new Error('MQTT connection closed before it was established'));
    this.firstConnect = undefined;
    const client = this.client;
    if (client) {
      const timeoutMs = this.options.closeTimeoutMs ?? 2000;
      const drained = wasConnected ? await this.pending.drain(timeoutMs) : true;
      // Graceful DISCONNECT when we can; otherwise cut the socket (the broker then sends the will).
      await withTimeout(client.endAsync(!(wasConnected && drained)), timeoutMs).catch(() =>
        client.stream?.destroy(),
      );
      client.removeAllListeners();
      // Swallow late socket errors after we stopped caring.
      client.on('error', () => {});
    }
    const closedErr = new Error('MQTT connection closed before the message was sent');
    this.offline.failAll(closedErr);
    this.pending.failAll(closedErr);
    this.log.info(this.counters(), 'MQTT connection closed');
  }

  private onConnect(client: MqttClient): void {
    if (this.closing) return;
    const reconnect = this.connectionGeneration > 0;
    this.connectionGeneration++;
    const generation = this.connectionGeneration;
    if (reconnect) this.stats.reconnects++;
    // Small request/response packets: without TCP_NODELAY, Nagle + delayed ACK adds ~40 ms per reply.
    (client.stream as { setNoDelay?: (noDelay: boolean) => void }).setNoDelay?.(true);
    this.currentState = 'connected';
    this.error = undefined;
    this.failureStreak = 0;
    this.log.info({ reconnect }, reconnect ? 'reconnected to MQTT broker' : 'connected to MQTT broker');
    if (this.offline.size > 0) {
      this.log.info(
        { held: this.offline.size, superseded: this.offline.superseded },
        'sending what was published while offline',
      );
      this.offline.flush((m) => this.send(client, m, true));
    }
    const topics = [...this.topics];
    const resubscribed = topics.length > 0 ? this.sendSubscribe(client, topics) : Promise.resolve();
    resubscribed
      .catch((err: unknown) => this.log.error({ err: errorText(err), topics }, 'could not subscribe'))
      .finally(() => {
        // Skip if the connection dropped meanwhile; the next CONNACK will announce itself.
        if (generation !== this.connectionGeneration || !this.isConnected) return;
        this.firstConnect?.resolve();
        this.firstConnect = undefined;
        this.emit('connected');
      });
  }

  private onClose(): void {
    if (this.closing) return;
    if (this.currentState === 'connected') {
      this.currentState = 'reconnecting';
      this.log.warn(
        { retryMs: this.options.reconnectPeriodMs },
        'lost connection to MQTT broker; reconnecting',
      );
      this.emit('disconnected');
    }
  }

  private onBrokerDisconnect(code: number, reasonString: string | undefined): void {
    if (this.closing) return;
    const reason =
      reasonString ?? (ReasonCodes as Record<number, string | undefined>)[code] ?? 'no reason given';
    this.error = `broker disconnected us: ${reason.toLowerCase()} (reason code ${code})`;
    this.log.warn(
      { reasonCode: code, reason },
      code === SESSION_TAKEN_OVER
        ? 'MQTT broker disconnected us: another client connected with our client id (mqtt.client_id)'
        : 'MQTT broker disconnected us',
    );
  }

  private onError(client: MqttClient, err: Error & { code?: unknown }): void {
    if (this.closing) return;
    // mqtt.js says "Connection refused: Not authorized"; keep just the reason.
    const text = errorText(err).replace(/^Connection refused: /, '');
    const protocolRefused =
      this.level === 5 && typeof err.code === 'number' && PROTOCOL_REFUSED_CODES.has(err.code);
    if (protocolRefused && (this.options.protocolVersion ?? 'auto') === 'auto') {
      this.fallBackTo311(client, err.code as number);
      return;
    }
    this.failureStreak++;
    this.error = protocolRefused ? `broker refused MQTT 5 (${text.toLowerCase()})` : text;
    if (protocolRefused) {
      if (this.failureStreak === 1 || this.failureStreak % REFUSED_LOG_EVERY === 0) {
        this.log.error(
          { reason: text, attempts: this.failureStreak, retryMs: this.options.reconnectPeriodMs },
          'MQTT broker refused MQTT 5 and mqtt.protocol_version is 5; set it to auto or 3.1.1 to use this broker. Still retrying.',
        );
      }
      this.firstConnect?.reject(
        new MqttProtocolError(
          `MQTT broker refused MQTT 5: ${text.toLowerCase()} (code ${err.code}); mqtt.protocol_version is 5`,
          err.code as number,
        ),
      );
      this.firstConnect = undefined;
      return;
    }
    if (typeof err.code === 'number' && AUTH_REASON_CODES.has(err.code)) {
      const firstTime = this.currentState !== 'refused';
      this.currentState = 'refused';
      if (firstTime || this.failureStreak % REFUSED_LOG_EVERY === 0) {
        this.log.error(
          { reason: text, attempts: this.failureStreak, retryMs: this.options.reconnectPeriodMs },
          'MQTT broker refused our credentials; check mqtt.username/password. Still retrying.',
        );
      }
      this.emit('refused', text);
      this.firstConnect?.reject(
        new MqttAuthError(
          `MQTT broker refused the connection: ${text.toLowerCase()} (code ${err.code})`,
          err.code,
        ),
      );
      this.firstConnect = undefined;
      return;
    }
    if (this.failureStreak === 1) {
      this.log.warn(
        { reason: text, retryMs: this.options.reconnectPeriodMs },
        'MQTT connection problem; retrying',
      );
    } else {
      this.log.debug({ reason: text, attempts: this.failureStreak }, 'MQTT connection still failing');
    }
  }

  /**
   * The broker refused MQTT 5: speak 3.1.1 from now on (this connection's whole life) and retry at once
   * rather than after the reconnect period.
   */
  private fallBackTo311(client: MqttClient, code: number): void {
    this.level = 4;
    // mqtt.js reads these on each connect, building the CONNECT and the packet parser from them.
    client.options.protocolVersion = 4;
    delete client.options.properties;
    this.log.warn(
      { reasonCode: code, protocolVersion: '3.1.1' },
      `MQTT broker ${redactUrl(this.options.url)} does not speak MQTT 5; using MQTT 3.1.1. Home Assistant 2027.1 and later needs MQTT 5: upgrade the broker (e.g. Mosquitto 1.6 or later).`,
    );
    // Wait for the refused socket to close: mqtt.js's close handling would otherwise arm its reconnect
    // timer again and later reconnect a working connection. Keep the stores: they hold QoS 1
    // publishes queued before the first connect.
    const refused = client.stream;
    refused.once('close', () => {
      // A short reconnect period may have started the next attempt already.
      if (this.closing || client.stream !== refused) return;
      client.reconnect({ incomingStore: client.incomingStore, outgoingStore: client.outgoingStore });
    });
  }

  private async sendSubscribe(client: MqttClient, topics: string[]): Promise<void> {
    // At MQTT 5 mqtt.js subscribes with rap (retain as published) off, as 3.1.1 behaves: the broker
    // sets `retain` only on messages sent from its store, which is what our `retained` means.
    const granted = await client.subscribeAsync(topics, { qos: 1 });
    // Failure codes: 0x80 at 3.1.1; 0x80 and above at MQTT 5.
    const denied = granted.filter((g) => g.qos >= 0x80).map((g) => g.topic);
    if (denied.length > 0) throw new Error(`broker refused subscription to ${denied.join(', ')}`);
  }
}

function toBuffer(payload: string | Buffer): Buffer {
  return typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Drop user:password from a URL before it goes into a log line. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return '(invalid url)';
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    timer.unref();
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}
