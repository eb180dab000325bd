/**
 * Every MQTT topic chargebridge uses, built from one place so publishers, subscribers and the
 * discovery payloads can never disagree (zigbee2mqtt-style layout under `<base>`).
 */

export interface TopicConfig {
  /** Root of chargebridge's own topics, e.g. `chargebridge`. May contain `/`. */
  baseTopic: string;
  /** Home Assistant discovery prefix, e.g. `homeassistant`. */
  discoveryPrefix: string;
}

/** The charger id `bridge` would collide with `<base>/bridge/...`. */
export const RESERVED_CHARGER_IDS = ['bridge'] as const;

/** Device ids (and so discovery topics) may only hold `[a-zA-Z0-9_-]`. */
export function deviceIdFor(chargerId: string): string {
  return `chargebridge_${chargerId.replace(/[^a-zA-Z0-9_-]/g, '_')}`;
}

export const BRIDGE_DEVICE_ID = 'chargebridge_bridge';

export interface Topics {
  /** Retained state JSON of one charger. */
  chargerStateTopic(chargerId: string): string;
  /** Retained `online` / `offline` of one charger's link. */
  chargerAvailabilityTopic(chargerId: string): string;
  /** Commands from Home Assistant for one setting of one charger. */
  chargerCommandTopic(chargerId: string, key: string): string;
  /** Subscription filter for every charger command. */
  chargerCommandTopicFilter(): string;
  /** Non-retained `{"event_type": …}` messages for the charger's event entity and device triggers. */
  chargerEventTopic(chargerId: string): string;
  /** `{"state":"online"|"offline"}`, retained, also the last will. */
  bridgeStateTopic(): string;
  bridgeInfoTopic(): string;
  bridgeEventTopic(): string;
  bridgeRequestTopic(name: string): string;
  /** Subscription filter for every bridge request (names may contain `/`, e.g. `sessions/list`). */
  bridgeRequestTopicFilter(): string;
  bridgeResponseTopic(name: string): string;
  deviceDiscoveryTopic(deviceId: string): string;
  /** Home Assistant's birth / last-will topic. */
  homeAssistantStatusTopic(): string;
  /** `{chargerId, key}` for a charger command topic, otherwise null. */
  parseChargerCommandTopic(topic: string): { chargerId: string; key: string } | null;
  /** The request name for a bridge request topic, otherwise null. */
  parseBridgeRequestTopic(topic: string): string | null;
}

const SEGMENT = /^[^/+#\s]+$/;

export function createTopics(config: TopicConfig): Topics {
  const base = config.baseTopic.replace(/\/+$/, '');
  const prefix = config.discoveryPrefix.replace(/\/+$/, '');
  const bridge = `${base}/bridge`;

  return {
    chargerStateTopic: (id) => `${base}/${id}`,
    chargerAvailabilityTopic: (id) => `${base}/${id}/availability`,
    chargerCommandTopic: (id, key) => `${base}/${id}/set/${key}`,
    chargerCommandTopicFilter: () => `${base}/+/set/+`,
    chargerEventTopic: (id) => `${base}/${id}/event`,
    bridgeStateTopic: () => `${bridge}/state`,
    bridgeInfoTopic: () => `${bridge}/info`,
    bridgeEventTopic: () => `${bridge}/event`,
    bridgeRequestTopic: (name) => `${bridge}/request/${name}`,
    bridgeRequestTopicFilter: () => `${bridge}/request/#`,
    bridgeResponseTopic: (name) => `${bridge}/response/${name}`,
    deviceDiscoveryTopic: (deviceId) => `${prefix}/device/${deviceId}/config`,
    homeAssistantStatusTopic: () => `${prefix}/status`,

    parseChargerCommandTopic(topic) {
      if (!topic.startsWith(`${base}/`)) return null;
      const parts = topic.slice(base.length + 1).split('/');
      if (parts.length !== 3) return null;
      const [chargerId, set, key] = parts as [string, string, string];
      if (set !== 'set' || !SEGMENT.test(chargerId) || !/^[a-z][a-z0-9_]*$/.test(key)) return null;
      if ((RESERVED_CHARGER_IDS as readonly string[]).includes(chargerId)) return null;
      return { chargerId, key };
    },

    parseBridgeRequestTopic(topic) {
      const head = `${bridge}/request/`;
      if (!topic.startsWith(head)) return null;
      const name = topic.slice(head.length);
      if (name === '' || name.split('/').some((part) => !SEGMENT.test(part))) return null;
      return name;
    },
  };
}
