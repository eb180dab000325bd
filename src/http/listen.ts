/**
 * Binding the server with errors a user can act on, and closing it without waiting on idle
 * keep-alive clients.
 */
import type { Server } from 'node:http';
import { listenError } from '../core/port-in-use.js';

export function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      void listenError(err, { what: 'http', host, port, portKey: 'http.port', hostKey: 'http.host' }).then(
        reject,
      );
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

export async function closeServer(server: Server, graceMs: number): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const grace = setTimeout(() => server.closeAllConnections(), graceMs);
  grace.unref();
  await closed;
  clearTimeout(grace);
}
