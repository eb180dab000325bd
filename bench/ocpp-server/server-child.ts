/**
 * One OCPP server in its own process, so its memory is its own: `bare` is ocpp-rpc with minimal
 * handlers, `chargebridge` is our central system with every station configured (a Charger per
 * station, tolerant parsing, state, events). Talks to the bench over IPC.
 */
import { systemClock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/log.js';
import { createRpcServer, handle } from '../../src/ocpp/rpc.js';
import { createUserAuthorizer } from '../../src/ocpp/server/authorizer.js';
import { OcppCentralSystem } from '../../src/ocpp/server/central-system.js';
import type { StationConfig } from '../../src/ocpp/server/station-config.js';
import { TransactionLedger } from '../../src/ocpp/server/transactions.js';
import { type FromServer, type ServerKind, stationIdentity, type ToServer } from './shared.js';

const kind = process.argv[2] as ServerKind;
const stations = Number(process.argv[3]);
const send = (message: FromServer) => process.send?.(message);

async function startBare(): Promise<{ port: number; connected: () => number; stop: () => Promise<void> }> {
  const server = createRpcServer({
    protocols: ['ocpp1.6'],
    strictMode: false,
    pingIntervalMs: 0,
    callConcurrency: 1,
  });
  let connected = 0;
  server.on('client', (client) => {
    connected++;
    client.once('close', () => connected--);
    const now = () => new Date().toISOString();
    handle(client, 'BootNotification', () => ({ status: 'Accepted', currentTime: now(), interval: 300 }));
    handle(client, 'Heartbeat', () => ({ currentTime: now() }));
    handle(client, 'StatusNotification', () => ({}));
    handle(client, 'MeterValues', () => ({}));
  });
  const http = await server.listen(0, '127.0.0.1');
  const address = http.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    connected: () => connected,
    stop: () => server.close({ force: true }),
  };
}

async function startChargebridge(): Promise<{
  port: number;
  connected: () => number;
  stop: () => Promise<void>;
}> {
  const logger = silentLogger();
  const configs: StationConfig[] = Array.from({ length: stations }, (_, i) => ({
    id: `s${i}`,
    identity: stationIdentity(i),
    name: `Station ${i}`,
    password: null,
    maxCurrentA: 16,
    phases: null,
    connectors: 1,
    pingIntervalS: 0,
  }));
  const cs = new OcppCentralSystem({
    host: '127.0.0.1',
    port: 0,
    path: '/ocpp',
    securityProfile: 0,
    unknownStations: 'reject',
    stations: configs,
    heartbeatIntervalS: 300,
    pingIntervalS: 0,
    callTimeoutS: 30,
    ledger: await TransactionLedger.open({ path: null, clock: systemClock, logger }),
    authorizer: createUserAuthorizer({ users: [], defaultIdTag: 'chargebridge', acceptUnknown: true }),
    clock: systemClock,
    logger,
  });
  await cs.start();
  return {
    port: cs.port,
    connected: () => cs.knownStations().filter((s) => s.connected).length,
    stop: () => cs.stop(),
  };
}

async function main(): Promise<void> {
  const server = kind === 'bare' ? await startBare() : await startChargebridge();
  process.on('message', (message: ToServer) => {
    if (message.type === 'memory') {
      (globalThis as { gc?: () => void }).gc?.();
      const usage = process.memoryUsage();
      send({
        type: 'memory',
        rssBytes: usage.rss,
        heapUsedBytes: usage.heapUsed,
        connected: server.connected(),
      });
    } else if (message.type === 'stop') {
      void server.stop().finally(() => process.exit(0));
    }
  });
  send({ type: 'ready', port: server.port });
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
