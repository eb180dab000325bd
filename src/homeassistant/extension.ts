/**
 * The Home Assistant extension: connects the daemon's Chargers to MQTT. It publishes discovery, the
 * bridge's and each charger's state, routes `set/<key>` commands, re-publishes everything after a
 * broker reconnect or Home Assistant's birth message, and says `offline` on a clean stop.
 */
import { z } from 'zod';
import type { Charger } from '../core/charger.js';
import type { Clock, TimerHandle } from '../core/clock.js';
import type { StoreProblems } from '../core/store-problems.js';
import type { Logger } from '../log.js';
import type { BridgeApi } from '../mqtt/bridge-api.js';
import type { MqttConnection } from '../mqtt/connection.js';
import { BridgePublisher, type LogLevel } from './bridge-publisher.js';
import { ChargePlanStore } from './charge-plan-store.js';
import { ChargerBinding, type SessionFeatures } from './charger-binding.js';
import { CommandRouter, type CommandTarget } from './command-router.js';
import { buildBridgeDiscovery, type OriginInfo } from './discovery.js';
import { DiscoveryPublisher } from './discovery-publisher.js';
import { DiscoveryRegistry } from './discovery-registry.js';
import type { EntityOptions } from './entity-types.js';
import { eventToJson } from './events.js';
import { formatLocalIso } from './local-time.js';
import type { SessionHooks } from './next-session.js';
import type { ChargerStateExtras } from './state.js';
import { BRIDGE_DEVICE_ID, createTopics, deviceIdFor, type Topics } from './topics.js';

export type { SessionFeatures } from './charger-binding.js';

/** Bridge request that removes, on purpose, every Home Assistant device not configured now. */
export const REMOVE_REQUEST = 'remove_unconfigured_devices';

export type HaConnection = Pick<
  MqttConnection,
  'publish' | 'subscribe' | 'on' | 'generation' | 'isConnected'
>;

export interface HomeAssistantOptions {
  connection: HaConnection;
  bridgeApi: Pick<BridgeApi, 'register' | 'start' | 'publishEvent'>;
  chargers: readonly Charger[];
  topics: { baseTopic: string; discoveryPrefix: string; statusTopic: string };
  /** false: no discovery configs at all (state, availability and commands still work). */
  discoveryEnabled: boolean;
  /** expire_after of live measurements; 0 disables it (and the refresh that feeds it). */
  expireAfterS: number;
  origin: OriginInfo;
  /** Where the discovery registry and the charge-plan inputs live. */
  dataDir: string;
  clock: Clock;
  logger: Logger;
  /** Configuration summary without secrets, for `bridge/info`. */
  bridgeInfo: () => Record<string, unknown>;
  /** The `restart` request / button; absent = the request answers with an error. */
  onRestartRequest?: () => void | Promise<void>;
  /** Checked before a restart is accepted: why it would fail (a broken config file), or null. */
  restartProblem?: () => string | null;
  /** Store problems for the bridge's problem sensor (see BridgePublisher). */
  storeProblems?: StoreProblems;
  /** Applies a new log level; default sets `logger.level` (pino children follow their parent). */
  setLogLevel?: (level: LogLevel) => void;
  getLogLevel?: () => string;
  /** Device triggers next to the event entity (default true). */
  deviceTriggers?: boolean;
  /** `text` for Home Assistant older than 2026.5 (default `datetime`). */
  scheduledStartPlatform?: EntityOptions['scheduledStartPlatform'];
  /** Session tracker features per charger (default none). */
  sessionFeatures?: (chargerId: string) => SessionFeatures | null;
  /** The session tracker's hooks for one charger: user choice, stops, charger user ids. */
  sessionHooks?: (chargerId: string) => SessionHooks | null;
  /** Extra state keys from the session tracker (session energy, totals…). */
  stateExtras?: (chargerId: string) => ChargerStateExtras;
  /** At most one state publish per charger per this many ms (default 1000). */
  stateThrottleMs?: number;
  /** Random wait before answering Home Assistant's birth message (default 1000–5000 ms). */
  birthDelayMs?: { min: number; max: number };
  /** [0, 1); injectable for tests (default Math.random). */
  random?: () => number;
  /** How long stop() waits for its `offline` messages (default 3000 ms). */
  stopTimeoutMs?: number;
}

export class HomeAssistantExtension {
  private readonly o: HomeAssistantOptions;
  private readonly log: Logger;
  private readonly topics: Topics;
  private readonly bindings = new Map<string, ChargerBinding>();
  /** Live lists: a charger added while running (an OCPP station accepted by policy) joins them. */
  private readonly chargers: Charger[] = [];
  private readonly targets = new Map<string, CommandTarget>();
  private readonly bridge: BridgePublisher;
  private readonly router: CommandRouter;
  private readonly registry: DiscoveryRegistry;
  private readonly discovery: DiscoveryPublisher;
  private readonly planStore: ChargePlanStore;
  private readonly unsubscribe: Array<() => void> = [];
  private birthTimer: TimerHandle | undefined;
  private started = false;
  private staleRemoved = false;

  constructor(options: HomeAssistantOptions) {
    this.o = options;
    this.log = options.logger.child({ component: 'homeassistant' });
    this.topics = createTopics(options.topics);
    const connection = options.connection;
    this.planStore = new ChargePlanStore({
      dataDir: options.dataDir,
      clock: options.clock,
      logger: this.log,
    });
    for (const charger of options.chargers) this.bind(charger);
    this.bridge = new BridgePublisher({
      connection,
      topics: this.topics,
      bridgeApi: options.bridgeApi,
      chargers: this.chargers,
      version: options.origin.sw_version,
      configSummary: options.bridgeInfo,
      getLogLevel: options.getLogLevel ?? (() => options.logger.level),
      setLogLevel:
        options.setLogLevel ??
        ((level) => {
          options.logger.level = level;
        }),
      ...(options.onRestartRequest ? { onRestartRequest: options.onRestartRequest } : {}),
      ...(options.restartProblem ? { restartProblem: options.restartProblem } : {}),
      ...(options.storeProblems ? { storeProblems: options.storeProblems } : {}),
      logger: this.log,
    });
    this.router = new CommandRouter({
      topics: this.topics,
      baseTopic: options.topics.baseTopic,
      targets: this.targets,
      clock: options.clock,
      logger: this.log,
      rejected: (r) =>
        options.bridgeApi.publishEvent('command_rejected', r.charger, {
          key: r.key,
          payload: r.payload,
          error: r.error,
        }),
      deferred: (d) =>
        options.bridgeApi.publishEvent('command_deferred', d.charger, {
          key: d.key,
          payload: d.payload,
          until: formatLocalIso(d.until),
          reason: d.reason,
        }),
    });
    this.registry = new DiscoveryRegistry({
      dataDir: options.dataDir,
      logger: this.log,
      now: () => options.clock.now(),
    });
    this.discovery = new DiscoveryPublisher({ connection, registry: this.registry, logger: this.log });
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const { connection } = this.o;
    if (this.o.discoveryEnabled) await this.registry.load();
    // Before the first state publish, so Home Assistant never sees the plan inputs blank after a restart.
    await this.planStore.load();
    this.bridge.registerRequests();
    this.registerRemoveRequest();
    await this.o.bridgeApi.start();
    for (const binding of this.bindings.values()) this.follow(binding);
    this.unsubscribe.push(
      connection.on('connected', () => void this.publishEverything('connected')),
      connection.on('message', (topic, payload, retained) => this.onMessage(topic, payload, retained)),
    );
    await connection.subscribe([this.topics.chargerCommandTopicFilter(), this.o.topics.statusTopic]);
    if (connection.isConnected) await this.publishEverything('start');
  }

  /**
   * Publish `offline` for every charger and the bridge (retained) so Home Assistant shows the stop at
   * once; call before closing the connection. Waits at most stopTimeoutMs.
   */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    this.o.clock.clearTimeout(this.birthTimer);
    this.birthTimer = undefined;
    for (const off of this.unsubscribe.splice(0)) off();
    for (const binding of this.bindings.values()) binding.stop();
    const offline = Promise.allSettled([
      ...[...this.bindings.values()].map((e) => e.publisher.publishOffline()),
      this.bridge.publishOffline(),
    ]);
    // Offline, nothing can be acknowledged: the broker already shows our last will.
    if (this.o.connection.isConnected) await this.withinStopTimeout(offline);
    await Promise.all([this.registry.flush(), this.planStore.flush()]);
  }

  /**
   * A charger that appeared while running: it gets its device, entities, state and commands at once
   * (and at every later republish), like the ones known at start.
   */
  async addCharger(charger: Charger): Promise<void> {
    const binding = this.bind(charger);
    if (!this.started) return;
    this.follow(binding);
    if (!this.o.connection.isConnected) return; // the next `connected` publishes everything
    await Promise.all([
      this.o.discoveryEnabled ? this.publishChargerDiscovery(binding) : Promise.resolve(),
      binding.publisher.publishAll(),
      this.bridge.publishInfo(),
    ]).catch((err: unknown) =>
      this.log.warn({ charger: charger.id, err: errorText(err) }, 'could not publish a new charger'),
    );
  }

  /** Re-publish one charger's state (the session tracker's extras changed). */
  refreshState(chargerId: string): void {
    this.bindings.get(chargerId)?.publisher.requestState();
  }

  /** A session event (`session_started`, `session_completed`) for the event entity and bridge/event. */
  async publishSessionEvent(
    chargerId: string,
    type: string,
    at: number,
    data: Record<string, unknown> = {},
  ): Promise<void> {
    const payload = eventToJson({ type, at, data });
    const jobs: Array<Promise<void>> = [this.o.bridgeApi.publishEvent(type, chargerId, data)];
    if (payload !== null) {
      jobs.push(
        this.o.connection.publish(this.topics.chargerEventTopic(chargerId), JSON.stringify(payload), {
          qos: 1,
          retain: false,
        }),
      );
    }
    await Promise.all(jobs);
  }

  /** Resolves when every command received so far has run or been rejected. */
  commandsIdle(): Promise<void> {
    return this.router.idle();
  }

  private onMessage(topic: string, payload: Buffer, retained = false): void {
    if (topic === this.o.topics.statusTopic) {
      if (payload.toString('utf8').trim() === 'online') this.scheduleBirthRepublish();
      return;
    }
    if (!this.router.matches(topic)) return;
    // A retained command would run again on every reconnect: it is stale by definition.
    if (retained) {
      this.log.warn({ topic }, 'ignoring a retained command; publish commands without the retain flag');
      return;
    }
    void this.router.handle(topic, payload);
  }

  /** Home Assistant (re)started: after a short random wait, discovery first, then the states. */
  private scheduleBirthRepublish(): void {
    const { min, max } = this.o.birthDelayMs ?? { min: 1000, max: 5000 };
    const delayMs = min + Math.floor((this.o.random ?? Math.random)() * Math.max(0, max - min));
    this.o.clock.clearTimeout(this.birthTimer);
    this.log.info({ delayMs }, 'Home Assistant started; re-publishing discovery and states');
    this.birthTimer = this.o.clock.setTimeout(() => {
      this.birthTimer = undefined;
      this.discovery.forgetAll();
      this.bridge.forgetAll();
      void this.publishEverything('birth');
    }, delayMs);
  }

  private async publishEverything(why: 'start' | 'connected' | 'birth'): Promise<void> {
    if (!this.started) return;
    const failures: string[] = [];
    const settle = async (what: string, job: Promise<unknown>) => {
      await job.catch((err: unknown) => failures.push(`${what}: ${errorText(err)}`));
    };
    await settle('bridge state', this.bridge.publishOnline());
    if (this.o.discoveryEnabled) {
      await Promise.all([
        settle('bridge discovery', this.publishBridgeDiscovery()),
        ...[...this.bindings.values()].map((e) =>
          settle(`discovery of ${e.charger.id}`, this.publishChargerDiscovery(e)),
        ),
      ]);
    }
    await Promise.all([
      settle('bridge info', this.bridge.publishInfo()),
      ...[...this.bindings.values()].map((e) => settle(`state of ${e.charger.id}`, e.publisher.publishAll())),
    ]);
    if (this.o.discoveryEnabled) {
      if (!this.staleRemoved) {
        this.staleRemoved = true;
        this.planRemovals();
      }
      const delivered = await this.discovery.publishRemovals();
      // Home Assistant just said it is online and has now received them: done. Before that it may
      // have been away, and an empty retained message is not kept by the broker for it.
      if (why === 'birth') this.discovery.forgetRemovals(delivered);
    }
    if (failures.length > 0)
      this.log.warn({ why, failures }, 'some Home Assistant messages could not be published');
    else this.log.debug({ why }, 'published discovery and states');
  }

  private configuredDevices(): Set<string> {
    return new Set([BRIDGE_DEVICE_ID, ...[...this.bindings.values()].map((b) => b.deviceId)]);
  }

  /** Chargers gone from the configuration leave Home Assistant, unless none is configured at all. */
  private planRemovals(): void {
    this.backfillRetainedTopics();
    const kept = this.discovery.planRemovals(this.configuredDevices(), this.bindings.size > 0);
    if (kept.length === 0) return;
    this.log.warn(
      { devices: kept, request: this.topics.bridgeRequestTopic(REMOVE_REQUEST) },
      'no charger is configured: keeping the Home Assistant devices of the chargers configured before ' +
        '(an emptied or damaged configuration file?). To remove them on purpose, publish {} to the ' +
        'request topic, or remove chargers while at least one stays configured',
    );
  }

  /**
   * A registry written before it recorded each device's retained topics: charger ids are
   * `[a-z0-9_]`, so the id behind `chargebridge_<id>` is known and its topics follow (under today's
   * base topic, the best guess left).
   */
  private backfillRetainedTopics(): void {
    const prefix = deviceIdFor('');
    for (const [deviceId, device] of [...this.registry.devices()]) {
      if (device.retained || deviceId === BRIDGE_DEVICE_ID || !deviceId.startsWith(prefix)) continue;
      const id = deviceId.slice(prefix.length);
      this.registry.set(deviceId, {
        ...device,
        retained: [this.topics.chargerStateTopic(id), this.topics.chargerAvailabilityTopic(id)],
      });
    }
  }

  /** The on-purpose removal of every device not configured now, even when that is all chargers. */
  private registerRemoveRequest(): void {
    this.o.bridgeApi.register(REMOVE_REQUEST, z.object({}), async () => {
      if (!this.o.discoveryEnabled)
        throw new Error('Home Assistant discovery is off (homeassistant.enabled: false); nothing to remove');
      this.discovery.planRemovals(this.configuredDevices(), true);
      return { removed: await this.discovery.publishRemovals() };
    });
  }

  private bind(charger: Charger): ChargerBinding {
    const options = this.o;
    if (this.bindings.has(charger.id)) throw new Error(`two chargers have the id '${charger.id}'`);
    const binding = new ChargerBinding({
      charger,
      topics: this.topics,
      connection: options.connection,
      clock: options.clock,
      logger: this.log,
      throttleMs: options.stateThrottleMs ?? 1000,
      refreshMs: options.expireAfterS > 0 ? (options.expireAfterS * 1000) / 2 : 0,
      bridgeEvent: (type, id, data) => options.bridgeApi.publishEvent(type, id, data),
      baseTopic: options.topics.baseTopic,
      discoveryPrefix: options.topics.discoveryPrefix,
      origin: options.origin,
      expireAfterS: options.expireAfterS,
      ...(options.scheduledStartPlatform ? { scheduledStartPlatform: options.scheduledStartPlatform } : {}),
      ...(options.deviceTriggers !== undefined ? { deviceTriggers: options.deviceTriggers } : {}),
      sessionFeatures: options.sessionFeatures?.(charger.id) ?? null,
      ...(options.stateExtras ? { stateExtras: () => options.stateExtras?.(charger.id) ?? {} } : {}),
      sessionHooks: options.sessionHooks?.(charger.id) ?? null,
      planStore: this.planStore,
    });
    this.bindings.set(charger.id, binding);
    this.chargers.push(charger);
    this.targets.set(charger.id, binding.commandTarget());
    return binding;
  }

  private follow(binding: ChargerBinding): void {
    binding.start();
    this.unsubscribe.push(
      binding.charger.events.on('state', (next, prev) =>
        this.onChargerState(binding, next.link !== prev.link),
      ),
    );
  }

  private onChargerState(binding: ChargerBinding, linkChanged: boolean): void {
    if (linkChanged) {
      this.bridge
        .publishInfo()
        .catch((err: unknown) => this.log.warn({ err: errorText(err) }, 'could not publish bridge info'));
    }
    // The charger learns its model, phases and current limit at login: discovery follows.
    if (this.o.discoveryEnabled && binding.discoveryOutdated()) {
      this.publishChargerDiscovery(binding).catch((err: unknown) =>
        this.log.warn({ charger: binding.charger.id, err: errorText(err) }, 'could not publish discovery'),
      );
    }
  }

  private async publishBridgeDiscovery(): Promise<void> {
    const message = buildBridgeDiscovery({
      baseTopic: this.o.topics.baseTopic,
      discoveryPrefix: this.o.topics.discoveryPrefix,
      origin: this.o.origin,
    });
    await this.discovery.publish(BRIDGE_DEVICE_ID, message);
  }

  private async publishChargerDiscovery(binding: ChargerBinding): Promise<void> {
    const id = binding.charger.id;
    // Remembered with the device so its removal can clear them, even under another base topic later.
    await this.discovery.publish(binding.deviceId, binding.discovery(), [
      this.topics.chargerStateTopic(id),
      this.topics.chargerAvailabilityTopic(id),
    ]);
  }

  private async withinStopTimeout(job: Promise<unknown>): Promise<void> {
    let timer: TimerHandle | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = this.o.clock.setTimeout(() => {
        this.log.warn('timed out publishing offline on stop');
        resolve();
      }, this.o.stopTimeoutMs ?? 3000);
    });
    await Promise.race([job.then(() => undefined), timeout]);
    this.o.clock.clearTimeout(timer);
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
