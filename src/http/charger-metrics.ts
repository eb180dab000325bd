/**
 * Metric families for the chargers: their state as the core sees it, and the counters of the link
 * underneath when the charger has them. Live readings (power, plugged, charging, phases) are left
 * out while the link is down, so a graph shows a gap instead of the last value frozen in place.
 */
import { CHARGER_STATUSES, type Charger, type LinkState } from '../core/charger.js';
import type { MetricFamily, Sample } from './prometheus.js';
import { hasLinkCounters, type LinkCounters } from './providers.js';

const LINK_STATES: readonly LinkState[] = ['connecting', 'online', 'offline', 'auth_failed', 'no_adapter'];

type Reading = (charger: Charger) => Sample[];

function family(
  name: string,
  help: string,
  type: 'gauge' | 'counter',
  chargers: readonly Charger[],
  read: Reading,
) {
  return { name, help, type, samples: chargers.flatMap(read) } satisfies MetricFamily;
}

const bit = (on: boolean) => (on ? 1 : 0);

/** One sample labelled with the charger id, or none when the value is unknown. */
function one(
  charger: Charger,
  value: number | null | undefined,
  extra: Record<string, string> = {},
): Sample[] {
  return value === null || value === undefined ? [] : [{ labels: { charger: charger.id, ...extra }, value }];
}

function live(charger: Charger, value: number | null | undefined, extra?: Record<string, string>): Sample[] {
  return charger.getState().link === 'online' ? one(charger, value, extra) : [];
}

export function chargerFamilies(chargers: readonly Charger[]): MetricFamily[] {
  return [
    family(
      'chargebridge_charger_link_up',
      '1 while the link to the charger is up (BLE logged in, OCPP connected)',
      'gauge',
      chargers,
      (c) => one(c, bit(c.getState().link === 'online'), { kind: c.kind }),
    ),
    family(
      'chargebridge_charger_link_state',
      'State of the link to the charger: 1 for the current state, 0 for the others',
      'gauge',
      chargers,
      (c) => LINK_STATES.flatMap((state) => one(c, bit(c.getState().link === state), { state })),
    ),
    family(
      'chargebridge_charger_status',
      'Charger status: 1 for the current status, 0 for the others',
      'gauge',
      chargers,
      (c) => CHARGER_STATUSES.flatMap((status) => one(c, bit(c.getState().status === status), { status })),
    ),
    family(
      'chargebridge_charger_power_watts',
      'Charging power (only while the link is up)',
      'gauge',
      chargers,
      (c) => live(c, c.getState().powerW),
    ),
    family(
      'chargebridge_charger_energy_kwh_total',
      'Lifetime energy register of the charger (the last value read while the link is down)',
      'counter',
      chargers,
      (c) => one(c, c.getState().energyTotalKwh),
    ),
    family(
      'chargebridge_charger_charging',
      '1 while energy flows to the car (only while the link is up)',
      'gauge',
      chargers,
      (c) => live(c, bit(c.getState().charging)),
    ),
    family(
      'chargebridge_charger_plugged',
      '1 while a car is plugged in (only while the link is up)',
      'gauge',
      chargers,
      (c) => live(c, bit(c.getState().plugged)),
    ),
    family(
      'chargebridge_charger_max_current_amperes',
      'Charging current setpoint in force',
      'gauge',
      chargers,
      (c) => one(c, c.getState().maxCurrentA),
    ),
    family(
      'chargebridge_charger_current_ceiling_amperes',
      'Highest current chargebridge will set (hardware limit and configured max_current)',
      'gauge',
      chargers,
      (c) => one(c, c.getCurrentCeilingA()),
    ),
    family(
      'chargebridge_charger_phase_current_amperes',
      'Current per phase (only while the link is up)',
      'gauge',
      chargers,
      (c) => c.getState().phases.flatMap((p, i) => live(c, p.currentA, { phase: `L${i + 1}` })),
    ),
    family(
      'chargebridge_charger_phase_voltage_volts',
      'Voltage per phase (only while the link is up)',
      'gauge',
      chargers,
      (c) => c.getState().phases.flatMap((p, i) => live(c, p.voltageV, { phase: `L${i + 1}` })),
    ),
    family(
      'chargebridge_charger_temperature_celsius',
      'Temperatures the charger reports (only while the link is up)',
      'gauge',
      chargers,
      (c) => [
        ...live(c, c.getState().temperatureInnerC, { sensor: 'inner' }),
        ...live(c, c.getState().temperatureOuterC, { sensor: 'outer' }),
      ],
    ),
    family(
      'chargebridge_charger_rssi_dbm',
      'Bluetooth signal strength last measured',
      'gauge',
      chargers,
      (c) => one(c, c.getState().rssiDbm),
    ),
    family(
      'chargebridge_charger_errors',
      'Number of errors the charger reports as active',
      'gauge',
      chargers,
      (c) => one(c, c.getState().errors.length),
    ),
    family(
      'chargebridge_charger_error_active',
      '1 for each error the charger reports as active',
      'gauge',
      chargers,
      (c) => [...new Set(c.getState().errors)].flatMap((error) => one(c, 1, { error })),
    ),
  ];
}

const LINK_COUNTERS: ReadonlyArray<[keyof LinkCounters, string, string]> = [
  [
    'reconnects',
    'chargebridge_ble_reconnects_total',
    'Logins after the first: the link came back after a loss',
  ],
  [
    'linkLosses',
    'chargebridge_ble_link_losses_total',
    'Links lost (dropped, stale, login timeout, wrong PIN)',
  ],
  ['framesReceived', 'chargebridge_ble_frames_received_total', 'Valid frames received from the charger'],
  ['badFrames', 'chargebridge_ble_bad_frames_total', 'Frame candidates with a wrong checksum or tail'],
  ['discardedBytes', 'chargebridge_ble_discarded_bytes_total', 'Bytes thrown away while looking for frames'],
  [
    'malformedMessages',
    'chargebridge_ble_malformed_messages_total',
    'Frames whose payload could not be decoded',
  ],
  ['commandsSent', 'chargebridge_ble_commands_sent_total', 'Requests written to the charger'],
  [
    'commandsFailed',
    'chargebridge_ble_commands_failed_total',
    'Requests not written or cut off by a lost link',
  ],
  [
    'commandsTimedOut',
    'chargebridge_ble_commands_timed_out_total',
    'Requests the charger did not answer in time',
  ],
];

/** Counters of the EVSE Master link of each BS20 (BLE, or the simulator in demo mode). */
export function linkFamilies(chargers: readonly Charger[]): MetricFamily[] {
  const withCounters = chargers
    .filter(hasLinkCounters)
    .map((c) => ({ id: c.id, counters: c.linkCounters() }));
  return LINK_COUNTERS.map(([key, name, help]) => ({
    name,
    help,
    type: 'counter' as const,
    samples: withCounters.map(({ id, counters }) => ({ labels: { charger: id }, value: counters[key] })),
  }));
}
