import { describe, expect, it } from 'vitest';
import { type ChargerState, emptyState } from '../../../src/core/charger.js';
import {
  type ConnectorContext,
  chargePointStatus,
  connectorStatus,
  errorCodeFor,
  sameStatus,
} from '../../../src/ocpp/client/status-mapper.js';

const idle: ConnectorContext = {
  operative: true,
  transactionOpen: false,
  pausedByEvse: false,
  awaitingStart: false,
};

function state(patch: Partial<ChargerState>): ChargerState {
  return { ...emptyState(0), link: 'online', status: 'available', ...patch };
}

const charging = state({
  status: 'charging',
  plugged: true,
  charging: true,
  powerW: 3680,
  phases: [{ voltageV: 230, currentA: 16 }],
});

describe('connector status (connector 1)', () => {
  it('follows a plain session: Available, Preparing, Charging, Finishing', () => {
    expect(connectorStatus(state({}), idle)).toEqual({ status: 'Available', errorCode: 'NoError' });
    expect(connectorStatus(state({ status: 'plugged', plugged: true }), idle).status).toBe('Preparing');
    expect(connectorStatus(charging, { ...idle, transactionOpen: true }).status).toBe('Charging');
    expect(connectorStatus(state({ status: 'finished', plugged: true }), idle).status).toBe('Finishing');
  });

  it('says SuspendedEV when the relay is on but the car draws nothing', () => {
    const carPaused = { ...charging, powerW: 0, phases: [{ voltageV: 230, currentA: 0 }] };
    expect(connectorStatus(carPaused, { ...idle, transactionOpen: true }).status).toBe('SuspendedEV');
    expect(
      connectorStatus(state({ status: 'suspended', plugged: true }), { ...idle, transactionOpen: true })
        .status,
    ).toBe('SuspendedEV');
  });

  it('says SuspendedEVSE when we paused the energy flow inside a transaction', () => {
    const paused = state({ status: 'finished', plugged: true });
    expect(connectorStatus(paused, { ...idle, transactionOpen: true, pausedByEvse: true }).status).toBe(
      'SuspendedEVSE',
    );
  });

  it('reports a pending remote start or a scheduled start as Preparing', () => {
    expect(connectorStatus(state({}), { ...idle, awaitingStart: true }).status).toBe('Preparing');
    expect(connectorStatus(state({ status: 'scheduled', plugged: true }), idle).status).toBe('Preparing');
  });

  it('is Unavailable when Inoperative, but not while a transaction still runs', () => {
    expect(connectorStatus(state({}), { ...idle, operative: false }).status).toBe('Unavailable');
    expect(connectorStatus(charging, { ...idle, operative: false, transactionOpen: true }).status).toBe(
      'Charging',
    );
  });

  it('is Unavailable with an explanation when the BLE link is down', () => {
    const down = connectorStatus({ ...charging, link: 'offline' }, { ...idle, transactionOpen: true });
    expect(down).toEqual({
      status: 'Unavailable',
      errorCode: 'NoError',
      info: 'Bluetooth link to the BS20 lost',
    });
    expect(connectorStatus(state({ link: 'auth_failed' }), idle).info).toBe('the BS20 refused the PIN');
  });

  it('maps BS20 errors to Faulted with an OCPP error code and the raw name', () => {
    const hot = connectorStatus(state({ status: 'error', errors: ['over_temperature_inner'] }), idle);
    expect(hot).toEqual({
      status: 'Faulted',
      errorCode: 'HighTemperature',
      info: 'over_temperature_inner',
      vendorErrorCode: 'over_temperature_inner',
    });
    const several = connectorStatus(
      state({ status: 'error', errors: ['leakage_protection', 'over_current'] }),
      idle,
    );
    expect(several.errorCode).toBe('GroundFailure');
    expect(several.info).toBe('leakage_protection, over_current');
    const noBit = connectorStatus(state({ status: 'error', raw: { currentState: 2 } }), idle);
    expect(noBit).toEqual({ status: 'Faulted', errorCode: 'OtherError', vendorErrorCode: 'current_state_2' });
  });

  it('has a code for every BS20 error, OtherError for the unknown ones', () => {
    expect(errorCodeFor('relay_stuck_l2')).toBe('PowerSwitchFailure');
    expect(errorCodeFor('cp_error')).toBe('EVCommunicationError');
    expect(errorCodeFor('over_voltage')).toBe('OverVoltage');
    expect(errorCodeFor('low_voltage')).toBe('UnderVoltage');
    expect(errorCodeFor('metering_module_failure')).toBe('PowerMeterFailure');
    expect(errorCodeFor('eeprom_failure')).toBe('InternalError');
    expect(errorCodeFor('emergency_stop')).toBe('OtherError');
    expect(errorCodeFor('unknown_22')).toBe('OtherError');
  });

  it('keeps info and vendorErrorCode within 50 characters', () => {
    const many = Array.from({ length: 10 }, (_, i) => `some_long_error_name_${i}`);
    const s = connectorStatus(state({ status: 'error', errors: many }), idle);
    expect(s.info?.length).toBe(50);
  });
});

describe('charge point status (connector 0)', () => {
  it('uses only Available, Unavailable and Faulted', () => {
    expect(chargePointStatus(charging, { operative: true }).status).toBe('Available');
    expect(chargePointStatus(charging, { operative: false }).status).toBe('Unavailable');
    expect(chargePointStatus(state({ errors: ['over_current'] }), { operative: true }).status).toBe(
      'Faulted',
    );
    expect(chargePointStatus(state({ link: 'offline' }), { operative: true }).status).toBe('Unavailable');
  });
});

describe('sameStatus', () => {
  it('compares every field', () => {
    const a = { status: 'Faulted', errorCode: 'OtherError', vendorErrorCode: 'x' } as const;
    expect(sameStatus(null, a)).toBe(false);
    expect(sameStatus({ ...a }, a)).toBe(true);
    expect(sameStatus({ ...a, vendorErrorCode: 'y' }, a)).toBe(false);
  });
});
