/**
 * Device-based Home Assistant discovery: one retained payload per device on
 * `<prefix>/device/<device_id>/config` holding `device`, `origin` and `components`. Pure: the same
 * input always gives the same object with the same key order, so the JSON string can be compared
 * to decide whether to re-publish.
 */
import type { ChargerInfo, ChargerKind } from '../core/charger.js';
import { BRIDGE_ENTITIES } from './bridge.js';
import type { ChargerCapabilities } from './capabilities.js';
import { chargerEntitiesFor } from './entities.js';
import {
  type EntityContext,
  type EntityDef,
  type EntityOptions,
  type Platform,
  resolve,
  type StateSource,
} from './entity-types.js';
import { eventTypesFor } from './events.js';
import { BRIDGE_DEVICE_ID, createTopics, deviceIdFor, type Topics } from './topics.js';

export interface OriginInfo {
  name: string;
  /** The daemon's version. */
  sw_version: string;
  support_url: string;
}

export interface ChargerDiscoveryInput {
  charger: { id: string; name: string; kind: ChargerKind; info: ChargerInfo };
  capabilities: ChargerCapabilities;
  baseTopic: string;
  discoveryPrefix: string;
  bridgeDeviceId: string;
  origin: OriginInfo;
  /** expire_after for live measurements; longer than the status cadence. 0 disables it. */
  expireAfterS: number;
  /** Defaults to `datetime` (HA ≥ 2026.5); `text` for older Home Assistant. */
  scheduledStartPlatform?: EntityOptions['scheduledStartPlatform'];
  /** Device triggers for each event type; defaults to true. */
  deviceTriggers?: boolean;
}

export interface BridgeDiscoveryInput {
  baseTopic: string;
  discoveryPrefix: string;
  origin: OriginInfo;
  bridgeDeviceId?: string;
}

export interface DiscoveryMessage {
  topic: string;
  payload: Record<string, unknown>;
}

/** Publishing this (retained) on a discovery topic deletes the device in Home Assistant. */
export function removalPayload(): string {
  return '';
}

/** Entity ids may only hold `[a-z0-9_]`. */
export function entitySlug(text: string): string {
  const slug = text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return slug === '' ? 'charger' : slug;
}

interface ComponentEnv {
  ctx: EntityContext | null;
  topics: Topics;
  deviceId: string;
  entityPrefix: string;
  stateTopics: Partial<Record<StateSource, string>>;
  chargerId: string | null;
  chargerAvailabilityTopic: string | null;
  expireAfterS: number;
}

function availabilityFor(row: EntityDef, env: ComponentEnv): Record<string, unknown> {
  const mode = row.availability ?? 'both';
  if (mode === 'none') return {};
  const list: Array<Record<string, string>> = [
    { topic: env.topics.bridgeStateTopic(), value_template: '{{ value_json.state }}' },
  ];
  if (mode === 'both' && env.chargerAvailabilityTopic !== null)
    list.push({ topic: env.chargerAvailabilityTopic });
  return { availability: list, availability_mode: 'all' };
}

function commandTopicFor(row: EntityDef, env: ComponentEnv): string | null {
  if (row.command === undefined) return null;
  if (row.command === 'charger') {
    return env.chargerId === null ? null : env.topics.chargerCommandTopic(env.chargerId, row.key);
  }
  return env.topics.bridgeRequestTopic(row.command.bridgeRequest);
}

function buildComponent(row: EntityDef, env: ComponentEnv): Record<string, unknown> {
  const platform: Platform = resolve(row.platform, env.ctx);
  const unit = row.unit === undefined ? null : resolve(row.unit, env.ctx);
  const options = row.options === undefined ? null : resolve(row.options, env.ctx);
  const stateTopic = row.source === undefined ? null : (env.stateTopics[row.source] ?? null);
  const valueTemplate = row.valueTemplate === undefined ? null : resolve(row.valueTemplate, env.ctx);
  const commandTopic = commandTopicFor(row, env);
  const fields = row.fields === undefined ? {} : resolve(row.fields, env.ctx);
  const expires =
    row.live === true && env.expireAfterS > 0 && (platform === 'sensor' || platform === 'binary_sensor');

  const c: Record<string, unknown> = {
    p: platform,
    name: row.name,
    unique_id: `${env.deviceId}_${row.key}`,
    default_entity_id: `${platform}.${env.entityPrefix}_${row.key}`,
  };
  if (row.deviceClass !== undefined) c.device_class = row.deviceClass;
  if (unit !== null) c.unit_of_measurement = unit;
  if (row.stateClass !== undefined) c.state_class = row.stateClass;
  if (row.precision !== undefined) c.suggested_display_precision = row.precision;
  if (options !== null) c.options = [...options];
  if (row.category !== undefined) c.entity_category = row.category;
  if (row.enabledByDefault === false) c.enabled_by_default = false;
  if (row.icon !== undefined) c.icon = row.icon;
  if (stateTopic !== null) c.state_topic = stateTopic;
  if (valueTemplate !== null) c.value_template = valueTemplate;
  if (row.attributesTemplate !== undefined && stateTopic !== null) {
    c.json_attributes_topic = stateTopic;
    c.json_attributes_template = row.attributesTemplate;
  }
  if (commandTopic !== null) c.command_topic = commandTopic;
  Object.assign(c, fields);
  if (expires) c.expire_after = env.expireAfterS;
  Object.assign(c, availabilityFor(row, env));
  return c;
}

function chargerDevice(input: ChargerDiscoveryInput, deviceId: string): Record<string, unknown> {
  const { info } = input.charger;
  const device: Record<string, unknown> = {
    identifiers: [deviceId],
    name: input.charger.name,
    manufacturer: info.manufacturer,
    model: info.model,
  };
  if (info.serialNumber) device.serial_number = info.serialNumber;
  if (info.firmwareVersion) device.sw_version = info.firmwareVersion;
  if (info.hardwareVersion) device.hw_version = info.hardwareVersion;
  if (info.bleAddress) device.connections = [['mac', info.bleAddress.toLowerCase()]];
  device.via_device = input.bridgeDeviceId;
  return device;
}

function originOf(origin: OriginInfo): Record<string, unknown> {
  return { name: origin.name, sw_version: origin.sw_version, support_url: origin.support_url };
}

export function buildChargerDiscovery(input: ChargerDiscoveryInput): DiscoveryMessage {
  const topics = createTopics(input);
  const chargerId = input.charger.id;
  const deviceId = deviceIdFor(chargerId);
  const ctx: EntityContext = {
    caps: input.capabilities,
    options: { scheduledStartPlatform: input.scheduledStartPlatform ?? 'datetime' },
  };
  const env: ComponentEnv = {
    ctx,
    topics,
    deviceId,
    entityPrefix: entitySlug(chargerId),
    stateTopics: {
      charger: topics.chargerStateTopic(chargerId),
      event: topics.chargerEventTopic(chargerId),
      bridge_state: topics.bridgeStateTopic(),
      bridge_info: topics.bridgeInfoTopic(),
    },
    chargerId,
    chargerAvailabilityTopic: topics.chargerAvailabilityTopic(chargerId),
    expireAfterS: input.expireAfterS,
  };

  const components: Record<string, unknown> = {};
  for (const row of chargerEntitiesFor(input.capabilities)) components[row.key] = buildComponent(row, env);
  if (input.deviceTriggers ?? true) {
    for (const { type, subtype } of eventTypesFor(input.capabilities)) {
      components[`trigger_${type}`] = {
        p: 'device_automation',
        automation_type: 'trigger',
        topic: topics.chargerEventTopic(chargerId),
        type,
        subtype,
        payload: type,
        value_template: '{{ value_json.event_type }}',
      };
    }
  }

  return {
    topic: topics.deviceDiscoveryTopic(deviceId),
    payload: {
      device: chargerDevice(input, deviceId),
      origin: originOf(input.origin),
      components,
      qos: 1,
    },
  };
}

export function buildBridgeDiscovery(input: BridgeDiscoveryInput): DiscoveryMessage {
  const topics = createTopics(input);
  const deviceId = input.bridgeDeviceId ?? BRIDGE_DEVICE_ID;
  const env: ComponentEnv = {
    ctx: null,
    topics,
    deviceId,
    entityPrefix: entitySlug(deviceId.replace(/_bridge$/, '')),
    stateTopics: { bridge_state: topics.bridgeStateTopic(), bridge_info: topics.bridgeInfoTopic() },
    chargerId: null,
    chargerAvailabilityTopic: null,
    expireAfterS: 0,
  };
  const components: Record<string, unknown> = {};
  for (const row of BRIDGE_ENTITIES) components[row.key] = buildComponent(row, env);
  return {
    topic: topics.deviceDiscoveryTopic(deviceId),
    payload: {
      device: {
        identifiers: [deviceId],
        name: 'chargebridge',
        manufacturer: 'chargebridge',
        model: 'Bridge',
        sw_version: input.origin.sw_version,
      },
      origin: originOf(input.origin),
      components,
      qos: 1,
    },
  };
}

/**
 * `next`, plus a `{"p": …}` tombstone for every component `previous` had and `next` lacks: that is
 * how HA is told to delete a single entity from a device. Tombstones are not carried forward.
 */
export function withRemovedComponents(
  previous: Record<string, unknown> | null,
  next: Record<string, unknown>,
): Record<string, unknown> {
  const before = (previous?.components ?? {}) as Record<string, Record<string, unknown>>;
  const after = (next.components ?? {}) as Record<string, unknown>;
  const removed = Object.keys(before)
    .filter((id) => !(id in after) && Object.keys(before[id] ?? {}).length > 1)
    .sort();
  if (removed.length === 0) return next;
  const components: Record<string, unknown> = { ...after };
  for (const id of removed) components[id] = { p: before[id]?.p };
  return { ...next, components };
}
