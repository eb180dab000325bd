/**
 * The composition root: builds every part from the configuration, starts them in order and stops
 * them in reverse. No protocol or Home Assistant logic lives here, only wiring.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { chargebridgeVersion } from './cli/version.js';
import { type LoadedConfig, redactConfig, snakifyKeys } from './config/index.js';
import type { Charger } from './core/charger.js';
import { type Clock, systemClock } from './core/clock.js';
import { prepareDataDir } from './core/data-dir.js';
import { lockDataDir } from './core/data-dir-lock.js';
import { StoreProblems } from './core/store-problems.js';
import { keepStoreProblemsIn } from './core/store-problems-file.js';
import { UnsavedDataError, type UnsavedFile } from './core/unsaved-data.js';
import { createBs20Charger } from './evse-master/create.js';
import type { SimulatedBs20 } from './evse-master/simulator/index.js';
import { bridgeWill } from './homeassistant/bridge-publisher.js';
import { HomeAssistantExtension } from './homeassistant/extension.js';
import { type RunningHttpServer, startHttpServer } from './http/server.js';
import type { Logger } from './log.js';
import { BridgeApi } from './mqtt/bridge-api.js';
import { type BrokerLogin, resolveBrokerLogin } from './mqtt/broker-login.js';
import { MqttConnection } from './mqtt/connection.js';
import { type EmbeddedBroker, startEmbeddedBroker } from './mqtt/embedded-broker.js';
import { startChargePointBridges } from './ocpp/client/start.js';
import { OcppTrafficCounters } from './ocpp/counters.js';
import { registerOcppRequests } from './ocpp/server/bridge-requests.js';
import type { OcppCentralSystem } from './ocpp/server/central-system.js';
import { createCentralSystem } from './ocpp/server/create.js';
import { openSessionService } from './sessions/service.js';

export interface DaemonDeps {
  loaded: LoadedConfig;
  logger: Logger;
  clock?: Clock;
  /** Called when Home Assistant (or a bridge request) asks for a restart. */
  onRestartRequest?: () => void;
  /** Why a restart would fail now (the config file has errors), or null; the request is refused then. */
  restartProblem?: () => string | null;
  /** How long the start waits for the broker before going on without it (real time; default 10 s). */
  mqttConnectWaitMs?: number;
}

export interface RunningDaemon {
  readonly chargers: readonly Charger[];
  readonly simulators: ReadonlyMap<string, SimulatedBs20>;
  /** URL our own MQTT client uses (with the embedded broker: its real port). */
  readonly mqttUrl: string;
  readonly embeddedBroker: EmbeddedBroker | null;
  /** The embedded broker's login for Home Assistant (configured or generated); null with mqtt.url. */
  readonly brokerLogin: BrokerLogin | null;
  readonly connection: MqttConnection;
  /** The HTTP endpoint (health, metrics, export), null when `http.enabled` is off. */
  readonly http: RunningHttpServer | null;
  /** The OCPP central system, null when `ocpp_server.enabled` is off. */
  readonly ocppServer: OcppCentralSystem | null;
  /** Publish offline, close links, flush stores; bounded in time. */
  stop(): Promise<void>;
  /** Filled by stop(): files a stop step could not write, each with where its data is kept instead. */
  readonly unsavedAtStop: readonly UnsavedFile[];
}

const SUPPORT_URL = 'https://github.com/chargebridge/chargebridge';

export async function startDaemon(deps: DaemonDeps): Promise<RunningDaemon> {
  const { config } = deps.loaded;
  const clock = deps.clock ?? systemClock;
  const startedAtMs = clock.now();
  const log = deps.logger;
  const stopSteps: Array<[string, () => Promise<void>]> = [];
  const unsavedAtStop: UnsavedFile[] = [];

  try {
    // First of all: a data_dir that cannot be made or written stops the start here, naming it.
    prepareDataDir(config.dataDir);
    // Before the broker or any store opens: a second daemon on this folder must change nothing.
    const lock = lockDataDir(config.dataDir, { logger: log });
    stopSteps.push(['data dir lock', async () => lock.release()]);

    const { embeddedBroker, brokerLogin, url, username, password } = await startMqttBroker(
      deps.loaded,
      log,
      clock,
    );
    if (embeddedBroker) stopSteps.unshift(['embedded broker', () => embeddedBroker.close()]);

    const chargers: Charger[] = [];
    const simulators = new Map<string, SimulatedBs20>();
    for (const entry of config.chargers) {
      const built = createBs20Charger(entry, {
        ble: config.ble,
        timeZone: config.timezone,
        clock,
        logger: log,
      });
      chargers.push(built.charger);
      if (built.simulator) {
        simulators.set(entry.id, built.simulator);
        const sim = built.simulator;
        stopSteps.unshift([`simulator ${entry.id}`, async () => sim.close()]);
      }
    }

    // OCPP central system: each configured station is a charger from the start (offline until it
    // connects), so Home Assistant and the session tracker know it; the server listens further down.
    const ocppServer = config.ocppServer.enabled
      ? await createCentralSystem({
          config: config.ocppServer,
          users: config.users,
          dataDir: config.dataDir,
          takenIds: chargers.map((c) => c.id),
          clock,
          logger: log,
        })
      : null;
    if (ocppServer) chargers.push(...ocppServer.chargers());

    const connection = new MqttConnection({
      url,
      username,
      password,
      clientId: config.mqtt.clientId ?? `chargebridge-${hostname()}-${process.pid}`,
      tls: readTls(config.mqtt.tls),
      will: bridgeWill(config.mqtt.baseTopic),
      keepaliveS: config.mqtt.keepaliveS,
      reconnectPeriodMs: config.mqtt.reconnectPeriodMs,
      protocolVersion: config.mqtt.protocolVersion,
      logger: log,
    });
    stopSteps.unshift(['mqtt connection', () => connection.close()]);

    const bridgeApi = new BridgeApi({ connection, baseTopic: config.mqtt.baseTopic, logger: log });
    // ocpp/* requests: station operations without a Home Assistant entity (reset, availability, …).
    if (ocppServer) registerOcppRequests(bridgeApi, ocppServer);
    // Shown on the bridge device until resolved: a store_problem event alone is missed by a late client.
    const storeProblems = new StoreProblems();
    keepStoreProblemsIn(storeProblems, path.join(config.dataDir, 'store-problems.json'), log);
    const sessions = await openSessionService({
      config,
      chargers,
      bridgeApi,
      clock,
      logger: log,
      problems: storeProblems,
    });
    const homeAssistant = new HomeAssistantExtension({
      connection,
      bridgeApi,
      chargers,
      topics: {
        baseTopic: config.mqtt.baseTopic,
        discoveryPrefix: config.homeassistant.discoveryPrefix,
        statusTopic: config.homeassistant.statusTopic,
      },
      discoveryEnabled: config.homeassistant.enabled,
      deviceTriggers: config.homeassistant.deviceTriggers,
      scheduledStartPlatform: config.homeassistant.scheduledStartEntity,
      expireAfterS: config.homeassistant.expireAfterS,
      origin: { name: 'chargebridge', sw_version: chargebridgeVersion(), support_url: SUPPORT_URL },
      dataDir: config.dataDir,
      clock,
      logger: log,
      // The configuration as the user writes it (snake_case), secrets replaced; `demo` when none was found.
      bridgeInfo: () => ({
        ...(snakifyKeys(redactConfig(config, deps.loaded.secretValues)) as Record<string, unknown>),
        demo: deps.loaded.isDemo,
      }),
      sessionFeatures: (id) => sessions.sessionFeatures(id),
      stateExtras: (id) => sessions.stateExtras(id),
      sessionHooks: (id) => sessions.sessionHooks(id),
      onRestartRequest: deps.onRestartRequest,
      ...(deps.restartProblem ? { restartProblem: deps.restartProblem } : {}),
      storeProblems,
      getLogLevel: () => log.level,
      setLogLevel: (level) => {
        log.level = level;
      },
    });

    // MQTT first so the bridge is visible while chargers are still connecting; a broker that is
    // down does not hold up the chargers (the connection keeps retrying in the background).
    await connectOrWarn(connection, log, deps.mqttConnectWaitMs ?? 10_000);
    await homeAssistant.start();
    stopSteps.unshift(['home assistant', () => homeAssistant.stop()]);
    sessions.onChanged((id) => homeAssistant.refreshState(id));
    sessions.onSessionEvent((e) => void homeAssistant.publishSessionEvent(e.chargerId, e.type, e.at, e.data));
    // Before the links open, so the first state a charger reports is already followed; stopped after
    // the links close, so the open session is saved with its last meter reading.
    sessions.start();
    stopSteps.unshift(['sessions', () => sessions.stop()]);
    for (const charger of chargers) {
      await charger.open();
      stopSteps.unshift([`charger ${charger.id}`, () => charger.close()]);
    }
    // OCPP upstream: each BS20 with `ocpp_upstream` appears to its central system as a charge point.
    // Started after the links open (the boot names the charger), stopped before they close.
    const upstreamTraffic = new OcppTrafficCounters(
      'client',
      () => ocppBridges.filter((b) => b.connection.isOpen).length,
    );
    const ocppBridges = await startChargePointBridges({
      config,
      configPath: deps.loaded.path,
      chargers,
      clock,
      logger: log,
      onFrame: (_message, outbound) => upstreamTraffic.frame(outbound),
      onStopRequested: (id) => sessions.tracker.noteStopRequested(id),
      onPauseRequested: (id, reason) => sessions.tracker.notePauseRequested(id, reason),
    });
    const ocppTraffic: OcppTrafficCounters[] = ocppBridges.length > 0 ? [upstreamTraffic] : [];
    for (const bridge of ocppBridges) {
      stopSteps.unshift([`ocpp upstream ${bridge.charger.id}`, () => bridge.stop()]);
    }
    // OCPP central system: listens once sessions and Home Assistant follow its stations.
    if (ocppServer) {
      const server = ocppServer;
      // A station let in by `unknown_stations: accept` becomes a charger like the configured ones.
      server.events.on('chargers_added', (added) => {
        for (const charger of added) {
          chargers.push(charger);
          sessions.addCharger(charger);
          void homeAssistant.addCharger(charger);
        }
      });
      const serverTraffic = new OcppTrafficCounters(
        'server',
        () => server.knownStations().filter((s) => s.connected).length,
      );
      server.events.on('frame', (f) => serverTraffic.frame(f.outbound));
      ocppTraffic.push(serverTraffic);
      await ocppServer.start();
      stopSteps.unshift(['ocpp server', () => ocppServer.stop()]);
    }
    // Home Assistant must say offline before the links close, so it runs first on stop.
    const haStop = stopSteps.findIndex(([name]) => name === 'home assistant');
    const [haStep] = stopSteps.splice(haStop, 1);
    if (haStep) stopSteps.unshift(haStep);

    // HTTP endpoint: last to start (health then sees a daemon that is up), first to stop.
    let http: RunningHttpServer | null = null;
    if (config.http.enabled) {
      const server = await startHttpServer({
        host: config.http.host,
        port: config.http.port,
        token: config.http.token ?? '',
        chargers,
        mqtt: connection,
        sessions: sessions.metrics,
        sessionExport: sessions.export,
        ocpp: ocppTraffic,
        version: chargebridgeVersion(),
        clock,
        startedAtMs,
        logger: log,
      });
      http = server;
      stopSteps.unshift(['http', () => server.close()]);
    }

    log.info(
      { chargers: chargers.map((c) => c.id), mqtt: redactUrl(url), embeddedBroker: embeddedBroker !== null },
      'chargebridge started',
    );

    return {
      chargers,
      simulators,
      mqttUrl: url,
      embeddedBroker,
      brokerLogin,
      connection,
      http,
      ocppServer,
      unsavedAtStop,
      stop: () => runStopSteps(stopSteps, log, unsavedAtStop),
    };
  } catch (err) {
    await runStopSteps(stopSteps, log);
    throw err;
  }
}

interface BrokerChoice {
  embeddedBroker: EmbeddedBroker | null;
  brokerLogin: BrokerLogin | null;
  url: string;
  username: string | undefined;
  password: string | undefined;
}

async function startMqttBroker(loaded: LoadedConfig, log: Logger, clock: Clock): Promise<BrokerChoice> {
  const { mqtt, dataDir } = loaded.config;
  if (!mqtt.embeddedBroker.enabled) {
    if (!mqtt.url) throw new Error('mqtt.url is required when the embedded broker is disabled');
    return {
      embeddedBroker: null,
      brokerLogin: null,
      url: mqtt.url,
      username: mqtt.username,
      password: mqtt.password,
    };
  }
  const settings = mqtt.embeddedBroker;
  // Never open to the LAN by accident: without a configured login one is made and kept in data_dir.
  const login = await resolveBrokerLogin({ broker: settings, dataDir, logger: log, clock });
  const broker = await startEmbeddedBroker({
    host: settings.host,
    port: settings.port,
    accounts: [{ username: login.username, password: login.password }],
    allowAnonymous: settings.allowAnonymous,
    retainedMaxMessageBytes: settings.retainedMaxMessageBytes,
    retainedMaxTotalBytes: settings.retainedMaxTotalBytes,
    persistFile: settings.persistRetained ? path.join(dataDir, 'mqtt-retained.json') : undefined,
    clock,
    logger: log,
  });
  // Our own client talks to the broker over loopback, whatever address it listens on.
  const host = settings.host === '0.0.0.0' || settings.host === '::' ? '127.0.0.1' : settings.host;
  return {
    embeddedBroker: broker,
    brokerLogin: login,
    url: `mqtt://${host.includes(':') ? `[${host}]` : host}:${broker.port}`,
    // Our own client logs in like Home Assistant does (anonymous may be refused).
    username: login.username,
    password: login.password,
  };
}

/**
 * Waits a bounded time for the broker: an unreachable or untrusted broker must not keep the chargers
 * and the session history from starting. The connection goes on retrying in the background.
 */
async function connectOrWarn(connection: MqttConnection, log: Logger, waitMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const gaveUp = new Promise<'waited'>((resolve) => {
    timer = setTimeout(() => resolve('waited'), waitMs);
    timer.unref();
  });
  const attempt = connection.connect().then(
    () => 'connected' as const,
    (err: unknown) => err,
  );
  const outcome = await Promise.race([attempt, gaveUp]);
  clearTimeout(timer);
  if (outcome === 'connected') return;
  const reason =
    outcome === 'waited'
      ? (connection.lastError ?? `no answer within ${waitMs / 1000} s`)
      : outcome instanceof Error
        ? outcome.message
        : String(outcome);
  log.error({ err: reason }, 'could not connect to the MQTT broker yet; retrying in the background');
}

function readTls(
  tls: LoadedConfig['config']['mqtt']['tls'],
): { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized?: boolean } | undefined {
  if (!tls) return undefined;
  return {
    ca: tls.ca ? readFileSync(tls.ca) : undefined,
    cert: tls.cert ? readFileSync(tls.cert) : undefined,
    key: tls.key ? readFileSync(tls.key) : undefined,
    rejectUnauthorized: tls.rejectUnauthorized,
  };
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '[redacted]';
    return u.toString();
  } catch {
    return url;
  }
}

/**
 * Each step gets a bounded time so one stuck link cannot hold up the shutdown. A step that could not
 * write its data reports what and where (UnsavedDataError); the others only warn.
 */
async function runStopSteps(
  steps: Array<[string, () => Promise<void>]>,
  log: Logger,
  unsaved: UnsavedFile[] = [],
): Promise<void> {
  for (const [name, step] of steps.splice(0)) {
    try {
      await Promise.race([
        step(),
        new Promise<void>((_, reject) => {
          const t = setTimeout(() => reject(new Error('timed out')), 3_000);
          t.unref();
        }),
      ]);
    } catch (err) {
      if (err instanceof UnsavedDataError) unsaved.push(...err.unsaved);
      else
        log.warn(
          { step: name, err: err instanceof Error ? err.message : String(err) },
          'shutdown step failed',
        );
    }
  }
}
