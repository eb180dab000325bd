/**
 * Everything the extension keeps for one charger: its publisher, the next-session choices, its
 * charge plan, its capabilities (which follow what the charger learns at login), its discovery message and the
 * command target the router uses.
 */
import { type Charger, type ChargerInfo, isClocked, isConfigurable, isRestartable } from '../core/charger.js';
import { type ChargerCapabilities, describeCapabilities } from './capabilities.js';
import { ChargePlanControl } from './charge-plan-control.js';
import type { ChargePlanStore } from './charge-plan-store.js';
import { ChargerPublisher, type ChargerPublisherOptions } from './charger-publisher.js';
import type { CommandTarget } from './command-router.js';
import { buildChargerDiscovery, type DiscoveryMessage, type OriginInfo } from './discovery.js';
import { commandKeysFor } from './entities.js';
import type { EntityOptions } from './entity-types.js';
import { NextSession, type SessionHooks } from './next-session.js';
import type { ChargerStateExtras } from './state.js';
import { BRIDGE_DEVICE_ID, deviceIdFor } from './topics.js';

/** What the session tracker adds to one charger; null = no session entities for it. */
export interface SessionFeatures {
  users: readonly string[];
  /** ISO 4217; cost sensors appear only when set. */
  currency: string | null;
}

export interface ChargerBindingOptions extends Omit<ChargerPublisherOptions, 'extras'> {
  baseTopic: string;
  discoveryPrefix: string;
  origin: OriginInfo;
  expireAfterS: number;
  scheduledStartPlatform?: EntityOptions['scheduledStartPlatform'];
  deviceTriggers?: boolean;
  sessionFeatures: SessionFeatures | null;
  /** The session tracker's state keys (session energy, totals…). */
  stateExtras?: () => ChargerStateExtras;
  /** The session tracker following user choices and stops from Home Assistant. */
  sessionHooks?: SessionHooks | null;
  /** Where charge-plan inputs are kept; the planner exists only with sessionFeatures and a store. */
  planStore?: ChargePlanStore | null;
}

export class ChargerBinding {
  readonly charger: Charger;
  readonly deviceId: string;
  readonly publisher: ChargerPublisher;
  readonly next: NextSession;
  /** The charge planner; null without the session tracker. */
  readonly plan: ChargePlanControl | null;
  private readonly o: ChargerBindingOptions;
  private caps: ChargerCapabilities;
  /** What the last discovery message was built from. */
  private builtFrom: { info: ChargerInfo; ceilingA: number } | null = null;

  constructor(options: ChargerBindingOptions) {
    this.o = options;
    this.charger = options.charger;
    this.deviceId = deviceIdFor(options.charger.id);
    this.next = new NextSession(options.sessionHooks ?? null);
    this.caps = this.describe();
    this.publisher = new ChargerPublisher({ ...options, extras: () => this.extras() });
    this.plan =
      options.sessionFeatures !== null && options.planStore
        ? new ChargePlanControl({
            charger: options.charger,
            store: options.planStore,
            clock: options.clock,
            changed: () => this.publisher.requestState(),
          })
        : null;
  }

  /** Publish state and events; follow the plan's deadline. */
  start(): void {
    this.publisher.start();
    this.plan?.start();
  }

  stop(): void {
    this.plan?.stop();
    this.publisher.stop();
  }

  /** The discovery config for the charger as it is now. */
  discovery(): DiscoveryMessage {
    const { charger } = this;
    const info = charger.getInfo();
    this.builtFrom = { info, ceilingA: charger.getCurrentCeilingA() };
    this.caps = this.describe();
    return buildChargerDiscovery({
      charger: { id: charger.id, name: charger.name, kind: charger.kind, info },
      capabilities: this.caps,
      baseTopic: this.o.baseTopic,
      discoveryPrefix: this.o.discoveryPrefix,
      bridgeDeviceId: BRIDGE_DEVICE_ID,
      origin: this.o.origin,
      expireAfterS: this.o.expireAfterS,
      ...(this.o.scheduledStartPlatform ? { scheduledStartPlatform: this.o.scheduledStartPlatform } : {}),
      ...(this.o.deviceTriggers !== undefined ? { deviceTriggers: this.o.deviceTriggers } : {}),
    });
  }

  /** True when a published discovery no longer matches (the charger learnt its model or limit at login). */
  discoveryOutdated(): boolean {
    const built = this.builtFrom;
    if (!built) return false;
    return built.info !== this.charger.getInfo() || built.ceilingA !== this.charger.getCurrentCeilingA();
  }

  commandTarget(): CommandTarget {
    return {
      charger: this.charger,
      // Recomputed per command: the ceiling and phases can change at login.
      keys: () => {
        this.caps = this.describe();
        return commandKeysFor(this.caps);
      },
      users: () => this.caps.users,
      next: this.next,
      plan: this.plan,
      applied: () => this.publisher.requestState(),
      snapBack: () => void this.publisher.publishState(true),
    };
  }

  private describe(): ChargerCapabilities {
    const { charger } = this;
    const features = this.o.sessionFeatures;
    return describeCapabilities({
      kind: charger.kind,
      phases: charger.getInfo().phases,
      maxCurrentA: charger.getCurrentCeilingA(),
      configurable: isConfigurable(charger),
      clock: isClocked(charger),
      restart: isRestartable(charger),
      sessions: features !== null,
      users: features?.users ?? [],
      currency: features?.currency ?? null,
    });
  }

  private extras(): ChargerStateExtras {
    const own = this.next.stateExtras({
      users: this.caps.sessions && this.caps.users.length > 0 ? this.caps.users : null,
      limits: this.caps.sessionLimits,
    });
    return {
      ...(this.o.stateExtras?.() ?? {}),
      ...own,
      ...(this.plan ? { plan: this.plan.stateExtras() } : {}),
    };
  }
}
