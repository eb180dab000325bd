/**
 * The station operations beyond start/stop/limit, for users and scripts (bridge requests): reset,
 * availability, unlock, trigger, configuration keys, clearing our limit, vendor data. Each answers
 * with what the station said; a refusal is an answer, a failure is a ChargerCommandError.
 */
import { ChargerCommandError } from '../../core/charger.js';
import type { OCPP16_PROTOCOL } from '../types.js';
import type { OcppStation } from './station.js';
import { PROFILE_ID_BASE } from './station-charger.js';

export type TriggerableMessage =
  | 'BootNotification'
  | 'DiagnosticsStatusNotification'
  | 'FirmwareStatusNotification'
  | 'Heartbeat'
  | 'MeterValues'
  | 'StatusNotification';

export interface StationSummary {
  id: string;
  identity: string;
  name: string;
  connected: boolean;
  admission: 'accepted' | 'pending';
  protocol: typeof OCPP16_PROTOCOL;
  manufacturer: string;
  model: string;
  serialNumber: string | null;
  firmwareVersion: string | null;
  chargers: string[];
}

export function summarise(station: OcppStation): StationSummary {
  const info = station.info();
  return {
    id: station.stationId,
    identity: station.identity,
    name: station.config.name,
    connected: station.connected,
    admission: station.admission,
    protocol: 'ocpp1.6',
    manufacturer: info.manufacturer,
    model: info.model,
    serialNumber: info.serialNumber,
    firmwareVersion: info.firmwareVersion,
    chargers: station.chargers.map((c) => c.id),
  };
}

function checkConnector(station: OcppStation, connectorId: number, allowStation: boolean): void {
  const max = station.chargers.length;
  if (!Number.isInteger(connectorId) || connectorId < (allowStation ? 0 : 1) || connectorId > max) {
    throw new ChargerCommandError(
      'invalid',
      `connector must be ${allowStation ? '0 (the whole station) or ' : ''}1…${max} for station ${station.stationId}`,
    );
  }
}

export async function reset(station: OcppStation, type: 'Soft' | 'Hard'): Promise<{ status: string }> {
  return station.send('Reset', { type });
}

export async function changeAvailability(
  station: OcppStation,
  connectorId: number,
  operative: boolean,
): Promise<{ status: string }> {
  checkConnector(station, connectorId, true);
  return station.send('ChangeAvailability', { connectorId, type: operative ? 'Operative' : 'Inoperative' });
}

export async function unlockConnector(
  station: OcppStation,
  connectorId: number,
): Promise<{ status: string }> {
  checkConnector(station, connectorId, false);
  return station.send('UnlockConnector', { connectorId });
}

export async function triggerMessage(
  station: OcppStation,
  requestedMessage: TriggerableMessage,
  connectorId?: number,
): Promise<{ status: string }> {
  if (connectorId !== undefined) checkConnector(station, connectorId, true);
  return station.send('TriggerMessage', {
    requestedMessage,
    ...(connectorId !== undefined ? { connectorId } : {}),
  });
}

export async function getConfiguration(
  station: OcppStation,
  keys: string[] = [],
): Promise<{
  configurationKey: Array<{ key: string; readonly: boolean; value?: string }>;
  unknownKey: string[];
}> {
  const answer = await station.send('GetConfiguration', keys.length > 0 ? { key: keys } : {});
  // The AuthorizationKey is the station's password: write-only in OCPP, yet some stations report
  // it. Its value never goes on to MQTT.
  const reported = Array.isArray(answer.configurationKey) ? answer.configurationKey : [];
  const configurationKey = reported.map((entry) =>
    /^authorizationkey$/i.test(String(entry?.key)) ? { key: entry.key, readonly: entry.readonly } : entry,
  );
  return { configurationKey, unknownKey: answer.unknownKey ?? [] };
}

export async function changeConfiguration(
  station: OcppStation,
  key: string,
  value: string,
): Promise<{ status: string }> {
  return station.send('ChangeConfiguration', { key, value });
}

/** Lifts the limit chargebridge set on a connector (our TxDefaultProfile only). */
export async function clearLimit(station: OcppStation, connectorId: number): Promise<{ status: string }> {
  checkConnector(station, connectorId, false);
  const answer = await station.send('ClearChargingProfile', { id: PROFILE_ID_BASE + connectorId });
  if (answer.status === 'Accepted' || answer.status === 'Unknown') {
    station.chargers[connectorId - 1]?.apply((f) => {
      f.limitA = null;
    });
  }
  return answer;
}

export async function dataTransfer(
  station: OcppStation,
  vendorId: string,
  messageId?: string,
  data?: string,
): Promise<{ status: string; data?: string }> {
  return station.send('DataTransfer', {
    vendorId,
    ...(messageId !== undefined ? { messageId } : {}),
    ...(data !== undefined ? { data } : {}),
  });
}
