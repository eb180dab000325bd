/**
 * One charger's topics: `<base>/<id>/availability` from its link, the retained state JSON on
 * `<base>/<id>` (throttled, and refreshed while online so expire_after does not expire live values),
 * and its events on `<base>/<id>/event` and `<base>/bridge/event`.
 */
import type { Charger, ChargerEvent, ChargerState } from '../core/charger.js';
import type { Clock, TimerHandle } from '../core/clock.js';
import type { Logger } from '../log.js';
import type { MqttConnection } from '../mqtt/connection.js';
import { RetainedPublisher } from '../mqtt/retained-publisher.js';
import { eventToJson } from './events.js';
import { type ChargerStateExtras, chargerAvailability, chargerStateToJson } from './state.js';
import type { Topics } from './topics.js';

export type PublishConnection = Pick<MqttConnection, 'publish' | 'generation'>;

export type BridgeEventSink = (
  type: string,
  chargerId: string,
  data: Record<string, unknown>,
) => Promise<void>;

export interface ChargerPublisherOptions {
  charger: Charger;
  topics: Topics;
  connection: PublishConnection;
  clock: Clock;
  logger: Logger;
  /** A burst of state changes gives at most one state publish per this many ms. */
  throttleMs: number;
  /** While the link is online, re-publish an unchanged state after this long; 0 = never. */
  refreshMs: number;
  /** What the session tracker and the next-session settings add to the state JSON. */
  extras: () => ChargerStateExtras;
  bridgeEvent: BridgeEventSink;
}

/** Charger event types under the names `bridge/event` uses (zigbee2mqtt-like wording). */
const BRIDGE_EVENT_NAMES: Partial<Record<ChargerEvent['type'], string>> = {
  link_up: 'charger_connected',
  link_lost: 'charger_lost',
  auth_failed: 'charger_auth_failed',
};

export class ChargerPublisher {
  readonly charger: Charger;
  private readonly o: ChargerPublisherOptions;
  private readonly log: Logger;
  private readonly availability: RetainedPublisher;
  private readonly state: RetainedPublisher;
  private readonly unsubscribe: Array<() => void> = [];
  private lastStateAt = Number.NEGATIVE_INFINITY;
  private throttleTimer: TimerHandle | undefined;
  private refreshTimer: TimerHandle | undefined;
  private stopped = true;

  constructor(options: ChargerPublisherOptions) {
    this.o = options;
    this.charger = options.charger;
    this.log = options.logger.child({ charger: options.charger.id });
    this.availability = new RetainedPublisher(options.connection);
    this.state = new RetainedPublisher(options.connection);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.unsubscribe.push(
      this.charger.events.on('state', (next, previous) => this.onState(next, previous)),
      this.charger.events.on('event', (event) => this.onEvent(event)),
    );
  }

  stop(): void {
    this.stopped = true;
    for (const off of this.unsubscribe.splice(0)) off();
    this.o.clock.clearTimeout(this.throttleTimer);
    this.o.clock.clearTimeout(this.refreshTimer);
    this.throttleTimer = undefined;
    this.refreshTimer = undefined;
  }

  /** Availability and state again, even if unchanged (reconnect, Home Assistant birth). */
  async publishAll(): Promise<void> {
    this.availability.forgetAll();
    await Promise.all([this.publishAvailability(), this.publishState(true)]);
  }

  /** Publish the state soon, at most once per throttle period (e.g. after a command went through). */
  requestState(): void {
    if (this.stopped || this.throttleTimer) return;
    const waitMs = this.lastStateAt + this.o.throttleMs - this.o.clock.now();
    if (waitMs <= 0) {
      void this.publishState(false);
      return;
    }
    this.throttleTimer = this.o.clock.setTimeout(() => {
      this.throttleTimer = undefined;
      void this.publishState(false);
    }, waitMs);
  }

  /**
   * Publish the current state now. `force` sends it even when unchanged: Home Assistant then
   * re-renders the entity, so a control whose command was rejected snaps back. Never throws.
   */
  async publishState(force: boolean): Promise<void> {
    this.o.clock.clearTimeout(this.throttleTimer);
    this.throttleTimer = undefined;
    this.lastStateAt = this.o.clock.now();
    this.armRefresh();
    const current = this.charger.getState();
    let json: string;
    try {
      json = JSON.stringify(chargerStateToJson(current, this.o.extras()));
    } catch (err) {
      this.log.error({ err: errorText(err) }, 'could not build the state JSON');
      return;
    }
    if (force) this.state.forgetAll();
    await this.state
      .publish(this.o.topics.chargerStateTopic(this.charger.id), json)
      .catch((err: unknown) => this.log.warn({ err: errorText(err) }, 'could not publish the charger state'));
  }

  /** `offline` on the availability topic whatever the link says (the daemon is stopping). */
  async publishOffline(): Promise<void> {
    await this.availability.publish(this.o.topics.chargerAvailabilityTopic(this.charger.id), 'offline');
  }

  private async publishAvailability(): Promise<void> {
    const payload = chargerAvailability(this.charger.getState());
    await this.availability
      .publish(this.o.topics.chargerAvailabilityTopic(this.charger.id), payload)
      .catch((err: unknown) => this.log.warn({ err: errorText(err) }, 'could not publish availability'));
  }

  private onState(next: ChargerState, previous: ChargerState): void {
    if (this.stopped) return;
    if (chargerAvailability(next) !== chargerAvailability(previous)) {
      void this.publishAvailability();
      // A link change is news: no throttle delay for it.
      this.o.clock.clearTimeout(this.throttleTimer);
      this.throttleTimer = undefined;
      void this.publishState(false);
      return;
    }
    this.requestState();
  }

  private onEvent(event: ChargerEvent): void {
    if (this.stopped) return;
    const id = this.charger.id;
    const payload = eventToJson(event);
    if (payload !== null) {
      this.o.connection
        .publish(this.o.topics.chargerEventTopic(id), JSON.stringify(payload), { qos: 1, retain: false })
        .catch((err: unknown) =>
          this.log.warn({ err: errorText(err), event: event.type }, 'could not publish event'),
        );
    }
    const type = BRIDGE_EVENT_NAMES[event.type] ?? event.type;
    this.o
      .bridgeEvent(type, id, { ...(event.data ?? {}) })
      .catch((err: unknown) =>
        this.log.warn({ err: errorText(err), event: type }, 'could not publish bridge event'),
      );
  }

  /** Keep expire_after from marking live values unavailable when nothing changed for a while. */
  private armRefresh(): void {
    this.o.clock.clearTimeout(this.refreshTimer);
    this.refreshTimer = undefined;
    if (this.stopped || this.o.refreshMs <= 0) return;
    this.refreshTimer = this.o.clock.setTimeout(() => {
      this.refreshTimer = undefined;
      // Offline: expiring is right, and the link coming back publishes anyway.
      if (this.charger.getState().link === 'online') void this.publishState(true);
    }, this.o.refreshMs);
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
