/**
 * Enumerations of §6. Name lookups never throw: unknown values become `unknown_<n>`, because firmware
 * variants send values nobody has documented (Q13) and a frame must never be dropped for that.
 */

type NameTable = Readonly<Record<number, string>>;

function lookup(table: NameTable, value: number): string {
  return table[value] ?? `unknown_${value}`;
}

/** Gun/plug state, status byte 18. */
export const PlugState = { Disconnected: 1, ConnectedUnlocked: 2, ConnectedLocked: 4 } as const;
const PLUG_STATE_NAMES: NameTable = { 1: 'disconnected', 2: 'connected_unlocked', 4: 'connected_locked' };
export const plugStateName = (value: number): string => lookup(PLUG_STATE_NAMES, value);

/** Output (relay) state, status byte 19. */
export const OutputState = { Charging: 1, Idle: 2 } as const;
const OUTPUT_STATE_NAMES: NameTable = { 1: 'charging', 2: 'idle' };
export const outputStateName = (value: number): string => lookup(OUTPUT_STATE_NAMES, value);

/**
 * Current state, status byte 20 / charging-status byte 1, in emproto numbering. evseMQTT's name list
 * is shifted by one (its 12 reads "ready to charge"); 12 is "not connected" here.
 */
export const CurrentState = {
  EvseFault: 1,
  ChargingFault2: 2,
  ChargingFault3: 3,
  WaitingForSwipe: 10,
  WaitingForButton: 11,
  NotConnected: 12,
  ReadyToCharge: 13,
  Charging: 14,
  Completed: 15,
  CompletedFullCharge: 17,
  ChargingReservation: 20,
} as const;
const CURRENT_STATE_NAMES: NameTable = {
  1: 'evse_fault',
  2: 'charging_fault_2',
  3: 'charging_fault_3',
  10: 'waiting_for_swipe',
  11: 'waiting_for_button',
  12: 'not_connected',
  13: 'ready_to_charge',
  14: 'charging',
  15: 'completed',
  17: 'completed_full_charge',
  20: 'charging_reservation',
};
export const currentStateName = (value: number): string => lookup(CURRENT_STATE_NAMES, value);

/** Error codes (identical names in all references). */
const ERROR_NAMES: NameTable = {
  0: 'relay_stuck_l1',
  1: 'relay_stuck_l2',
  2: 'relay_stuck_l3',
  3: 'offline',
  4: 'cc_error',
  5: 'cp_error',
  6: 'emergency_stop',
  7: 'over_temperature_inner',
  8: 'over_temperature_outer',
  9: 'unknown_error',
  10: 'leakage_protection',
  11: 'short_circuit',
  12: 'over_current',
  13: 'ungrounded',
  14: 'over_voltage',
  15: 'low_voltage',
  25: 'input_power_error',
  26: 'dlb_overload',
  27: 'diode_short_circuit',
  28: 'rtc_failure',
  29: 'flash_memory_failure',
  30: 'eeprom_failure',
  31: 'metering_module_failure',
};
export const errorName = (code: number): string => lookup(ERROR_NAMES, code);

/** emproto mapping: code i ⇔ bit i (LSB = 0); every set bit is reported. */
export function errorCodesLsb(bits: number): number[] {
  const codes: number[] = [];
  const value = bits >>> 0;
  for (let bit = 0; bit < 32; bit++) {
    if ((value >>> bit) & 1) codes.push(bit);
  }
  return codes;
}

/**
 * OEM app / evseMQTT mapping: the field as an MSB-first binary string of `widthBits` characters; the
 * index of the first '1' is the (only) code. 0x40 in 32 bits → 25.
 */
export function errorCodesMsb(bits: number, widthBits: 16 | 32): number[] {
  const value = widthBits === 16 ? bits & 0xffff : bits >>> 0;
  for (let index = 0; index < widthBits; index++) {
    if ((value >>> (widthBits - 1 - index)) & 1) return [index];
  }
  return [];
}

export const errorNamesLsb = (bits: number): string[] => errorCodesLsb(bits).map(errorName);
export const errorNamesMsb = (bits: number, widthBits: 16 | 32): string[] =>
  errorCodesMsb(bits, widthBits).map(errorName);

/** Charge start response byte 3. */
export const StartErrorReason = {
  None: 0,
  PlugNotInserted: 1,
  SystemError: 2,
  AlreadyCharging: 3,
  SystemMaintenance: 4,
  IncorrectFee: 5,
  IncorrectEnergy: 6,
  IncorrectTime: 7,
  UnknownReason: 8,
  AlreadyInReservation: 20,
} as const;
const START_ERROR_NAMES: NameTable = {
  0: 'none',
  1: 'plug_not_inserted',
  2: 'system_error',
  3: 'already_charging',
  4: 'system_maintenance',
  5: 'incorrect_fee',
  6: 'incorrect_energy',
  7: 'incorrect_time',
  8: 'unknown_reason',
  20: 'already_in_reservation',
};
export const startErrorReasonName = (value: number): string => lookup(START_ERROR_NAMES, value);

/** Charge start response byte 1. */
export const ReservationResult = {
  ImmediateStart: 0,
  ReservationOk: 1,
  NotSupported: 2,
  MoreThan24hAhead: 3,
  TimeInPast: 4,
  SystemError: 5,
  ReservationExists: 6,
  AlreadyCharging: 7,
  BadFee: 8,
  BadEnergy: 9,
  BadTime: 10,
} as const;
const RESERVATION_RESULT_NAMES: NameTable = {
  0: 'immediate_start',
  1: 'reservation_ok',
  2: 'not_supported',
  3: 'more_than_24h_ahead',
  4: 'time_in_past',
  5: 'system_error',
  6: 'reservation_exists',
  7: 'already_charging',
  8: 'bad_fee',
  9: 'bad_energy',
  10: 'bad_time',
};
export const reservationResultName = (value: number): string => lookup(RESERVATION_RESULT_NAMES, value);

/** Charge record byte 58 (also used by evseMQTT for the stop response's stopResult). */
export const StopReason = {
  ReservationStoppedByApp: 0,
  ReservationNoCar: 1,
  AppStop: 11,
  CardStop: 12,
  Full: 13,
  FixedFeeReached: 14,
  FixedEnergyReached: 15,
  FixedTimeReached: 16,
  GunUnplugged: 17,
  PowerFailure: 18,
  OverCurrent: 19,
  ShortCircuit: 20,
  MainBoardOverTemperature: 21,
  PlugOverTemperature: 22,
  EmergencyStop: 23,
  ButtonStop: 24,
  Over48h: 30,
  Over400Kwh: 31,
  Over400Fee: 32,
} as const;
const STOP_REASON_NAMES: NameTable = {
  0: 'reservation_stopped_by_app',
  1: 'reservation_no_car',
  11: 'app_stop',
  12: 'card_stop',
  13: 'full',
  14: 'fixed_fee_reached',
  15: 'fixed_energy_reached',
  16: 'fixed_time_reached',
  17: 'gun_unplugged',
  18: 'power_failure',
  19: 'over_current',
  20: 'short_circuit',
  21: 'main_board_over_temperature',
  22: 'plug_over_temperature',
  23: 'emergency_stop',
  24: 'button_stop',
  30: 'over_48h',
  31: 'over_400_kwh',
  32: 'over_400_fee',
};
export const stopReasonName = (value: number): string => lookup(STOP_REASON_NAMES, value);

/** App language (0x810F); does not change the charger itself. */
export const Language = {
  English: 1,
  Italian: 2,
  German: 3,
  French: 4,
  Spanish: 5,
  Hebrew: 6,
  Polish: 7,
  Chinese: 8,
} as const;
const LANGUAGE_NAMES: NameTable = {
  1: 'english',
  2: 'italian',
  3: 'german',
  4: 'french',
  5: 'spanish',
  6: 'hebrew',
  7: 'polish',
  8: 'chinese',
};
export const languageName = (value: number): string => lookup(LANGUAGE_NAMES, value);

/** Display unit (0x8112); temperatures on the wire are always °C. */
export const TemperatureUnit = { Celsius: 1, Fahrenheit: 2 } as const;
const TEMPERATURE_UNIT_NAMES: NameTable = { 1: 'celsius', 2: 'fahrenheit' };
export const temperatureUnitName = (value: number): string => lookup(TEMPERATURE_UNIT_NAMES, value);

/** Offline charge (0x810D): may the button/card start a session without the app. */
export const OfflineCharge = { Enabled: 0, Disabled: 1 } as const;
const OFFLINE_CHARGE_NAMES: NameTable = { 0: 'enabled', 1: 'disabled', 2: 'disabled' };
export const offlineChargeName = (value: number): string => lookup(OFFLINE_CHARGE_NAMES, value);

/** Device types 10–15 and 22–25 are three-phase (§4.3). */
const THREE_PHASE_TYPES = new Set([10, 11, 12, 13, 14, 15, 22, 23, 24, 25]);
export function phasesForDeviceType(deviceType: number): 1 | 3 {
  return THREE_PHASE_TYPES.has(deviceType) ? 3 : 1;
}
