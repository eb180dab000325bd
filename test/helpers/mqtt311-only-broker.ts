/**
 * A fake broker that only speaks MQTT 3.1.1, written from the 3.1.1 spec on a plain net.Server, for
 * testing how our client falls back from MQTT 5. It accepts CONNECT at protocol level 4 and refuses
 * any other level with CONNACK; beyond that it answers SUBSCRIBE, UNSUBSCRIBE, PUBLISH (QoS 0/1) and
 * PINGREQ, and forwards publishes to matching subscribers at QoS 0. No retained store, no will, no
 * sessions: just enough for a connect/subscribe/publish round trip.
 */
import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { TypedEmitter } from '../../src/core/emitter.js';

export interface Mqtt311OnlyBrokerOptions {
  /**
   * How a CONNECT at level 5 is refused. 'return-code-1': a real 3.1.1 broker's answer (CONNACK return
   * code 1, "unacceptable protocol version", in 3.1.1 form). 'reason-code-0x84': a broker that parses
   * MQTT 5 but will not speak it (CONNACK in MQTT 5 form, reason 0x84 "unsupported protocol version").
   */
  refuseMqtt5With?: 'return-code-1' | 'reason-code-0x84';
}

export interface Mqtt311OnlyBrokerEvents {
  /** Every CONNECT, with its protocol level byte (4 = 3.1.1, 5 = MQTT 5). */
  connect: [level: number];
  /** Every PUBLISH from a client. */
  publish: [topic: string, payload: Buffer];
}

export class Mqtt311OnlyBroker extends TypedEmitter<Mqtt311OnlyBrokerEvents> {
  /** Protocol level of every CONNECT received, in order. */
  readonly connectLevels: number[] = [];
  private readonly server = createServer((socket) => this.accept(socket));
  private readonly sockets = new Set<Socket>();
  private readonly subscriptions = new Map<Socket, Set<string>>();

  private constructor(private readonly options: Mqtt311OnlyBrokerOptions) {
    super();
  }

  static async start(options: Mqtt311OnlyBrokerOptions = {}): Promise<Mqtt311OnlyBroker> {
    const broker = new Mqtt311OnlyBroker(options);
    broker.server.listen(0, '127.0.0.1');
    await once(broker.server, 'listening');
    return broker;
  }

  get port(): number {
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('fake broker is not listening');
    return address.port;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /** Cut every client's socket without a word, as a network failure would. */
  dropClients(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  async close(): Promise<void> {
    this.dropClients();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('close', () => {
      this.sockets.delete(socket);
      this.subscriptions.delete(socket);
    });
    socket.on('error', () => {});
    let buffered = Buffer.alloc(0);
    let connected = false;
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        const packet = readPacket(buffered);
        if (packet === null) return void socket.destroy();
        if (packet === undefined) return;
        buffered = buffered.subarray(packet.length);
        // The first packet must be CONNECT (3.1.1 section 3.1).
        if (!connected && packet.type !== CONNECT) return void socket.destroy();
        if (packet.type === CONNECT) {
          if (connected) return void socket.destroy();
          connected = this.onConnect(socket, packet.body);
          if (!connected) return;
        } else if (!this.onPacket(socket, packet)) {
          return;
        }
      }
    });
  }

  /** Returns whether the client is now connected. */
  private onConnect(socket: Socket, body: Buffer): boolean {
    // Variable header: protocol name (2-byte length + "MQTT"), then the protocol level byte.
    const nameLength = body.readUInt16BE(0);
    const level = body[2 + nameLength] ?? -1;
    this.connectLevels.push(level);
    this.emit('connect', level);
    if (level === 4) {
      socket.write(Buffer.from([0x20, 0x02, 0x00, 0x00]));
      return true;
    }
    const refusal =
      level === 5 && this.options.refuseMqtt5With === 'reason-code-0x84'
        ? // MQTT 5 CONNACK: flags, reason code, empty properties.
          [0x20, 0x03, 0x00, 0x84, 0x00]
        : [0x20, 0x02, 0x00, 0x01];
    socket.end(Buffer.from(refusal));
    return false;
  }

  /** Returns false when the socket was closed. */
  private onPacket(socket: Socket, packet: Packet): boolean {
    const { type, flags, body } = packet;
    switch (type) {
      case PUBLISH: {
        const qos = (flags >> 1) & 0x03;
        const topicLength = body.readUInt16BE(0);
        const topic = body.subarray(2, 2 + topicLength).toString('utf8');
        let offset = 2 + topicLength;
        if (qos === 1) {
          socket.write(Buffer.from([0x40, 0x02, body[offset] ?? 0, body[offset + 1] ?? 0]));
          offset += 2;
        } else if (qos !== 0) {
          socket.destroy(); // QoS 2 is beyond this fake
          return false;
        }
        const payload = body.subarray(offset);
        this.emit('publish', topic, payload);
        this.forward(topic, payload);
        return true;
      }
      case SUBSCRIBE: {
        const granted: number[] = [];
        const filters = this.subscriptions.get(socket) ?? new Set<string>();
        this.subscriptions.set(socket, filters);
        for (let offset = 2; offset < body.length; ) {
          const length = body.readUInt16BE(offset);
          filters.add(body.subarray(offset + 2, offset + 2 + length).toString('utf8'));
          granted.push(Math.min(body[offset + 2 + length] ?? 0, 1));
          offset += 2 + length + 1;
        }
        socket.write(Buffer.from([0x90, 2 + granted.length, body[0] ?? 0, body[1] ?? 0, ...granted]));
        return true;
      }
      case UNSUBSCRIBE: {
        const filters = this.subscriptions.get(socket);
        for (let offset = 2; offset < body.length; ) {
          const length = body.readUInt16BE(offset);
          filters?.delete(body.subarray(offset + 2, offset + 2 + length).toString('utf8'));
          offset += 2 + length;
        }
        socket.write(Buffer.from([0xb0, 0x02, body[0] ?? 0, body[1] ?? 0]));
        return true;
      }
      case PINGREQ:
        socket.write(Buffer.from([0xd0, 0x00]));
        return true;
      case DISCONNECT:
        socket.end();
        return false;
      default:
        socket.destroy();
        return false;
    }
  }

  private forward(topic: string, payload: Buffer): void {
    const topicBytes = Buffer.from(topic, 'utf8');
    const rest = Buffer.concat([
      Buffer.from([topicBytes.length >> 8, topicBytes.length & 0xff]),
      topicBytes,
      payload,
    ]);
    const packet = Buffer.concat([Buffer.from([0x30]), encodeLength(rest.length), rest]);
    for (const [socket, filters] of this.subscriptions) {
      if ([...filters].some((filter) => topicMatches(filter, topic))) socket.write(packet);
    }
  }
}

const CONNECT = 1;
const PUBLISH = 3;
const SUBSCRIBE = 8;
const UNSUBSCRIBE = 10;
const PINGREQ = 12;
const DISCONNECT = 14;

interface Packet {
  type: number;
  flags: number;
  body: Buffer;
  /** Bytes the whole packet took, fixed header included. */
  length: number;
}

/** One complete packet from the front of `data`; undefined until more bytes arrive, null if malformed. */
function readPacket(data: Buffer): Packet | undefined | null {
  if (data.length < 2) return undefined;
  // Remaining length: up to 4 bytes, 7 bits each, least significant first (3.1.1 section 2.2.3).
  let remaining = 0;
  let multiplier = 1;
  let offset = 1;
  for (;;) {
    const byte = data[offset];
    if (byte === undefined) return undefined;
    remaining += (byte & 0x7f) * multiplier;
    multiplier *= 128;
    offset++;
    if ((byte & 0x80) === 0) break;
    if (offset > 4) return null;
  }
  if (data.length < offset + remaining) return undefined;
  const first = data[0] ?? 0;
  return {
    type: first >> 4,
    flags: first & 0x0f,
    body: data.subarray(offset, offset + remaining),
    length: offset + remaining,
  };
}

function encodeLength(length: number): Buffer {
  const bytes: number[] = [];
  let rest = length;
  do {
    let byte = rest % 128;
    rest = Math.floor(rest / 128);
    if (rest > 0) byte |= 0x80;
    bytes.push(byte);
  } while (rest > 0);
  return Buffer.from(bytes);
}

/** Topic filter matching with `+` (one level) and `#` (the rest). */
function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length || (f[i] !== '+' && f[i] !== t[i])) return false;
  }
  return f.length === t.length;
}
