/**
 * Loaded with `--import` into a daemon started by a test, after tsx. A real BS20 keeps charging while
 * the daemon is killed; the in-process simulator would die with it. With
 * OUTSIDE_CHARGER_ADDRESS=<host>:<port> set, every `transport: simulated` link is carried over TCP
 * to a SimulatedBs20 in the test process (outside-charger.ts): the daemon's own transport, session
 * and charger code run unchanged, only the radio is a socket. A socket that closes is a dropped link.
 */
import { connect, type Socket } from 'node:net';
import { SimulatedBs20, type SimulatorPeer } from '../../src/evse-master/simulator/simulated-bs20.js';
import type { TransportInfo } from '../../src/evse-master/transports/transport.js';

const address = process.env.OUTSIDE_CHARGER_ADDRESS;
if (address) {
  const [host = '127.0.0.1', port = '0'] = address.split(':');
  const links = new Map<SimulatorPeer, Socket>();
  const sim = SimulatedBs20.prototype;

  sim.connectPeer = function connectPeer(this: SimulatedBs20, peer: SimulatorPeer): TransportInfo {
    const socket = connect({ host, port: Number(port), noDelay: true });
    links.set(peer, socket);
    socket.on('data', (chunk: Buffer) => peer.deliver(new Uint8Array(chunk)));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (links.get(peer) !== socket) return;
      links.delete(peer);
      peer.dropped('the charger dropped the link');
    });
    return {
      description: `simulated BS20 outside the daemon (${address})`,
      address: null,
      localName: this.localName,
      rssiDbm: -60,
    };
  };
  sim.receiveFromPeer = (peer: SimulatorPeer, bytes: Uint8Array): void => {
    links.get(peer)?.write(bytes);
  };
  sim.disconnectPeer = (peer: SimulatorPeer): void => {
    const socket = links.get(peer);
    links.delete(peer);
    socket?.destroy();
  };
}
