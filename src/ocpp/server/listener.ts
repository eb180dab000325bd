/**
 * The socket the stations connect to: a plain HTTP server (profiles 0 and 1) or HTTPS with TLS 1.2+
 * (profile 2), whose websocket upgrades go to ocpp-rpc. Plain HTTP requests get 426.
 */
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import { listenError } from '../../core/port-in-use.js';
import type { Logger } from '../../log.js';
import type { RpcServer } from '../rpc.js';

export interface ListenOptions {
  rpc: RpcServer;
  host: string;
  port: number;
  /** PEM certificate and key: serve wss. */
  tls: { cert: string | Buffer; key: string | Buffer } | null;
  log: Logger;
}

export async function listenForStations(options: ListenOptions): Promise<Server> {
  const { rpc, tls, log } = options;
  const onRequest = (_req: IncomingMessage, res: ServerResponse) => {
    res
      .writeHead(426, { 'content-type': 'text/plain' })
      .end('OCPP central system: connect with a websocket\n');
  };
  const server = tls
    ? createHttpsServer({ cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2' }, onRequest)
    : createHttpServer(onRequest);
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    void rpc.handleUpgrade(req, socket, head).catch(() => socket.destroy());
  });
  server.on('tlsClientError', (err: Error) => log.debug({ err: err.message }, 'TLS handshake failed'));
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      // Name the key to change and, when it can be found, the program holding the port.
      void listenError(err, {
        what: 'ocpp_server',
        host: options.host,
        port: options.port,
        portKey: 'ocpp_server.port',
        hostKey: 'ocpp_server.host',
      }).then(reject);
    };
    server.once('error', onError);
    server.listen(options.port, options.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  return server;
}
