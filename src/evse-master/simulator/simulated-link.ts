/**
 * An in-process Transport to a SimulatedBs20, standing in for the BLE link: writes go to the
 * charger's reassembler (any cut is fine), its byte stream arrives as `data` events cut into
 * notifications, and a drop on the charger's side is a `disconnect` event. Like BleTransport, one
 * object serves many connections: after a disconnect or close(), connect() starts afresh.
 */
import { TypedEmitter } from '../../core/emitter.js';
import {
  type Transport,
  TransportError,
  type TransportEvents,
  type TransportInfo,
} from '../transports/transport.js';
import type { SimulatedBs20, SimulatorPeer } from './simulated-bs20.js';

export class SimulatedBleLink implements Transport {
  readonly events = new TypedEmitter<TransportEvents>();
  private peer: SimulatorPeer | null = null;
  private connecting = false;

  constructor(readonly simulator: SimulatedBs20) {}

  get connected(): boolean {
    return this.peer !== null;
  }

  async connect(signal?: AbortSignal): Promise<TransportInfo> {
    if (this.peer) throw new TransportError('connect_failed', 'already connected');
    if (this.connecting) throw new TransportError('connect_failed', 'a connect is already in progress');
    this.connecting = true;
    try {
      // Resolve asynchronously, as a real link would.
      await Promise.resolve();
      if (signal?.aborted) throw new TransportError('closed', 'connect aborted', { cause: signal.reason });
      const peer: SimulatorPeer = {
        deliver: (chunk) => {
          if (this.peer === peer) this.events.emit('data', chunk);
        },
        dropped: (reason) => {
          if (this.peer !== peer) return;
          this.peer = null;
          this.events.emit('disconnect', reason);
        },
      };
      const info = this.simulator.connectPeer(peer);
      this.peer = peer;
      return info;
    } finally {
      this.connecting = false;
    }
  }

  async write(bytes: Uint8Array): Promise<void> {
    const peer = this.peer;
    if (!peer) throw new TransportError('closed', 'simulated link is not connected');
    // A copy: the caller may reuse its buffer.
    this.simulator.receiveFromPeer(peer, bytes.slice());
  }

  async close(): Promise<void> {
    const peer = this.peer;
    if (!peer) return;
    this.peer = null;
    this.simulator.disconnectPeer(peer);
  }
}

/** Convenience for wiring code: a fresh transport to `simulator`. */
export function createSimulatedTransport(simulator: SimulatedBs20): SimulatedBleLink {
  return new SimulatedBleLink(simulator);
}
