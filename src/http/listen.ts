/**
 * Binding the server with errors a user can act on, and closing it without waiting on idle
 * keep-alive clients.
 */
import type { Server } from 'node:http';

export function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      const why =
        err.code === 'EADDRINUSE'
          ? 'the port is already in use (another chargebridge or service?); change http.port'
          : err.code === 'EACCES'
            ? 'permission denied (ports below 1024 need privileges); change http.port'
            : err.code === 'EADDRNOTAVAIL'
              ? 'this machine has no such address; change http.host'
              : err.message;
      reject(new Error(`http: cannot listen on ${host}:${port}: ${why}`));
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
