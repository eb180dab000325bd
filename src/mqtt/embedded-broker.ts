/**
 * An MQTT broker inside the daemon (aedes 2: MQTT 5 and 3.1.1 on one port) for installs without
 * Mosquitto: logins (broker-accounts.ts), bounds on retained messages (retained-bounds.ts), and
 * retained messages kept on disk across restarts (retained-store.ts).
 *
 * A retained publish over the bounds is never kept. What the publisher sees:
 * - MQTT 5 at QoS 1/2: PUBACK/PUBREC reason code 0x87 (Not authorized) with a reason string that
 *   says which bound (aedes 2.0.0-beta.1 always answers a refused publish with 0x87; it has no way
 *   to send 0x97 Quota exceeded or 0x95 Packet too large from the hook). The message goes nowhere.
 * - MQTT 5 at QoS 0: dropped, the connection stays up (there is no ack to carry a reason).
 * - MQTT 3.1.1: 3.1.1 can only refuse a publish by closing the connection, and a client then sends
 *   the same QoS 1 message again on reconnect, for ever. So it is acknowledged as usual and
 *   delivered to current subscribers without the retain flag, but not kept.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { Aedes, type Client, type PublishPacket } from 'aedes';
import { type Clock, systemClock } from '../core/clock.js';
import { LogThrottle } from '../core/log-throttle.js';
import { listenError } from '../core/port-in-use.js';
import { UnsavedDataError } from '../core/unsaved-data.js';
import type { Logger } from '../log.js';
import { accountChecker, type BrokerAccount } from './broker-accounts.js';
import { RetainedBounds, type RetainedRefusal } from './retained-bounds.js';
import { type QoS, RetainedStore } from './retained-store.js';

export type { BrokerAccount } from './broker-accounts.js';

export interface EmbeddedBrokerOptions {
  host: string;
  /** 0 picks a free port; read the real one from the result. */
  port: number;
  /** Logins any of which may connect. */
  accounts?: readonly BrokerAccount[];
  /** Let clients in that give no user name and no password. Default false. */
  allowAnonymous?: boolean;
  /** One more account, for callers still giving a single login. */
  username?: string;
  password?: string;
  /** Largest retained payload kept, in bytes (mqtt.embedded_broker.retained_max_message_bytes). */
  retainedMaxMessageBytes?: number;
  /** Largest total of retained topics + payloads, in bytes (…retained_max_total_bytes). */
  retainedMaxTotalBytes?: number;
  /** Retained messages are kept across restarts: this file and a journal next to it. */
  persistFile?: string;
  clock?: Clock;
  logger: Logger;
}

export interface EmbeddedBroker {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
  clientCount(): number;
  /** Bytes of retained topics + payloads the broker holds (what retainedMaxTotalBytes bounds). */
  retainedBytes(): number;
}

const DEFAULT_MAX_MESSAGE_BYTES = 1_048_576;
const DEFAULT_MAX_TOTAL_BYTES = 67_108_864;
const SYS_PREFIX = '$SYS';
/** Topic aliases a client may set up on its publishes; 0 would refuse every alias. */
const TOPIC_ALIAS_MAXIMUM = 10;

export async function startEmbeddedBroker(options: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const { logger } = options;
  const clock = options.clock ?? systemClock;
  const log = logger.child({ component: 'embedded-broker' });
  const accounts = [...(options.accounts ?? [])];
  if (options.username !== undefined || options.password !== undefined) {
    accounts.push({ username: options.username ?? '', password: options.password ?? '' });
  }
  const allowAnonymous = options.allowAnonymous ?? false;
  const bounds = new RetainedBounds({
    maxMessageBytes: options.retainedMaxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
    maxTotalBytes: options.retainedMaxTotalBytes ?? DEFAULT_MAX_TOTAL_BYTES,
  });
  const refusals = new LogThrottle(clock);
  const store = options.persistFile
    ? new RetainedStore({ path: options.persistFile, logger: log, clock })
    : undefined;

  const refuse = (client: Client | null, packet: PublishPacket, refusal: RetainedRefusal) => {
    const key = client?.id ?? '(broker)';
    const count = refusals.take(key);
    if (count === null) return;
    log.warn(
      { clientId: client?.id, topic: packet.topic, reason: refusal.kind, count },
      `refused to keep a retained message: ${refusal.message}`,
    );
  };

  const broker = await Aedes.createBroker({
    authenticate: accountChecker(accounts, allowAnonymous),
    // Clients may use topic aliases for their publishes (MQTT 5); a small table per client.
    topicAliasMaximum: TOPIC_ALIAS_MAXIMUM,
    authorizePublish: (client, packet, callback) => {
      // Replacing aedes' default hook: keep its one rule, clients may not publish to $SYS.
      if (packet.topic.startsWith(SYS_PREFIX)) return callback(new Error(`${SYS_PREFIX} topic is reserved`));
      // Wills pass here too. aedes 2.0.0-beta.1 forwards a will with its Will Delay Interval, a
      // property MQTT 5 forbids in PUBLISH: paho (Home Assistant's client) drops its connection on it.
      dropWillOnlyProperties(packet);
      if (!packet.retain) return callback(null);
      const size = payloadBytes(packet.payload);
      const refusal = bounds.check(packet.topic, size);
      if (!refusal) {
        // Counted now, not when stored, so a burst from several clients cannot overshoot.
        bounds.record(packet.topic, size);
        return callback(null);
      }
      refuse(client, packet, refusal);
      if (client?.version === 5 && packet.qos > 0) return callback(new Error(refusal.message));
      packet.retain = false;
      callback(null);
    },
  });

  // Listen before touching the retained files: a second instance on the same data_dir stops here.
  // Connections made while the retained messages are restored wait, so none misses one.
  let restoring: Socket[] | undefined = [];
  const dropEarly = (socket: Socket) => () => socket.destroy();
  const server = createServer((socket) => {
    socket.setNoDelay(true);
    if (!restoring) {
      broker.handle(socket);
      return;
    }
    socket.on('error', dropEarly(socket));
    restoring.push(socket);
  });
  try {
    await listen(server, options.host, options.port);
  } catch (err) {
    await closeBroker(broker);
    throw await listenError(err as NodeJS.ErrnoException, {
      what: 'mqtt',
      host: options.host,
      port: options.port,
      portKey: 'mqtt.embedded_broker.port',
      hostKey: 'mqtt.embedded_broker.host',
    });
  }

  if (store) {
    try {
      const restored = await store.load();
      for (const m of restored) {
        bounds.record(m.topic, m.payload.length);
        await publishRetained(broker, m.topic, m.payload, m.qos);
      }
      if (restored.length > 0) log.info({ count: restored.length }, 'restored retained messages');
    } catch (err) {
      for (const socket of restoring) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await closeBroker(broker);
      await store.close();
      throw err;
    }
    const limit = options.retainedMaxTotalBytes ?? DEFAULT_MAX_TOTAL_BYTES;
    if (bounds.totalBytes() > limit) {
      log.warn(
        { bytes: bounds.totalBytes(), limit },
        'the retained messages kept from before are over mqtt.embedded_broker.retained_max_total_bytes; new retained topics are refused until some are cleared',
      );
    }
  }
  // What aedes really stored (restored messages and wills included), after the hook's decision.
  // Registered after the restore so replaying the file does not write it again.
  broker.on('publish', (packet) => {
    if (!packet.retain || packet.topic.startsWith(SYS_PREFIX)) return;
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    bounds.record(packet.topic, payload.length);
    store?.set({ topic: packet.topic, payload, qos: packet.qos as QoS });
  });

  broker.on('client', (client) =>
    log.debug({ clientId: client.id, remote: remoteOf(client) }, 'client connected'),
  );
  broker.on('clientDisconnect', (client) => {
    refusals.forget(client.id);
    log.debug({ clientId: client.id }, 'client disconnected');
  });
  // aedes reports a refused CONNECT (bad credentials) as a clientError on a client that never connected.
  const onClientError = (client: Client, err: Error) => {
    if (client.connected) log.debug({ clientId: client.id, reason: err.message }, 'client error');
    else log.info({ clientId: client.id, remote: remoteOf(client), reason: err.message }, 'client refused');
  };
  broker.on('clientError', onClientError);
  broker.on('connectionError', onClientError);

  const waiting = restoring;
  restoring = undefined;
  for (const socket of waiting) {
    socket.removeAllListeners('error');
    if (!socket.destroyed) broker.handle(socket);
  }
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  log.info(
    {
      host: options.host,
      port,
      accounts: accounts.length,
      allowAnonymous,
      persist: options.persistFile,
    },
    'started',
  );

  let closing: Promise<void> | undefined;
  return {
    host: options.host,
    port,
    clientCount: () => broker.connectedClients,
    retainedBytes: () => bounds.totalBytes(),
    close: () => {
      closing ??= (async () => {
        const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        await closeBroker(broker);
        await serverClosed;
        await store?.close();
        log.info({ port }, 'stopped');
        // A stop must not lose data silently: the daemon exits non-zero and says what is missing.
        const unsaved = store?.unsaved() ?? [];
        if (unsaved.length > 0) throw new UnsavedDataError('the retained message store', unsaved);
      })();
      return closing;
    },
  };
}

function payloadBytes(payload: PublishPacket['payload']): number {
  return typeof payload === 'string' ? Buffer.byteLength(payload, 'utf8') : payload.length;
}

function remoteOf(client: Client): string | undefined {
  const conn = client.conn as { remoteAddress?: string; remotePort?: number };
  return conn.remoteAddress ? `${conn.remoteAddress}:${conn.remotePort}` : undefined;
}

function publishRetained(broker: Aedes, topic: string, payload: Buffer, qos: QoS): Promise<void> {
  return new Promise((resolve, reject) => {
    broker.publish({ cmd: 'publish', topic, payload, qos, retain: true, dup: false }, (err) =>
      err ? reject(err) : resolve(),
    );
  });
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closeBroker(broker: Aedes): Promise<void> {
  return new Promise((resolve) => broker.close(() => resolve()));
}

/** Properties that belong to a CONNECT's will and must not travel in the PUBLISH made from it. */
function dropWillOnlyProperties(packet: { properties?: Record<string, unknown> }): void {
  if (packet.properties && 'willDelayInterval' in packet.properties)
    delete packet.properties.willDelayInterval;
}
