/**
 * The entity table for one charger (docs/home-assistant.md §3). Each row names its key (also the
 * unique_id suffix and the command key), platform, HA classes, category and the capability it needs.
 * Order is the order of components in the discovery payload, so keep it stable.
 */
import { CHARGER_STATUSES, MIN_CHARGING_CURRENT_A } from '../core/charger.js';
import type { ChargerCapabilities } from './capabilities.js';
import { DIAGNOSTIC_ENTITIES } from './diagnostic-entities.js';
import {
  dateTimeControl,
  type EntityContext,
  type EntityDef,
  jsonAttributes,
  jsonOnOff,
  jsonValue,
  PAYLOAD_PRESS,
} from './entity-types.js';
import { LANGUAGES, TEMPERATURE_UNITS } from './enums.js';
import { eventTypesFor } from './events.js';
import { PLAN_ENTITIES } from './plan-entities.js';

/** Limits of the session-limit numbers (BS20 stores ×0.01 kWh and minutes in u16 fields). */
export const SESSION_LIMIT_ENERGY_MAX_KWH = 200;
export const SESSION_LIMIT_MINUTES_MAX = 1440;
export const NAME_MAX_LENGTH = 11;
export { PAYLOAD_PRESS } from './entity-types.js';

const sessions = (c: ChargerCapabilities) => c.sessions;
const costs = (c: ChargerCapabilities) => c.sessions && c.currency !== null;
const currency = ({ caps }: EntityContext) => caps.currency;

export const CHARGER_ENTITIES: readonly EntityDef[] = [
  // Main controls and readings.
  {
    key: 'charging',
    platform: 'switch',
    name: 'Charging',
    icon: 'mdi:ev-station',
    source: 'charger',
    valueTemplate: jsonOnOff('charging_enabled'),
    command: 'charger',
    fields: { payload_on: 'ON', payload_off: 'OFF' },
  },
  {
    key: 'max_current',
    platform: 'number',
    name: 'Max current',
    deviceClass: 'current',
    unit: 'A',
    category: 'config',
    source: 'charger',
    valueTemplate: jsonValue('max_current_a'),
    command: 'charger',
    fields: ({ caps }) => ({ min: MIN_CHARGING_CURRENT_A, max: caps.maxCurrentA, step: 1, mode: 'box' }),
  },
  {
    key: 'power',
    platform: 'sensor',
    name: 'Power',
    deviceClass: 'power',
    unit: 'W',
    stateClass: 'measurement',
    precision: 0,
    source: 'charger',
    valueTemplate: jsonValue('power_w'),
    live: true,
  },
  {
    key: 'energy_total',
    platform: 'sensor',
    name: 'Total energy',
    deviceClass: 'energy',
    unit: 'kWh',
    stateClass: 'total_increasing',
    precision: 2,
    source: 'charger',
    valueTemplate: jsonValue('energy_total_kwh'),
  },
  {
    key: 'status',
    platform: 'sensor',
    name: 'Status',
    deviceClass: 'enum',
    options: CHARGER_STATUSES,
    icon: 'mdi:ev-station',
    source: 'charger',
    valueTemplate: jsonValue('status'),
    // Stays available while the charger is unreachable so it can say "offline".
    availability: 'bridge',
  },
  {
    key: 'plugged',
    platform: 'binary_sensor',
    name: 'Plugged',
    deviceClass: 'plug',
    source: 'charger',
    valueTemplate: jsonOnOff('plugged'),
  },
  {
    key: 'charging_active',
    platform: 'binary_sensor',
    name: 'Charging active',
    deviceClass: 'battery_charging',
    source: 'charger',
    valueTemplate: jsonOnOff('charging_active'),
  },
  // Sessions (from the session tracker and store).
  {
    key: 'session_energy',
    platform: 'sensor',
    name: 'Session energy',
    requires: sessions,
    deviceClass: 'energy',
    unit: 'kWh',
    // No state_class: it resets at every session start and must not feed long-term sums.
    precision: 2,
    source: 'charger',
    valueTemplate: jsonValue('session_energy_kwh'),
    // The current (or last) session at a glance, for notifications and expense cards.
    attributesTemplate: jsonAttributes({
      start: 'session_start',
      duration_s: 'session_duration_s',
      user: 'session_user',
      id_tag: 'session_id_tag',
      cost: 'session_cost',
      session_id: 'session_id',
    }),
  },
  {
    key: 'session_duration',
    platform: 'sensor',
    name: 'Session duration',
    requires: sessions,
    deviceClass: 'duration',
    unit: 's',
    precision: 0,
    source: 'charger',
    valueTemplate: jsonValue('session_duration_s'),
  },
  {
    key: 'session_start',
    platform: 'sensor',
    name: 'Session start',
    requires: sessions,
    deviceClass: 'timestamp',
    source: 'charger',
    valueTemplate: jsonValue('session_start'),
  },
  {
    key: 'session_user',
    platform: 'sensor',
    name: 'Session user',
    requires: sessions,
    icon: 'mdi:account',
    source: 'charger',
    valueTemplate: jsonValue('session_user'),
    attributesTemplate: jsonAttributes({ id_tag: 'session_id_tag', session_id: 'session_id' }),
  },
  {
    key: 'session_cost',
    platform: 'sensor',
    name: 'Session cost',
    requires: costs,
    deviceClass: 'monetary',
    unit: currency,
    precision: 2,
    source: 'charger',
    valueTemplate: jsonValue('session_cost'),
  },
  {
    key: 'energy_today',
    platform: 'sensor',
    name: 'Energy today',
    requires: sessions,
    deviceClass: 'energy',
    unit: 'kWh',
    precision: 2,
    source: 'charger',
    valueTemplate: jsonValue('energy_today_kwh'),
  },
  {
    key: 'energy_month',
    platform: 'sensor',
    name: 'Energy this month',
    requires: sessions,
    deviceClass: 'energy',
    unit: 'kWh',
    precision: 2,
    source: 'charger',
    valueTemplate: jsonValue('energy_month_kwh'),
  },
  {
    key: 'cost_month',
    platform: 'sensor',
    name: 'Cost this month',
    requires: costs,
    deviceClass: 'monetary',
    unit: currency,
    precision: 2,
    source: 'charger',
    valueTemplate: jsonValue('cost_month'),
  },
  {
    key: 'event',
    platform: 'event',
    name: 'Event',
    icon: 'mdi:ev-station',
    source: 'event',
    fields: ({ caps }) => ({ event_types: eventTypesFor(caps).map((e) => e.type) }),
  },
  // Settings.
  {
    key: 'user',
    platform: 'select',
    name: 'User',
    requires: (c) => c.sessions && c.users.length > 0,
    category: 'config',
    icon: 'mdi:account',
    options: ({ caps }) => caps.users,
    source: 'charger',
    valueTemplate: jsonValue('user'),
    command: 'charger',
  },
  {
    key: 'session_limit_energy',
    platform: 'number',
    name: 'Session energy limit',
    requires: (c) => c.sessionLimits,
    deviceClass: 'energy',
    unit: 'kWh',
    category: 'config',
    icon: 'mdi:battery-charging-high',
    source: 'charger',
    valueTemplate: jsonValue('session_limit_energy_kwh'),
    command: 'charger',
    fields: { min: 0, max: SESSION_LIMIT_ENERGY_MAX_KWH, step: 0.1, mode: 'box' },
  },
  {
    key: 'session_limit_minutes',
    platform: 'number',
    name: 'Session time limit',
    requires: (c) => c.sessionLimits,
    deviceClass: 'duration',
    unit: 'min',
    category: 'config',
    icon: 'mdi:timer-outline',
    source: 'charger',
    valueTemplate: jsonValue('session_limit_minutes'),
    command: 'charger',
    fields: { min: 0, max: SESSION_LIMIT_MINUTES_MAX, step: 1, mode: 'box' },
  },
  {
    key: 'scheduled_start',
    name: 'Scheduled start',
    requires: (c) => c.scheduling,
    category: 'config',
    icon: 'mdi:clock-start',
    source: 'charger',
    ...dateTimeControl('scheduled_start'),
    command: 'charger',
  },
  {
    key: 'name',
    platform: 'text',
    name: 'Charger name',
    requires: (c) => c.configurable,
    category: 'config',
    icon: 'mdi:rename',
    source: 'charger',
    valueTemplate: jsonValue('name'),
    command: 'charger',
    fields: { min: 1, max: NAME_MAX_LENGTH, mode: 'text', pattern: `^[ -~]{1,${NAME_MAX_LENGTH}}$` },
  },
  {
    key: 'language',
    platform: 'select',
    name: 'Language',
    requires: (c) => c.configurable,
    category: 'config',
    enabledByDefault: false,
    icon: 'mdi:translate',
    options: LANGUAGES,
    source: 'charger',
    valueTemplate: jsonValue('language'),
    command: 'charger',
  },
  {
    key: 'temperature_unit',
    platform: 'select',
    name: 'Temperature unit',
    requires: (c) => c.configurable,
    category: 'config',
    enabledByDefault: false,
    icon: 'mdi:thermometer',
    options: TEMPERATURE_UNITS,
    source: 'charger',
    valueTemplate: jsonValue('temperature_unit'),
    command: 'charger',
  },
  {
    key: 'sync_time',
    platform: 'button',
    name: 'Sync time',
    requires: (c) => c.clock,
    category: 'config',
    icon: 'mdi:clock-check-outline',
    command: 'charger',
    fields: { payload_press: PAYLOAD_PRESS },
  },
  {
    key: 'restart',
    platform: 'button',
    name: 'Restart',
    requires: (c) => c.restart,
    deviceClass: 'restart',
    category: 'config',
    command: 'charger',
    fields: { payload_press: PAYLOAD_PRESS },
  },
  // Charge planner (needs the session tracker, like the session rows).
  ...PLAN_ENTITIES,
  ...DIAGNOSTIC_ENTITIES,
];

/** The rows this charger supports, in table order. */
export function chargerEntitiesFor(caps: ChargerCapabilities): EntityDef[] {
  return CHARGER_ENTITIES.filter((row) => row.requires?.(caps) ?? true);
}

/** Keys of the charger entities that take commands (the `set/<key>` topics to subscribe to). */
export function commandKeysFor(caps: ChargerCapabilities): string[] {
  return chargerEntitiesFor(caps)
    .filter((row) => row.command === 'charger')
    .map((row) => row.key);
}
