/**
 * The test's end of outside-charger-preload.ts: one SimulatedBs20 on the real clock, in the test
 * process, served over TCP on loopback. It outlives every daemon the test starts and kills, like a
 * charger on the wall; the test plugs and unplugs the car on it directly. One link at a time: a new
 * connection replaces one left by a killed daemon.
 */
import { createServer, type Server, type Socket } from 'node:net';
import {
  SimulatedBs20,
  type SimulatedBs20Options,
  type SimulatorPeer,
} from '../../src/evse-master/simulator/index.js';

export class OutsideCharger {
  readonly sim: SimulatedBs20;
  private readonly server: Server;
  private link: { socket: Socket; peer: SimulatorPeer } | null = null;

  private constructor(sim: SimulatedBs20, server: Server) {
    this.sim = sim;
    this.server = server;
  }

  static async start(options: SimulatedBs20Options): Promise<OutsideCharger> {
    const sim = new SimulatedBs20(options);
    const server = createServer({ noDelay: true });
    const charger = new OutsideCharger(sim, server);
    server.on('connection', (socket) => charger.attach(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return charger;
  }

  /** `host:port` for OUTSIDE_CHARGER_ADDRESS. */
  get address(): string {
    const a = this.server.address();
    if (!a || typeof a === 'string') throw new Error('not listening');
    return `127.0.0.1:${a.port}`;
  }

  get linked(): boolean {
    return this.link !== null;
  }

  async close(): Promise<void> {
    this.detach();
    this.sim.close();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private attach(socket: Socket): void {
    // The last daemon was killed and its link not noticed yet: the charger takes the new one.
    this.detach();
    socket.on('error', () => undefined);
    const peer: SimulatorPeer = {
      deliver: (chunk) => socket.write(chunk),
      dropped: () => socket.destroy(),
    };
    try {
      this.sim.connectPeer(peer);
    } catch {
      socket.destroy();
      return;
    }
    this.link = { socket, peer };
    socket.on('data', (bytes: Buffer) => this.sim.receiveFromPeer(peer, new Uint8Array(bytes)));
    socket.on('close', () => {
      if (this.link?.socket !== socket) return;
      this.link = null;
      this.sim.disconnectPeer(peer);
    });
  }

  private detach(): void {
    const link = this.link;
    if (!link) return;
    this.link = null;
    this.sim.disconnectPeer(link.peer);
    link.socket.destroy();
  }
}
