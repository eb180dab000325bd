/**
 * Publishes device discovery configs (retained, QoS 1) only when they changed, or again after a
 * broker reconnect or Home Assistant's birth message; adds tombstones for components a device lost;
 * removes devices this instance published before and no longer has. The registry remembers what was
 * published, and the removals still to deliver, across restarts.
 */
import type { Logger } from '../log.js';
import type { MqttConnection } from '../mqtt/connection.js';
import { type DiscoveryMessage, removalPayload, withRemovedComponents } from './discovery.js';
import type { DiscoveryRegistry, RegisteredDevice } from './discovery-registry.js';

export type DiscoveryConnection = Pick<MqttConnection, 'publish' | 'generation'>;

export interface DiscoveryPublisherOptions {
  connection: DiscoveryConnection;
  registry: DiscoveryRegistry;
  logger: Logger;
}

interface Sent {
  json: string;
  generation: number;
}

export class DiscoveryPublisher {
  private readonly connection: DiscoveryConnection;
  private readonly registry: DiscoveryRegistry;
  private readonly log: Logger;
  private readonly sent = new Map<string, Sent>();

  constructor(options: DiscoveryPublisherOptions) {
    this.connection = options.connection;
    this.registry = options.registry;
    this.log = options.logger;
  }

  /**
   * Publish a device's config unless this broker session already has exactly this one. Resolves true
   * when it was sent; rejects when the publish failed (the next call tries again).
   */
  async publish(deviceId: string, message: DiscoveryMessage, retained: string[] = []): Promise<boolean> {
    const json = JSON.stringify(message.payload);
    const generation = this.connection.generation;
    const last = this.sent.get(deviceId);
    if (last && last.json === json && last.generation === generation) return false;
    // Remember before awaiting so a concurrent identical publish is skipped, not doubled.
    const mark = { json, generation };
    this.sent.set(deviceId, mark);
    try {
      const previous = this.registry.get(deviceId);
      if (previous && previous.topic !== message.topic) {
        // The discovery prefix changed: the old config would leave a twin device behind.
        await this.clear(previous.topic);
      }
      const sameTopic = previous?.topic === message.topic ? previous : undefined;
      const payload = withRemovedComponents(registeredPayload(deviceId, sameTopic), message.payload);
      await this.connection.publish(message.topic, JSON.stringify(payload), { retain: true, qos: 1 });
      const name = deviceName(message.payload);
      this.registry.set(deviceId, {
        topic: message.topic,
        components: platformsOf(message.payload),
        ...(name !== undefined ? { name } : {}),
        ...(retained.length > 0 ? { retained } : {}),
      });
      return true;
    } catch (err) {
      if (this.sent.get(deviceId) === mark) this.sent.delete(deviceId);
      throw err;
    }
  }

  /**
   * Devices this instance published before and that are not in `configured`: each becomes a pending
   * removal (logged with its id and name), delivered by publishRemovals. With `allowAll` false (the
   * caller's answer when no charger is configured: an empty list is far more often a damaged file
   * than a wish to remove every charger) nothing is marked, and the devices kept are returned.
   */
  planRemovals(configured: ReadonlySet<string>, allowAll: boolean): string[] {
    const gone = [...this.registry.devices()].filter(
      ([deviceId, device]) => !configured.has(deviceId) && !device.pendingRemoval,
    );
    if (gone.length === 0) return [];
    if (!allowAll) return gone.map(([deviceId]) => deviceId);
    for (const [deviceId, device] of gone) {
      this.registry.markRemoved(deviceId);
      this.sent.delete(deviceId);
      this.log.info(
        { device: deviceId, chargerName: device.name ?? null },
        'removing a charger from Home Assistant: it is no longer in the configuration',
      );
    }
    return [];
  }

  /**
   * Publish every pending removal: an empty retained discovery config (Home Assistant deletes the
   * device) and empty retained state and availability (the broker forgets them). Resolves with the
   * device ids whose removal went out; a failed one stays pending for the next try.
   */
  async publishRemovals(): Promise<string[]> {
    const done: string[] = [];
    for (const [deviceId, device] of [...this.registry.devices()]) {
      if (!device.pendingRemoval) continue;
      try {
        await this.clear(device.topic);
        for (const topic of device.retained ?? []) await this.clear(topic);
        done.push(deviceId);
      } catch (err) {
        this.log.warn({ device: deviceId, err: errorText(err) }, 'could not publish the removal of a device');
      }
    }
    return done;
  }

  /** Home Assistant has received these removals: nothing more to send for them. */
  forgetRemovals(deviceIds: readonly string[]): void {
    for (const deviceId of deviceIds) {
      const device = this.registry.get(deviceId);
      if (!device?.pendingRemoval) continue; // configured again meanwhile
      this.registry.delete(deviceId);
      this.log.info(
        { device: deviceId, chargerName: device.name ?? null },
        'Home Assistant received the removal of a charger; forgetting it',
      );
    }
  }

  /** Make the next publish of every device go out (Home Assistant restarted and asked for it). */
  forgetAll(): void {
    this.sent.clear();
  }

  private async clear(topic: string): Promise<void> {
    await this.connection.publish(topic, removalPayload(), { retain: true, qos: 1 });
  }
}

/** The registry's memory as a discovery payload, so withRemovedComponents can build tombstones from it. */
function registeredPayload(
  deviceId: string,
  device: RegisteredDevice | undefined,
): Record<string, unknown> | null {
  if (!device) return null;
  const components: Record<string, unknown> = {};
  for (const [key, p] of Object.entries(device.components))
    components[key] = { p, unique_id: `${deviceId}_${key}` };
  return { components };
}

function deviceName(payload: Record<string, unknown>): string | undefined {
  const name = (payload.device as { name?: unknown } | undefined)?.name;
  return typeof name === 'string' ? name : undefined;
}

function platformsOf(payload: Record<string, unknown>): Record<string, string> {
  const components = (payload.components ?? {}) as Record<string, { p?: unknown }>;
  const out: Record<string, string> = {};
  for (const [key, component] of Object.entries(components)) {
    if (typeof component?.p === 'string') out[key] = component.p;
  }
  return out;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
