/**
 * Pure: what an OCPP 1.6 connector status means for the core ChargerState (ocpp.md §2.2). The
 * status name itself stays in `raw.ocppStatus` for the Home Assistant diagnostic entity.
 */
import type { ChargerStatus } from '../../core/charger.js';
import { CHARGE_POINT_STATUSES, type ChargePointStatus } from '../types.js';

export interface ConnectorStatus {
  status: ChargePointStatus;
  errorCode: string;
  info: string | null;
  vendorErrorCode: string | null;
  /** Epoch ms from the charger's timestamp, else when we received it. */
  at: number;
}

export interface StatusMeaning {
  plugged: boolean;
  /** Energy is flowing. */
  charging: boolean;
  status: ChargerStatus;
}

/** Case-insensitive match against the 1.6 names; null when the charger sent something else. */
export function parseChargePointStatus(value: unknown): ChargePointStatus | null {
  if (typeof value !== 'string') return null;
  const lower = value.trim().toLowerCase();
  return CHARGE_POINT_STATUSES.find((s) => s.toLowerCase() === lower) ?? null;
}

/**
 * `transactionOpen`: a StartTransaction has no StopTransaction yet. A Finishing connector with an
 * open transaction is still in it (the StopTransaction with the final meter is on its way), so the
 * session stays open until then. So is an Available one: a station back from being offline sends
 * its status first and its queued StopTransaction after it (ocpp.md §2.9).
 */
export function meaningOf(status: ChargePointStatus, transactionOpen: boolean): StatusMeaning {
  switch (status) {
    case 'Available':
    case 'Reserved':
      if (transactionOpen) return { plugged: true, charging: false, status: 'suspended' };
      return { plugged: false, charging: false, status: 'available' };
    case 'Preparing':
      return { plugged: true, charging: false, status: transactionOpen ? 'suspended' : 'plugged' };
    case 'Charging':
      return { plugged: true, charging: true, status: 'charging' };
    case 'SuspendedEV':
    case 'SuspendedEVSE':
      return { plugged: true, charging: false, status: 'suspended' };
    case 'Finishing':
      return { plugged: true, charging: false, status: transactionOpen ? 'suspended' : 'finished' };
    case 'Unavailable':
      // Out of service (ChangeAvailability or the charger's own choice): not usable, no error.
      return { plugged: false, charging: false, status: 'offline' };
    case 'Faulted':
      // A fault inside a transaction does not unplug the car: the transaction (and session) goes on.
      return { plugged: transactionOpen, charging: false, status: 'error' };
  }
}

/** `GroundFailure` → `ground_failure`; NoError → none. The vendor's code goes to `raw`, not here. */
export function errorNames(errorCode: string): string[] {
  if (errorCode === 'NoError' || errorCode.trim() === '') return [];
  const name = errorCode
    .trim()
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .toLowerCase();
  return name === '' ? [] : [name];
}
