import { describe, expect, it } from 'vitest';
import {
  Cmd,
  commandDirection,
  commandName,
  currentStateName,
  errorCodesLsb,
  errorCodesMsb,
  errorName,
  errorNamesLsb,
  errorNamesMsb,
  KNOWN_COMMAND_IDS,
  languageName,
  offlineChargeName,
  outputStateName,
  phasesForDeviceType,
  plugStateName,
  reservationResultName,
  startErrorReasonName,
  stopReasonName,
  temperatureUnitName,
} from '../../../src/evse-master/protocol/index.js';

describe('error bit mappings', () => {
  it('0x40: emproto (LSB) says emergency stop, the OEM app (MSB-first) says input power error', () => {
    expect(errorCodesLsb(0x40)).toEqual([6]);
    expect(errorNamesLsb(0x40)).toEqual(['emergency_stop']);
    expect(errorCodesMsb(0x40, 32)).toEqual([25]);
    expect(errorNamesMsb(0x40, 32)).toEqual(['input_power_error']);
  });

  it('LSB reports every set bit, MSB-first only the first', () => {
    expect(errorCodesLsb(0x80000081)).toEqual([0, 7, 31]);
    expect(errorCodesMsb(0x80000081, 32)).toEqual([0]);
    expect(errorCodesMsb(0x0081, 16)).toEqual([8]);
    expect(errorNamesMsb(0x0100, 16)).toEqual(['over_temperature_inner']);
    expect(errorCodesLsb(0)).toEqual([]);
    expect(errorCodesMsb(0, 16)).toEqual([]);
  });

  it('names unknown codes instead of failing', () => {
    expect(errorName(16)).toBe('unknown_16');
    expect(errorNamesLsb(1 << 20)).toEqual(['unknown_20']);
  });
});

describe('enum names', () => {
  it('uses emproto numbering for the current state (evseMQTT is off by one)', () => {
    expect(currentStateName(12)).toBe('not_connected');
    expect(currentStateName(13)).toBe('ready_to_charge');
    expect(currentStateName(14)).toBe('charging');
    expect(currentStateName(17)).toBe('completed_full_charge');
    expect(currentStateName(20)).toBe('charging_reservation');
    expect(currentStateName(18)).toBe('unknown_18');
  });

  it('never throws on unknown values', () => {
    expect(plugStateName(16)).toBe('unknown_16');
    expect(plugStateName(4)).toBe('connected_locked');
    expect(outputStateName(1)).toBe('charging');
    expect(outputStateName(9)).toBe('unknown_9');
    expect(startErrorReasonName(20)).toBe('already_in_reservation');
    expect(startErrorReasonName(99)).toBe('unknown_99');
    expect(reservationResultName(4)).toBe('time_in_past');
    expect(stopReasonName(11)).toBe('app_stop');
    expect(stopReasonName(2)).toBe('unknown_2');
    expect(languageName(7)).toBe('polish');
    expect(temperatureUnitName(2)).toBe('fahrenheit');
    expect(offlineChargeName(2)).toBe('disabled');
    expect(phasesForDeviceType(1)).toBe(1);
    expect(phasesForDeviceType(12)).toBe(3);
  });
});

describe('command names', () => {
  it('knows every id of §4.1 in snake_case', () => {
    expect(KNOWN_COMMAND_IDS.length).toBe(75);
    for (const id of KNOWN_COMMAND_IDS) expect(commandName(id)).toMatch(/^[a-z0-9]+(_[a-z0-9]+)*$/);
    for (const id of Object.values(Cmd)) expect(KNOWN_COMMAND_IDS).toContain(id);
    expect(commandName(Cmd.Status)).toBe('single_ac_status');
    expect(commandName(0x8107)).toBe('set_and_get_output_electricity');
    expect(commandName(0x1234)).toBe('unknown_0x1234');
  });

  it('reads the direction from bit 15', () => {
    expect(commandDirection(0x0003)).toBe('charger_to_client');
    expect(commandDirection(0x8003)).toBe('client_to_charger');
  });
});
