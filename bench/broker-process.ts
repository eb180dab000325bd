/**
 * One MQTT broker in its own process, for the broker benchmark: the embedded broker as the daemon
 * starts it (aedes 2), or aedes 1.2 when it is installed under the alias `aedes-1` (the broker
 * before the MQTT 5 move, kept only to measure against). Prints `{"port":N}` once listening, stops
 * on SIGTERM. Run in its own process so the broker's CPU is not mixed with the clients'.
 */
import { createServer } from 'node:net';
import { silentLogger } from '../src/log.js';
import { startEmbeddedBroker } from '../src/mqtt/embedded-broker.js';

type Stop = () => Promise<void>;

async function startCurrent(): Promise<{ port: number; stop: Stop }> {
  const broker = await startEmbeddedBroker({
    host: '127.0.0.1',
    port: 0,
    allowAnonymous: true,
    logger: silentLogger(),
  });
  return { port: broker.port, stop: () => broker.close() };
}

/** aedes 1.2, started the way the daemon started it before (only for the comparison). */
async function startAedes1(): Promise<{ port: number; stop: Stop }> {
  const moduleName = 'aedes-1';
  const { Aedes } = (await import(moduleName)) as {
    Aedes: {
      createBroker(): Promise<{ handle(socket: unknown): void; close(cb: () => void): void }>;
    };
  };
  const broker = await Aedes.createBroker();
  const server = createServer((socket) => {
    socket.setNoDelay(true);
    broker.handle(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    stop: async () => {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const which = process.argv[2] ?? 'current';
const started = which === 'aedes-1' ? await startAedes1() : await startCurrent();
process.stdout.write(`${JSON.stringify({ port: started.port })}\n`);
process.once('SIGTERM', () => {
  void started.stop().finally(() => process.exit(0));
});
