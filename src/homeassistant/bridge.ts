/**
 * The bridge device in Home Assistant (like zigbee2mqtt's): its entity rows and the retained
 * `<base>/bridge/info` JSON their templates read.
 */
import type { ChargerKind } from '../core/charger.js';
import type { StoreProblem } from '../core/store-problems.js';
import { type EntityDef, jsonValue } from './entity-types.js';
import { LOG_LEVELS } from './enums.js';

export const BRIDGE_ENTITIES: readonly EntityDef[] = [
  {
    key: 'connection_state',
    platform: 'binary_sensor',
    name: 'Connection state',
    deviceClass: 'connectivity',
    category: 'diagnostic',
    source: 'bridge_state',
    valueTemplate: jsonValue('state'),
    // No availability: it must be able to show "disconnected" when the last will fires.
    availability: 'none',
    fields: { payload_on: 'online', payload_off: 'offline' },
  },
  {
    key: 'version',
    platform: 'sensor',
    name: 'Version',
    category: 'diagnostic',
    icon: 'mdi:information-outline',
    source: 'bridge_info',
    valueTemplate: jsonValue('version'),
  },
  {
    key: 'chargers_online',
    platform: 'sensor',
    name: 'Chargers online',
    stateClass: 'measurement',
    icon: 'mdi:ev-station',
    source: 'bridge_info',
    valueTemplate: jsonValue('chargers_online'),
  },
  {
    key: 'log_level',
    platform: 'select',
    name: 'Log level',
    category: 'config',
    icon: 'mdi:format-list-bulleted',
    options: LOG_LEVELS,
    source: 'bridge_info',
    valueTemplate: jsonValue('log_level'),
    command: { bridgeRequest: 'log_level' },
    // The request API takes a JSON body: `{"value": "debug"}`.
    fields: { command_template: '{"value": "{{ value }}"}' },
  },
  {
    // ON while a store problem is unresolved; its details are the attributes (the newest first).
    key: 'store_problem',
    platform: 'binary_sensor',
    name: 'Store problem',
    deviceClass: 'problem',
    category: 'diagnostic',
    source: 'bridge_info',
    valueTemplate: "{{ 'ON' if value_json.store_problems else 'OFF' }}",
    attributesTemplate:
      '{{ dict(value_json.store_problems[-1] if value_json.store_problems else {}, ' +
      'count=value_json.store_problems | length, problems=value_json.store_problems) | tojson }}',
  },
  {
    key: 'clear_store_problems',
    platform: 'button',
    name: 'Clear store problems',
    category: 'diagnostic',
    icon: 'mdi:check-circle-outline',
    command: { bridgeRequest: 'store_problems/clear' },
    fields: { payload_press: '{}' },
  },
  {
    key: 'restart',
    platform: 'button',
    name: 'Restart',
    deviceClass: 'restart',
    category: 'config',
    command: { bridgeRequest: 'restart' },
    fields: { payload_press: '{}' },
  },
];

export interface BridgeInfoInput {
  version: string;
  logLevel: string;
  chargers: ReadonlyArray<{ id: string; name: string; kind: ChargerKind; online: boolean }>;
  /** Configuration summary, already without secrets. */
  config?: Record<string, unknown>;
  /** Unresolved store problems, oldest first. */
  storeProblems?: readonly StoreProblem[];
}

/** The retained `<base>/bridge/info` payload; chargers sorted by id so the string is stable. */
export function bridgeInfoToJson(input: BridgeInfoInput): Record<string, unknown> {
  const chargers = [...input.chargers]
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((c) => ({ id: c.id, name: c.name, kind: c.kind, online: c.online }));
  return {
    version: input.version,
    log_level: input.logLevel,
    chargers_online: chargers.filter((c) => c.online).length,
    chargers,
    config: input.config ?? {},
    store_problems: (input.storeProblems ?? []).map((p) => ({
      file: p.file,
      kind: p.kind,
      reason: p.reason,
      moved_to: p.movedTo,
      recovered_from: p.recoveredFrom,
      at: new Date(p.at).toISOString(),
    })),
  };
}

/** The retained bridge state / last-will payload. */
export function bridgeStatePayload(online: boolean): string {
  return JSON.stringify({ state: online ? 'online' : 'offline' });
}
