/**
 * The local OCPP 1.6J central system: a websocket server at `ws(s)://host:port<path>/<identity>`,
 * security profile 0 (none), 1 (Basic auth) or 2 (TLS + Basic auth), one OcppStation per identity
 * with at most one live connection (a newer connection replaces the older one), and a policy for
 * stations that are not configured.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../../core/clock.js';
import { TypedEmitter } from '../../core/emitter.js';
import type { Logger } from '../../log.js';
import {
  createRpcServer,
  type Handshake,
  type RpcIssue,
  type RpcServer,
  type RpcServerClient,
  speakOcpp16Errors,
} from '../rpc.js';
import { OCPP16_PROTOCOL } from '../types.js';
import type { IdTagAuthorizer } from './authorizer.js';
import { registerStationHandlers } from './handlers.js';
import {
  judgeHandshake,
  normalisePath,
  type SecurityProfile,
  type UnknownStationPolicy,
} from './handshake.js';
import { listenForStations } from './listener.js';
import { type Admission, OcppStation } from './station.js';
import type { OcppStationCharger } from './station-charger.js';
import { idForIdentity, type StationConfig, StationDirectory } from './station-config.js';
import type { TransactionLedger } from './transactions.js';

export type { SecurityProfile, UnknownStationPolicy } from './handshake.js';

export interface CentralSystemOptions {
  host: string;
  /** 0 picks a free port (tests); read it back from `port` after start(). */
  port: number;
  /** Stations connect to `<path>/<identity>`, e.g. `/ocpp`. */
  path: string;
  securityProfile: SecurityProfile;
  /** PEM certificate and key (profile 2). */
  tls?: { cert: string | Buffer; key: string | Buffer };
  unknownStations: UnknownStationPolicy;
  stations: readonly StationConfig[];
  heartbeatIntervalS: number;
  /** How soon a Pending station boots again. */
  pendingIntervalS?: number;
  /** Server websocket pings; 0 = off. Per-station override in StationConfig. */
  pingIntervalS: number;
  callTimeoutS: number;
  /** Largest websocket frame accepted; bigger frames close the connection (default 64 KiB). */
  maxFrameBytes?: number;
  ledger: TransactionLedger;
  authorizer: IdTagAuthorizer;
  clock: Clock;
  logger: Logger;
}

export type CentralSystemEvents = {
  station_connected: [station: OcppStation];
  station_disconnected: [station: OcppStation];
  /** A connection refused at the handshake (bad password, unknown station, wrong path). */
  connection_refused: [
    info: { identity: string; status: number; reason: string; remoteAddress: string | undefined },
  ];
  /** A station that is not configured connected (pending or accepted by policy). */
  unknown_station: [info: { identity: string; admission: Admission }];
  /** Every websocket frame, raw (only wired for connections made while someone listens: tests, tracing). */
  frame: [frame: { identity: string; outbound: boolean; message: string }];
};

interface ClientSession extends Record<string, unknown> {
  identity: string;
}

export class OcppCentralSystem {
  readonly events = new TypedEmitter<CentralSystemEvents>();
  private readonly o: CentralSystemOptions;
  private readonly log: Logger;
  private readonly directory: StationDirectory;
  private readonly stations = new Map<string, OcppStation>();
  private readonly clients = new Set<RpcServerClient>();
  private readonly warnedIssues = new Set<string>();
  private rpc: RpcServer | null = null;
  private http: Server | null = null;
  private listeningPort = 0;

  constructor(options: CentralSystemOptions) {
    this.o = options;
    this.log = options.logger.child({ component: 'ocpp-server' });
    this.directory = new StationDirectory(options.stations);
    if (options.securityProfile >= 1) {
      const open = options.stations.filter((s) => s.password === null).map((s) => s.id);
      if (open.length > 0)
        throw new Error(
          `security profile ${options.securityProfile} needs a password for station(s) ${open.join(', ')}`,
        );
    }
    if (options.securityProfile === 2 && !options.tls)
      throw new Error('security profile 2 needs a TLS certificate and key');
    // Configured stations exist from the start, so Home Assistant shows them (offline) before they connect.
    for (const entry of this.directory.all())
      this.stations.set(entry.config.identity, this.createStation(entry.config, 'accepted'));
  }

  /** Every connector of every configured station, as core Chargers. */
  chargers(): OcppStationCharger[] {
    return this.configuredStations().flatMap((s) => [...s.chargers]);
  }

  configuredStations(): OcppStation[] {
    return [...this.stations.values()].filter((s) => this.directory.get(s.identity) !== undefined);
  }

  station(identity: string): OcppStation | undefined {
    return this.stations.get(identity);
  }

  get port(): number {
    return this.listeningPort;
  }

  async start(): Promise<void> {
    if (this.rpc) return;
    const o = this.o;
    const rpc = createRpcServer({
      protocols: [OCPP16_PROTOCOL],
      strictMode: false,
      callConcurrency: 1,
      callTimeoutMs: o.callTimeoutS * 1000,
      pingIntervalMs: o.pingIntervalS * 1000,
      respondWithDetailedErrors: false,
      maxBadMessages: 20,
      wssOptions: { maxPayload: o.maxFrameBytes ?? 64 * 1024 },
    });
    rpc.auth((accept, reject, handshake) => this.authenticate(handshake, accept, reject));
    rpc.on('client', (client) => this.onClient(client));
    rpc.on('error', (err) => this.log.warn({ err: String(err) }, 'OCPP server error'));
    rpc.on('upgradeAborted', (info) =>
      this.log.debug(
        { info: String((info as { error?: unknown })?.error ?? info) },
        'websocket upgrade aborted',
      ),
    );
    const http = await listenForStations({
      rpc,
      host: o.host,
      port: o.port,
      tls: o.securityProfile === 2 && o.tls ? o.tls : null,
      log: this.log,
    });
    this.rpc = rpc;
    this.http = http;
    this.listeningPort = (http.address() as AddressInfo).port;
    if (o.securityProfile === 1)
      this.log.warn(
        'security profile 1 sends station passwords unencrypted; use profile 2 (TLS) outside a trusted LAN',
      );
    this.log.info(
      {
        url: `${o.securityProfile === 2 ? 'wss' : 'ws'}://${o.host}:${this.listeningPort}${this.pathPrefix()}/<station>`,
        securityProfile: o.securityProfile,
      },
      'OCPP central system listening',
    );
  }

  async stop(): Promise<void> {
    const rpc = this.rpc;
    const http = this.http;
    this.rpc = null;
    this.http = null;
    if (rpc)
      await rpc.close({ code: 1001, reason: 'central system stopping', force: true }).catch(() => undefined);
    for (const client of this.clients) await client.close({ force: true }).catch(() => undefined);
    if (http) {
      http.closeAllConnections?.();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    }
    await this.o.ledger.flush();
  }

  private pathPrefix(): string {
    return normalisePath(this.o.path);
  }

  private authenticate(
    handshake: Handshake,
    accept: (session?: Record<string, unknown>, protocol?: string) => void,
    reject: (code: number, message: string) => void,
  ): void {
    const { identity } = handshake;
    const verdict = judgeHandshake(handshake, {
      pathPrefix: this.o.path,
      protocols: [OCPP16_PROTOCOL],
      securityProfile: this.o.securityProfile,
      unknownStations: this.o.unknownStations,
      directory: this.directory,
    });
    if (verdict.accept) {
      if (handshake.protocols.size === 0) {
        this.log.warn({ identity }, 'station offers no websocket subprotocol; assuming OCPP 1.6');
      }
      const session: ClientSession = { identity };
      accept(session);
      return;
    }
    const { status, reason } = verdict;
    this.log.warn({ identity, status, reason, from: handshake.remoteAddress }, 'OCPP connection refused');
    this.events.emit('connection_refused', {
      identity,
      status,
      reason,
      remoteAddress: handshake.remoteAddress,
    });
    reject(status, reason);
  }

  private onClient(client: RpcServerClient): void {
    const identity = client.identity;
    let station = this.stations.get(identity);
    if (!station) {
      const admission: Admission = this.o.unknownStations === 'accept' ? 'accepted' : 'pending';
      station = this.createStation(unknownStationConfig(identity), admission);
      this.stations.set(identity, station);
      this.log.warn(
        { identity, admission },
        'a station that is not configured connected; add it to ocpp_server.stations to use it',
      );
      this.events.emit('unknown_station', { identity, admission });
    }
    const configured = this.directory.get(identity)?.config;
    if (configured?.pingIntervalS != null)
      client.reconfigure({ pingIntervalMs: configured.pingIntervalS * 1000 });
    this.clients.add(client);
    registerStationHandlers(client, station, {
      clock: this.o.clock,
      logger: this.log,
      options: {
        onIssue: (issue) => this.onIssue(identity, issue),
        onHandlerError: (action, err) =>
          this.log.error({ identity, action, err: String(err) }, 'OCPP handler failed'),
      },
    });
    if (this.events.listenerCount('frame') > 0) {
      client.on('message', ((m: { message: Buffer | string; outbound: boolean }) => {
        this.events.emit('frame', { identity, outbound: m.outbound, message: m.message.toString() });
      }) as never);
    }
    speakOcpp16Errors(client);
    client.on('badMessage', ((info: { error?: unknown }) => {
      this.log.warn(
        { identity, err: String(info?.error ?? 'unreadable frame') },
        'malformed OCPP frame from station',
      );
    }) as never);
    const previous = station.connected;
    station.attach(client);
    // The newer connection wins; the old one is closed, and its close no longer touches the station.
    for (const other of this.clients) {
      if (other !== client && other.identity === identity) {
        this.log.warn({ identity }, 'station connected again; closing its previous connection');
        void other
          .close({ code: 1000, reason: 'replaced by a newer connection', force: true })
          .catch(() => undefined);
      }
    }
    const s = station;
    client.once('close', () => {
      this.clients.delete(client);
      const wasCurrent = s.isCurrent(client);
      s.detach(client);
      if (wasCurrent) {
        this.log.info({ identity }, 'station disconnected');
        this.events.emit('station_disconnected', s);
      }
    });
    this.log.info({ identity, replaced: previous, protocol: client.protocol }, 'station connected');
    this.events.emit('station_connected', station);
  }

  /** Schema slips are logged once per station and action as a warning, later ones at debug. */
  private onIssue(identity: string, issue: RpcIssue): void {
    const key = `${identity}\u0000${issue.action}\u0000${issue.kind}`;
    const first = !this.warnedIssues.has(key);
    this.warnedIssues.add(key);
    const entry = {
      identity,
      action: issue.action,
      kind: issue.kind,
      code: issue.code,
      problem: issue.message,
    };
    if (first)
      this.log.warn(
        entry,
        'station sent a message that does not follow the OCPP 1.6 schema; tolerated where safe',
      );
    else this.log.debug(entry, 'non-conforming OCPP message');
  }

  private createStation(config: StationConfig, admission: Admission): OcppStation {
    const o = this.o;
    return new OcppStation(config, admission, {
      ledger: o.ledger,
      authorizer: o.authorizer,
      clock: o.clock,
      logger: this.log,
      callTimeoutMs: o.callTimeoutS * 1000,
      heartbeatIntervalS: o.heartbeatIntervalS,
      pendingIntervalS: o.pendingIntervalS ?? 60,
      onIssue: (issue) => this.onIssue(config.identity, issue),
    });
  }
}

function unknownStationConfig(identity: string): StationConfig {
  return {
    id: idForIdentity(identity),
    identity,
    name: identity,
    password: null,
    maxCurrentA: 16,
    phases: null,
    connectors: 1,
    pingIntervalS: null,
  };
}
