/**
 * The simulated charger's end of the radio link: one attached peer at a time (§1.2), the inbound
 * reassembler (split writes are fine), the outbound notification stream, and the faults that live
 * on the wire: silence, junk bytes, a corrupted checksum, being out of range.
 */
import { CHARGER_PASSWORD, encodeFrame, type Frame } from '../protocol/frame.js';
import { FrameReassembler } from '../protocol/reassembler.js';
import { TransportError } from '../transports/transport.js';
import { createRandomBytes, NotificationStream } from './notification-stream.js';
import type { SimConfig } from './options.js';

/** What a transport hands the simulator when it connects. */
export interface SimulatorPeer {
  /** One BLE notification of the charger's byte stream. */
  deliver(chunk: Uint8Array): void;
  /** The charger dropped the link (not called when the peer disconnects itself). */
  dropped(reason: string): void;
}

interface ActiveLink {
  peer: SimulatorPeer;
  stream: NotificationStream;
  reassembler: FrameReassembler;
}

export class ChargerWire {
  private link: ActiveLink | null = null;
  private silentUntilMs = Number.NEGATIVE_INFINITY;
  private unreachable = false;
  private corruptNext = false;
  private junkInsideNext: Uint8Array | null = null;
  private readonly randomBytes: (length: number) => Uint8Array;

  constructor(
    private readonly config: SimConfig,
    private readonly onFrame: (frame: Frame) => void,
  ) {
    this.randomBytes = createRandomBytes(config.seed);
  }

  get attached(): boolean {
    return this.link !== null;
  }

  get silent(): boolean {
    return this.config.clock.now() < this.silentUntilMs;
  }

  get isUnreachable(): boolean {
    return this.unreachable;
  }

  /** Throws TransportError: 'not_found' when out of range, 'connect_failed' when a peer is attached. */
  attach(peer: SimulatorPeer, localName: string): void {
    if (this.unreachable) throw new TransportError('not_found', `${localName} is out of range`);
    if (this.link) {
      throw new TransportError(
        'connect_failed',
        `${localName} already has a connection (one central at a time)`,
      );
    }
    this.link = {
      peer,
      stream: new NotificationStream(this.config.notificationSize, (chunk) => peer.deliver(chunk)),
      // A fresh buffer per connection, like the UART bridge after a link reset.
      reassembler: new FrameReassembler(),
    };
  }

  /** Detaches the current peer (queued output is dropped) and returns it. */
  detach(): SimulatorPeer | null {
    const link = this.link;
    if (!link) return null;
    link.stream.close();
    this.link = null;
    return link.peer;
  }

  isAttached(peer: SimulatorPeer): boolean {
    return this.link?.peer === peer;
  }

  receive(peer: SimulatorPeer, bytes: Uint8Array): void {
    const link = this.link;
    if (!link || link.peer !== peer || this.silent) return;
    for (const frame of link.reassembler.push(bytes)) {
      // A frame may drop the link (or close the charger); the rest of the write goes nowhere.
      if (this.link !== link) return;
      this.onFrame(frame);
    }
  }

  /** Encodes and queues one frame; false when nothing can be sent (no link, silent). */
  send(command: number, payload: Uint8Array): boolean {
    const link = this.link;
    if (!link || this.silent) return false;
    let bytes = encodeFrame({
      keyType: 0,
      serial: this.config.serial,
      password: CHARGER_PASSWORD,
      command,
      payload,
    });
    if (this.corruptNext) {
      this.corruptNext = false;
      bytes[bytes.length - 3]! ^= 0xff;
    }
    const junk = this.junkInsideNext;
    if (junk) {
      this.junkInsideNext = null;
      const middle = bytes.length >> 1;
      const spliced = new Uint8Array(bytes.length + junk.length);
      spliced.set(bytes.subarray(0, middle));
      spliced.set(junk, middle);
      spliced.set(bytes.subarray(middle), middle + junk.length);
      bytes = spliced;
    }
    link.stream.push(bytes);
    return true;
  }

  goSilent(durationMs: number): void {
    this.silentUntilMs = Math.max(this.silentUntilMs, this.config.clock.now() + Math.max(0, durationMs));
  }

  garbage(junk: Uint8Array | number, options: { insideNextFrame?: boolean }): Uint8Array {
    if (typeof junk === 'number' && (!Number.isInteger(junk) || junk < 0)) {
      throw new RangeError(`junk length must be a non-negative integer, got ${junk}`);
    }
    const bytes = typeof junk === 'number' ? this.randomBytes(junk) : junk.slice();
    if (options.insideNextFrame) this.junkInsideNext = bytes;
    else if (this.link && !this.silent) this.link.stream.push(bytes);
    return bytes;
  }

  setUnreachable(unreachable: boolean): void {
    this.unreachable = unreachable;
  }

  corruptNextFrame(): void {
    this.corruptNext = true;
  }
}
