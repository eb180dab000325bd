/**
 * Charge-plan rows of the charger entity table: the plan's inputs (battery size, state of charge now
 * and wanted, deadline), the current it needs, and a button that applies it. They come with the
 * session tracker (`sessions` capability), like the other session entities.
 */
import type { ChargerCapabilities } from './capabilities.js';
import { dateTimeControl, type EntityDef, jsonAttributes, jsonValue, PAYLOAD_PRESS } from './entity-types.js';

export const PLAN_BATTERY_MIN_KWH = 1;
export const PLAN_BATTERY_MAX_KWH = 200;
/** A deadline further ahead is almost certainly a typo (a wrong year or month). */
export const PLAN_DEADLINE_MAX_AHEAD_DAYS = 7;

const sessions = (c: ChargerCapabilities) => c.sessions;

const socFields = { min: 0, max: 100, step: 1, mode: 'slider' };

export const PLAN_ENTITIES: readonly EntityDef[] = [
  {
    key: 'plan_battery_kwh',
    platform: 'number',
    name: 'Plan battery capacity',
    requires: sessions,
    deviceClass: 'energy_storage',
    unit: 'kWh',
    category: 'config',
    icon: 'mdi:car-battery',
    source: 'charger',
    valueTemplate: jsonValue('plan_battery_kwh'),
    command: 'charger',
    fields: { min: PLAN_BATTERY_MIN_KWH, max: PLAN_BATTERY_MAX_KWH, step: 0.1, mode: 'box' },
  },
  {
    key: 'plan_soc_now',
    platform: 'number',
    name: 'Plan state of charge now',
    requires: sessions,
    deviceClass: 'battery',
    unit: '%',
    source: 'charger',
    valueTemplate: jsonValue('plan_soc_now_percent'),
    command: 'charger',
    fields: socFields,
  },
  {
    key: 'plan_soc_target',
    platform: 'number',
    name: 'Plan target state of charge',
    requires: sessions,
    deviceClass: 'battery',
    unit: '%',
    icon: 'mdi:battery-arrow-up',
    source: 'charger',
    valueTemplate: jsonValue('plan_soc_target_percent'),
    command: 'charger',
    fields: socFields,
  },
  {
    key: 'plan_deadline',
    name: 'Plan deadline',
    requires: sessions,
    icon: 'mdi:clock-end',
    source: 'charger',
    ...dateTimeControl('plan_deadline'),
    command: 'charger',
  },
  {
    key: 'plan_current',
    platform: 'sensor',
    name: 'Planned current',
    requires: sessions,
    deviceClass: 'current',
    unit: 'A',
    precision: 0,
    icon: 'mdi:calculator-variant',
    source: 'charger',
    valueTemplate: jsonValue('plan_current_a'),
    attributesTemplate: jsonAttributes({
      status: 'plan_status',
      message: 'plan_message',
      energy_to_battery_kwh: 'plan_energy_to_battery_kwh',
      energy_from_grid_kwh: 'plan_energy_from_grid_kwh',
      hours_available: 'plan_hours_available',
      power_w: 'plan_power_w',
      finishes_at: 'plan_finishes_at',
      soc_at_deadline_percent: 'plan_soc_at_deadline_percent',
      deadline: 'plan_deadline',
    }),
  },
  {
    key: 'plan_apply',
    platform: 'button',
    name: 'Apply charge plan',
    requires: sessions,
    icon: 'mdi:check-circle-outline',
    command: 'charger',
    fields: { payload_press: PAYLOAD_PRESS },
  },
];
