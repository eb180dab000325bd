/**
 * One `chargers:` entry of `type: bs20` (Besen BS20 / "EVSE Master" app chargers), reached over
 * BLE or simulated in-process. Flat keys with a cross-field check (rather than a union per
 * transport) so a mistake gets a message that names the fix instead of "no option matched".
 */
import { z } from 'zod';
import {
  EVEN_WITH_ERRORS,
  flag,
  macAddress,
  oneOf,
  oneOfNumbers,
  reportAt,
  ruleError,
  text,
  wholeNumber,
} from '../fields.js';
import { ocppUpstreamSection } from './ocpp-upstream.js';
import { switchingSection } from './switching.js';

export const BS20_FACTORY_PIN = '123456';
export const MAX_CURRENT_RANGE_A = { min: 6, max: 80 } as const;

const PIN_RULE = 'must be exactly 6 digits in quotes, e.g. pin: "012345"';

export function pin() {
  return z
    .string({
      error: (issue) =>
        typeof issue.input === 'number'
          ? `${PIN_RULE}; without quotes YAML reads it as a number and drops leading zeros`
          : ruleError(PIN_RULE)(issue),
    })
    .regex(/^\d{6}$/, { error: PIN_RULE });
}

const ID_RULE =
  'must be a short id of lower-case letters, digits and _ (it becomes part of MQTT topics and entity ids)';

function slugify(value: string): string {
  return value
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 32);
}

export function chargerId() {
  return (
    z
      .string({ error: ruleError(`${ID_RULE}, e.g. garage`) })
      .regex(/^[a-z0-9_]{1,32}$/, {
        error: (issue) => {
          const suggestion = typeof issue.input === 'string' ? slugify(issue.input) : '';
          return `${ID_RULE}, at most 32 characters${suggestion ? `, e.g. "${suggestion}"` : ''}`;
        },
      })
      // `<base>/bridge/…` topics belong to the daemon itself.
      .refine((id) => id !== 'bridge', {
        error: '"bridge" is reserved for the daemon\'s own topics; pick another id',
      })
  );
}

const currentA = () => wholeNumber(MAX_CURRENT_RANGE_A.min, MAX_CURRENT_RANGE_A.max, 'amps');

const simulatorSection = z.strictObject({
  phases: oneOfNumbers([1, 3]).default(1),
  hardware_max_current: currentA().default(32),
  // Unset: the simulated charger accepts the charger entry's own `pin`.
  pin: pin().optional(),
  car: z
    .strictObject({
      plugged_at_start: flag().default(false),
      // The most the simulated car draws, whatever the charger offers.
      demand_a: wholeNumber(0, 80, 'amps').default(16),
      // Energy the car takes before it is full and stops drawing.
      battery_kwh: wholeNumber(1, 200, 'kWh').default(40),
    })
    .prefault({}),
});

const bs20Fields = z.strictObject({
  id: chargerId(),
  name: text(64).optional(),
  type: z.literal('bs20'),
  transport: oneOf(['ble', 'simulated']).default('ble'),
  address: macAddress().optional(),
  ble_name: text(32, 'must be the name the charger advertises over Bluetooth, e.g. ACP#EVSE0158').optional(),
  pin: pin().optional(),
  max_current: currentA().optional(),
  phases: oneOfNumbers([1, 3]).optional(),
  stale_after_s: wholeNumber(5, 3600, 'seconds').default(35),
  reconnect_max_delay_s: wholeNumber(1, 3600, 'seconds').default(60),
  // Unset: the defaults of core/switching-rules.ts.
  switching: switchingSection,
  simulator: simulatorSection.optional(),
  ocpp_upstream: ocppUpstreamSection.optional(),
});

type Bs20Fields = z.output<typeof bs20Fields>;

function checkBs20(charger: Bs20Fields, check: z.RefinementCtx): void {
  const issue = (path: string, message: string) => reportAt(check, [path], message);
  if (charger.transport !== 'ble') return;
  if (charger.address === undefined && charger.ble_name === undefined) {
    issue(
      'address',
      'is required for a Bluetooth charger: give its address (MAC, e.g. a4:c1:38:12:34:56) or ble_name (e.g. ACP#EVSE0158), or both; `chargebridge scan` lists them',
    );
  }
  if (charger.pin === undefined) {
    issue(
      'pin',
      `is required for a Bluetooth charger: its 6-digit PIN in quotes (factory default "${BS20_FACTORY_PIN}")`,
    );
  }
  if (charger.max_current === undefined) {
    issue(
      'max_current',
      `is required for a Bluetooth charger: the most amps your circuit and cable allow (${MAX_CURRENT_RANGE_A.min} to ${MAX_CURRENT_RANGE_A.max}); chargebridge never sets more`,
    );
  }
  if (charger.simulator !== undefined) {
    issue('simulator', 'is only allowed with transport: simulated');
  }
}

/** Fills the defaults that depend on other keys; the result's type says what each transport has. */
function finishBs20(charger: Bs20Fields) {
  const common = {
    id: charger.id,
    name: charger.name ?? charger.id,
    type: charger.type,
    address: charger.address,
    ble_name: charger.ble_name,
    switching: charger.switching,
    // The station id defaults to the charger's id.
    ocpp_upstream: charger.ocpp_upstream && {
      ...charger.ocpp_upstream,
      station_id: charger.ocpp_upstream.station_id ?? charger.id,
    },
  };
  const tuning = {
    phases: charger.phases,
    stale_after_s: charger.stale_after_s,
    reconnect_max_delay_s: charger.reconnect_max_delay_s,
  };
  if (charger.transport === 'simulated') {
    const pinOrFactory = charger.pin ?? BS20_FACTORY_PIN;
    const sim = simulatorSection.parse(charger.simulator ?? {});
    return {
      ...common,
      transport: 'simulated' as const,
      pin: pinOrFactory,
      // The user's ceiling, or the simulated hardware's own limit.
      max_current: charger.max_current ?? sim.hardware_max_current,
      ...tuning,
      simulator: {
        phases: sim.phases,
        hardware_max_current: sim.hardware_max_current,
        pin: sim.pin ?? pinOrFactory,
        car: sim.car,
      },
    };
  }
  return {
    ...common,
    transport: 'ble' as const,
    // checkBs20 has rejected a BLE charger without pin or max_current before this runs.
    pin: charger.pin as string,
    max_current: charger.max_current as number,
    ...tuning,
  };
}

export const bs20Charger = bs20Fields.superRefine(checkBs20, EVEN_WITH_ERRORS).transform(finishBs20);
