/**
 * The local OCPP 1.6J central system: a websocket server at `ws(s)://host:port<path>/<identity>`,
 * security profile 0 (none), 1 (Basic auth) or 2 (TLS + Basic auth), one OcppStation per identity
 * with at most one live connection (a newer connection replaces the older one), and a policy for
 * stations that are not configured. Stations let in by the `accept` policy are remembered and become
 * chargers like configured ones.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../../core/clock.js';
import { TypedEmitter } from '../../core/emitter.js';
import { LogThrottle } from '../../core/log-throttle.js';
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
import type { AcceptedStations } from './accepted-stations.js';
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
  /** Stations accepted by the `accept` policy, remembered across restarts; absent: not remembered. */
  accepted?: AcceptedStations;
  /** Charger ids used elsewhere (BLE chargers): an accepted station never gets one of them. */
  takenIds?: readonly string[];
  authorizer: IdTagAuthorizer;
  /**
   * Wraps each connector's charger once before it is handed out (chargers(), chargers_added): the
   * daemon puts the switching rules there. The stations keep talking to the charger itself.
   */
  guardCharger?: (charger: OcppStationCharger) => OcppStationCharger;
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
  /** Chargers that exist from now on: the connectors of a station accepted for the first time. */
  chargers_added: [chargers: OcppStationCharger[]];
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
  /** Identities whose connectors are chargers: configured, and accepted by policy. */
  private readonly known = new Set<string>();
  private readonly clients = new Set<RpcServerClient>();
  private readonly warnedIssues = new Set<string>();
  private readonly badFrames: LogThrottle;
  /** The charger handed out for each connector's own one (see guardCharger). */
  private readonly handedOut = new WeakMap<OcppStationCharger, OcppStationCharger>();
  private rpc: RpcServer | null = null;
  private http: Server | null = null;
  private listeningPort = 0;

  constructor(options: CentralSystemOptions) {
    this.o = options;
    this.log = options.logger.child({ component: 'ocpp-server' });
    this.directory = new StationDirectory(options.stations);
    this.badFrames = new LogThrottle(options.clock);
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
    for (const entry of this.directory.all()) this.addKnown(entry.config);
    // Remembered only while the policy still lets them in.
    if (options.unknownStations === 'accept') {
      for (const station of options.accepted?.all() ?? []) {
        if (!this.directory.get(station.identity))
          this.addKnown({ ...unknownStationConfig(station.identity), id: station.id });
      }
    }
  }

  /** Every connector of every known station (configured or accepted by policy), as core Chargers. */
  chargers(): OcppStationCharger[] {
    return this.knownStations().flatMap((s) => s.chargers.map((c) => this.handOut(c)));
  }

  private handOut(charger: OcppStationCharger): OcppStationCharger {
    const guard = this.o.guardCharger;
    if (!guard) return charger;
    let outward = this.handedOut.get(charger);
    if (!outward) {
      outward = guard(charger);
      this.handedOut.set(charger, outward);
    }
    return outward;
  }

  /** Stations that are chargers: the configured ones and those accepted by the `accept` policy. */
  knownStations(): OcppStation[] {
    return [...this.stations.values()].filter((s) => this.known.has(s.identity));
  }

  station(identity: string): OcppStation | undefined {
    return this.stations.get(identity);
  }

  /**
   * Forgets a station accepted by policy (by its chargebridge id): it works until the restart, then
   * disappears from Home Assistant, and is accepted again as new if it connects. False: not one of them.
   */
  async forgetAccepted(stationId: string): Promise<boolean> {
    const station = this.knownStations().find((s) => s.stationId === stationId);
    if (!station || !this.o.accepted?.has(station.identity)) return false;
    return this.o.accepted.remove(station.identity);
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
    await this.o.accepted?.flush().catch(() => undefined);
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
      station = this.admitUnknown(identity);
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
      // A broken or hostile station can send thousands: one line a minute per station, with a count.
      const frames = this.badFrames.take(identity);
      if (frames === null) return;
      this.log.warn(
        { identity, err: String(info?.error ?? 'unreadable frame'), frames },
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
        this.badFrames.forget(identity);
        // A Pending station is nothing but its connection: forgotten with it, so a scan of made-up
        // identities cannot fill the memory.
        if (!this.known.has(identity) && !s.connected) this.stations.delete(identity);
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

  private addKnown(config: StationConfig): OcppStation {
    const station = this.createStation(config, 'accepted');
    this.stations.set(config.identity, station);
    this.known.add(config.identity);
    return station;
  }

  /**
   * A station that is not configured: under `accept` it becomes a charger now (and is remembered);
   * under `pending` it only gets Pending boots until the user adds it to the config.
   */
  private admitUnknown(identity: string): OcppStation {
    const admission: Admission = this.o.unknownStations === 'accept' ? 'accepted' : 'pending';
    this.events.emit('unknown_station', { identity, admission });
    if (admission === 'pending') {
      const station = this.createStation(unknownStationConfig(identity), admission);
      this.stations.set(identity, station);
      this.log.warn(
        { identity },
        'a station that is not configured connected; it boots as Pending until it is added to ocpp_server.stations',
      );
      return station;
    }
    const id = this.freeIdFor(identity);
    const station = this.addKnown({ ...unknownStationConfig(identity), id });
    this.log.warn(
      { identity, charger: id },
      'a station that is not configured connected; accepted by policy and added to Home Assistant',
    );
    void this.o.accepted
      ?.add({ identity, id, firstSeenAt: this.o.clock.now() })
      .catch(() => undefined /* logged by the store; the station still works this run */);
    this.events.emit(
      'chargers_added',
      station.chargers.map((c) => this.handOut(c)),
    );
    return station;
  }

  /** `ocpp_<identity>`, with `_2`, `_3`… when that id (or a connector id) is already a charger. */
  private freeIdFor(identity: string): string {
    const taken = new Set([
      ...(this.o.takenIds ?? []),
      ...this.knownStations().flatMap((s) => s.chargers.map((c) => c.id)),
    ]);
    const base = idForIdentity(identity);
    for (let n = 1; ; n++) {
      const id = n === 1 ? base : `${base}_${n}`;
      if (!taken.has(id)) return id;
    }
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
