/**
 * Pure mapping from the core ChargerState (plus what only the OCPP side knows: availability, an
 * open transaction, a pause we ordered) to the OCPP 1.6 connector status (ocpp.md §2.2).
 *
 * SuspendedEVSE vs SuspendedEV must be right: evcc reads SuspendedEVSE as "disabled by the wallbox".
 */
import type { ChargerState } from '../../core/charger.js';
import type { ChargePointErrorCode, ChargePointStatus } from '../types.js';

export interface ConnectorContext {
  /** ChangeAvailability: false after Inoperative. */
  operative: boolean;
  /** An OCPP transaction is open on the connector. */
  transactionOpen: boolean;
  /** We stopped the energy flow ourselves (charging profile below 6 A) while the transaction stays open. */
  pausedByEvse: boolean;
  /** A RemoteStart was accepted (an idTag is presented) and the charge has not begun yet. */
  awaitingStart: boolean;
}

export interface ConnectorStatus {
  status: ChargePointStatus;
  errorCode: ChargePointErrorCode;
  /** ≤ 50 characters. */
  info?: string;
  /** ≤ 50 characters: the BS20's own error name. */
  vendorErrorCode?: string;
}

/** BS20 error names (evse-master/protocol/enums.ts) → the closest OCPP error code. */
const ERROR_CODES: Readonly<Record<string, ChargePointErrorCode>> = {
  relay_stuck_l1: 'PowerSwitchFailure',
  relay_stuck_l2: 'PowerSwitchFailure',
  relay_stuck_l3: 'PowerSwitchFailure',
  diode_short_circuit: 'PowerSwitchFailure',
  cp_error: 'EVCommunicationError',
  cc_error: 'EVCommunicationError',
  over_temperature_inner: 'HighTemperature',
  over_temperature_outer: 'HighTemperature',
  leakage_protection: 'GroundFailure',
  ungrounded: 'GroundFailure',
  short_circuit: 'OverCurrentFailure',
  over_current: 'OverCurrentFailure',
  dlb_overload: 'OverCurrentFailure',
  over_voltage: 'OverVoltage',
  low_voltage: 'UnderVoltage',
  metering_module_failure: 'PowerMeterFailure',
  rtc_failure: 'InternalError',
  flash_memory_failure: 'InternalError',
  eeprom_failure: 'InternalError',
};

const LINK_INFO: Readonly<Record<string, string>> = {
  connecting: 'connecting to the BS20 over Bluetooth',
  offline: 'Bluetooth link to the BS20 lost',
  auth_failed: 'the BS20 refused the PIN',
  no_adapter: 'no Bluetooth adapter',
};

/** OCPP error code for a BS20 error name (OtherError when nothing fits). */
export function errorCodeFor(errorName: string): ChargePointErrorCode {
  return ERROR_CODES[errorName] ?? 'OtherError';
}

function faultOf(state: ChargerState): ConnectorStatus | null {
  const first = state.errors[0];
  if (first !== undefined) {
    return {
      status: 'Faulted',
      errorCode: errorCodeFor(first),
      info: clip(state.errors.join(', ')),
      vendorErrorCode: clip(first),
    };
  }
  if (state.status === 'error') {
    // A fault state without an error bit (current state 1/2/3).
    const raw = state.raw.currentState;
    return {
      status: 'Faulted',
      errorCode: 'OtherError',
      vendorErrorCode: clip(`current_state_${raw ?? 'unknown'}`),
    };
  }
  return null;
}

function unavailableLink(state: ChargerState): ConnectorStatus | null {
  if (state.link === 'online') return null;
  return { status: 'Unavailable', errorCode: 'NoError', info: LINK_INFO[state.link] ?? state.link };
}

/** Status of connector 1 (the BS20's only connector). */
export function connectorStatus(state: ChargerState, ctx: ConnectorContext): ConnectorStatus {
  const link = unavailableLink(state);
  if (link) return link;
  const fault = faultOf(state);
  if (fault) return fault;
  if (!ctx.operative && !ctx.transactionOpen) return { status: 'Unavailable', errorCode: 'NoError' };
  if (state.charging) {
    // Relay on but no current flows: the car pauses (full, or its own timer).
    return { status: drawing(state) ? 'Charging' : 'SuspendedEV', errorCode: 'NoError' };
  }
  if (ctx.transactionOpen) {
    if (state.status === 'suspended' && !ctx.pausedByEvse)
      return { status: 'SuspendedEV', errorCode: 'NoError' };
    return { status: 'SuspendedEVSE', errorCode: 'NoError' };
  }
  if (state.status === 'finished' && state.plugged) return { status: 'Finishing', errorCode: 'NoError' };
  if (state.plugged || ctx.awaitingStart || state.status === 'scheduled') {
    return { status: 'Preparing', errorCode: 'NoError' };
  }
  return { status: 'Available', errorCode: 'NoError' };
}

/** Status of connector 0 (the charge point as a whole): Available, Unavailable or Faulted only. */
export function chargePointStatus(
  state: ChargerState,
  ctx: Pick<ConnectorContext, 'operative'>,
): ConnectorStatus {
  const link = unavailableLink(state);
  if (link) return link;
  const fault = faultOf(state);
  if (fault) return fault;
  return ctx.operative
    ? { status: 'Available', errorCode: 'NoError' }
    : { status: 'Unavailable', errorCode: 'NoError' };
}

export function sameStatus(a: ConnectorStatus | null, b: ConnectorStatus): boolean {
  return (
    a !== null &&
    a.status === b.status &&
    a.errorCode === b.errorCode &&
    a.info === b.info &&
    a.vendorErrorCode === b.vendorErrorCode
  );
}

function drawing(state: ChargerState): boolean {
  if (state.powerW !== null && state.powerW > 0) return true;
  return state.phases.some((p) => (p.currentA ?? 0) > 0);
}

function clip(text: string): string {
  return text.length > 50 ? text.slice(0, 50) : text;
}
