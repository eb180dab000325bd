/**
 * Diagnostic rows of the charger entity table: link, errors, per-phase readings, temperatures and
 * raw protocol codes. Per-phase values and raw codes are disabled by default (clean dashboard).
 */
import type { ChargerCapabilities } from './capabilities.js';
import { type EntityDef, jsonAttributes, jsonOnOff, jsonValue } from './entity-types.js';
import { CHARGER_STATES, OCPP_STATUSES, OUTPUT_STATES, PLUG_STATES } from './enums.js';

export const LINK_STATES = ['connecting', 'online', 'offline', 'auth_failed', 'no_adapter'] as const;

const threePhase = (c: ChargerCapabilities) => c.phases === 3;

function phaseRows(): EntityDef[] {
  const rows: EntityDef[] = [];
  for (const [n, requires] of [
    [1, undefined],
    [2, threePhase],
    [3, threePhase],
  ] as const) {
    rows.push({
      key: `voltage_l${n}`,
      platform: 'sensor',
      name: `Voltage L${n}`,
      requires,
      deviceClass: 'voltage',
      unit: 'V',
      stateClass: 'measurement',
      precision: 1,
      category: 'diagnostic',
      enabledByDefault: false,
      source: 'charger',
      valueTemplate: jsonValue(`voltage_l${n}_v`),
      live: true,
    });
  }
  for (const [n, requires] of [
    [1, undefined],
    [2, threePhase],
    [3, threePhase],
  ] as const) {
    rows.push({
      key: `current_l${n}`,
      platform: 'sensor',
      name: `Current L${n}`,
      requires,
      deviceClass: 'current',
      unit: 'A',
      stateClass: 'measurement',
      precision: 1,
      category: 'diagnostic',
      enabledByDefault: false,
      source: 'charger',
      valueTemplate: jsonValue(`current_l${n}_a`),
      live: true,
    });
  }
  return rows;
}

function rawEnumRow(key: string, name: string, options: readonly string[], requires: EntityDef['requires']) {
  return {
    key,
    platform: 'sensor',
    name,
    requires,
    deviceClass: 'enum',
    options,
    category: 'diagnostic',
    enabledByDefault: false,
    source: 'charger',
    valueTemplate: jsonValue(key),
    attributesTemplate: jsonAttributes({ code: `${key}_code` }),
  } satisfies EntityDef;
}

export const DIAGNOSTIC_ENTITIES: readonly EntityDef[] = [
  {
    key: 'problem',
    platform: 'binary_sensor',
    name: 'Problem',
    deviceClass: 'problem',
    category: 'diagnostic',
    source: 'charger',
    valueTemplate: jsonOnOff('problem'),
  },
  {
    key: 'error',
    platform: 'sensor',
    name: 'Error',
    category: 'diagnostic',
    icon: 'mdi:alert-circle-outline',
    source: 'charger',
    valueTemplate: jsonValue('error'),
    attributesTemplate: jsonAttributes({ errors: 'errors' }),
  },
  {
    key: 'link',
    platform: 'binary_sensor',
    name: 'Link',
    deviceClass: 'connectivity',
    category: 'diagnostic',
    source: 'charger',
    valueTemplate: "{{ 'ON' if value_json.link == 'online' else 'OFF' }}",
    availability: 'bridge',
  },
  {
    key: 'link_state',
    platform: 'sensor',
    name: 'Link state',
    deviceClass: 'enum',
    options: LINK_STATES,
    category: 'diagnostic',
    source: 'charger',
    valueTemplate: jsonValue('link'),
    availability: 'bridge',
  },
  ...phaseRows(),
  ...(['inner', 'outer'] as const).map(
    (where): EntityDef => ({
      key: `temperature_${where}`,
      platform: 'sensor',
      name: `Temperature ${where}`,
      requires: (c) => c.temperatures,
      deviceClass: 'temperature',
      unit: '°C',
      stateClass: 'measurement',
      precision: 1,
      category: 'diagnostic',
      source: 'charger',
      valueTemplate: jsonValue(`temperature_${where}_c`),
      live: true,
    }),
  ),
  {
    key: 'rssi',
    platform: 'sensor',
    name: 'Signal strength',
    requires: (c) => c.rssi,
    deviceClass: 'signal_strength',
    unit: 'dBm',
    stateClass: 'measurement',
    precision: 0,
    category: 'diagnostic',
    enabledByDefault: false,
    source: 'charger',
    valueTemplate: jsonValue('rssi_dbm'),
    live: true,
  },
  rawEnumRow('plug_state', 'Plug state', PLUG_STATES, (c) => c.bs20Codes),
  rawEnumRow('output_state', 'Output state', OUTPUT_STATES, (c) => c.bs20Codes),
  rawEnumRow('charger_state', 'Charger state', CHARGER_STATES, (c) => c.bs20Codes),
  rawEnumRow('ocpp_status', 'OCPP status', OCPP_STATUSES, (c) => c.ocppStatus),
  {
    key: 'last_seen',
    platform: 'sensor',
    name: 'Last seen',
    deviceClass: 'timestamp',
    category: 'diagnostic',
    enabledByDefault: false,
    source: 'charger',
    valueTemplate: jsonValue('last_seen'),
  },
];
