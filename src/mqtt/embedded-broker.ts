/**
 * An MQTT broker inside the daemon (aedes) for installs without Mosquitto. Optional credentials,
 * retained messages kept on disk across restarts.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../log.js';
import { type QoS, RetainedFile } from './retained-file.js';

export interface EmbeddedBrokerOptions {
  host: string;
  /** 0 picks a free port; read the real one from the result. */
  port: number;
  /** When both are set, every client must present exactly these. */
  username?: string;
  password?: string;
  /** Retained messages are kept in this file across restarts. */
  persistFile?: string;
  persistDebounceMs?: number;
  clock?: Clock;
  logger: Logger;
}

export interface EmbeddedBroker {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
  clientCount(): number;
}

// CONNACK return codes (MQTT 3.1.1); aedes declares them as a const enum we cannot import here.
const BAD_USERNAME_OR_PASSWORD = 4;
const NOT_AUTHORIZED = 5;

export async function startEmbeddedBroker(options: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const { logger } = options;
  const log = logger.child({ component: 'embedded-broker' });
  const retained = options.persistFile
    ? new RetainedFile({
        path: options.persistFile,
        logger: log,
        ...(options.clock ? { clock: options.clock } : {}),
        ...(options.persistDebounceMs !== undefined ? { debounceMs: options.persistDebounceMs } : {}),
      })
    : undefined;

  const broker = await Aedes.createBroker({
    ...(options.username !== undefined || options.password !== undefined
      ? { authenticate: checkCredentials(options.username ?? '', options.password ?? '') }
      : {}),
  });

  if (retained) {
    const restored = await retained.load();
    for (const m of restored) await publishRetained(broker, m.topic, m.payload, m.qos);
    if (restored.length > 0) log.info({ count: restored.length }, 'restored retained messages');
    // Registered after the restore so replaying the file does not schedule a rewrite of it.
    broker.on('publish', (packet) => {
      if (!packet.retain || packet.topic.startsWith('$SYS')) return;
      const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
      retained.set({ topic: packet.topic, payload, qos: packet.qos as QoS });
    });
  }

  broker.on('client', (client) =>
    log.debug({ clientId: client.id, remote: remoteOf(client) }, 'client connected'),
  );
  broker.on('clientDisconnect', (client) => log.debug({ clientId: client.id }, 'client disconnected'));
  // aedes reports a refused CONNECT (bad credentials) as a clientError on a client that never connected.
  const onClientError = (client: Client, err: Error) => {
    if (client.connected) log.debug({ clientId: client.id, reason: err.message }, 'client error');
    else log.info({ clientId: client.id, remote: remoteOf(client), reason: err.message }, 'client refused');
  };
  broker.on('clientError', onClientError);
  broker.on('connectionError', onClientError);

  const server = createServer((socket) => {
    socket.setNoDelay(true);
    broker.handle(socket);
  });
  try {
    await listen(server, options.host, options.port);
  } catch (err) {
    await closeBroker(broker);
    await retained?.flush();
    throw err;
  }
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  log.info(
    { host: options.host, port, auth: Boolean(options.username), persist: options.persistFile },
    'started',
  );

  let closing: Promise<void> | undefined;
  return {
    host: options.host,
    port,
    clientCount: () => broker.connectedClients,
    close: () => {
      closing ??= (async () => {
        const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        await closeBroker(broker);
        await serverClosed;
        await retained?.flush();
        log.info({ port }, 'stopped');
      })();
      return closing;
    },
  };
}

function checkCredentials(username: string, password: string) {
  const wantUser = digest(Buffer.from(username, 'utf8'));
  const wantPassword = digest(Buffer.from(password, 'utf8'));
  return (
    _client: Client,
    givenUser: string | undefined,
    givenPassword: Buffer | undefined,
    done: (error: AuthenticateError | null, success: boolean | null) => void,
  ): void => {
    if (givenUser === undefined && givenPassword === undefined) {
      done(authError('anonymous clients are not allowed', NOT_AUTHORIZED), false);
      return;
    }
    // Compare both fields, always, in constant time over fixed-length digests.
    const userOk = timingSafeEqual(digest(Buffer.from(givenUser ?? '', 'utf8')), wantUser);
    const passwordOk = timingSafeEqual(digest(givenPassword ?? Buffer.alloc(0)), wantPassword);
    if (userOk && passwordOk) done(null, true);
    else done(authError('bad username or password', BAD_USERNAME_OR_PASSWORD), false);
  };
}

function digest(value: Buffer): Buffer {
  return createHash('sha256').update(value).digest();
}

function authError(message: string, returnCode: number): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
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
