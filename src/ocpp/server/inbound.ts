/**
 * Pure, tolerant readers for what stations send. A field we need and cannot understand makes the
 * call malformed (the caller answers with the CALLERROR returned here); anything else that is off
 * (too long, a number as text, an odd timestamp) is accepted as well as possible.
 */
import { type RpcErrorLike, rpcError } from '../rpc.js';
import type { ChargePointStatus } from '../types.js';
import { parseChargePointStatus } from './status.js';

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: RpcErrorLike };

export interface BootInput {
  vendor: string;
  model: string;
  serialNumber: string | null;
  firmwareVersion: string | null;
  meterType: string | null;
}

export interface StatusInput {
  connectorId: number;
  status: ChargePointStatus;
  errorCode: string;
  info: string | null;
  vendorErrorCode: string | null;
  timestamp: number | null;
}

export interface StartInput {
  connectorId: number;
  idTag: string;
  meterStartWh: number;
  timestampText: string;
  timestamp: number | null;
}

export interface StopInput {
  transactionId: number;
  meterStopWh: number;
  timestamp: number | null;
  reason: string | null;
  idTag: string | null;
  transactionData: unknown;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const missing = (field: string, rule: string): Parsed<never> => ({
  ok: false,
  error: rpcError('OccurrenceConstraintViolation', `${field} is required: ${rule}`),
});
const wrong = (field: string, rule: string): Parsed<never> => ({
  ok: false,
  error: rpcError('TypeConstraintViolation', `${field} ${rule}`),
});

function optionalText(value: unknown, maxLength: number): string | null {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value !== 'string' || value.trim() === '') return null;
  return value.trim().slice(0, maxLength);
}

/** Integers sent as text or floats are common; null when it is no number at all. */
function looseNumber(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value.trim());
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

function looseInteger(value: unknown): number | null {
  const n = looseNumber(value);
  return n !== null && Number.isInteger(n) ? n : null;
}

export function parseTimestamp(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : null;
}

export function parseBoot(params: unknown): Parsed<BootInput> {
  if (!isRecord(params)) return wrong('the request', 'must be an object');
  const vendor = optionalText(params.chargePointVendor, 50);
  const model = optionalText(params.chargePointModel, 50);
  if (vendor === null) return missing('chargePointVendor', 'the manufacturer name');
  if (model === null) return missing('chargePointModel', 'the model name');
  return ok({
    vendor,
    model,
    serialNumber: optionalText(params.chargeBoxSerialNumber ?? params.chargePointSerialNumber, 64),
    firmwareVersion: optionalText(params.firmwareVersion, 64),
    meterType: optionalText(params.meterType, 64),
  });
}

export function parseStatus(params: unknown): Parsed<StatusInput> {
  if (!isRecord(params)) return wrong('the request', 'must be an object');
  const connectorId = looseInteger(params.connectorId);
  if (params.connectorId === undefined) return missing('connectorId', 'a whole number, 0 for the station');
  if (connectorId === null || connectorId < 0) return wrong('connectorId', 'must be a whole number ≥ 0');
  if (params.status === undefined) return missing('status', 'a ChargePointStatus');
  const status = parseChargePointStatus(params.status);
  if (status === null) {
    return {
      ok: false,
      error: rpcError(
        'FormationViolation',
        `status ${JSON.stringify(params.status)} is not a 1.6 ChargePointStatus`,
      ),
    };
  }
  return ok({
    connectorId,
    status,
    // A missing errorCode is a slip, not a fault.
    errorCode: optionalText(params.errorCode, 50) ?? 'NoError',
    info: optionalText(params.info, 50),
    vendorErrorCode: optionalText(params.vendorErrorCode, 50),
    timestamp: parseTimestamp(params.timestamp),
  });
}

export function parseIdTag(params: unknown): Parsed<string> {
  if (!isRecord(params)) return wrong('the request', 'must be an object');
  const idTag = optionalText(params.idTag, 64);
  return idTag === null ? missing('idTag', 'the RFID card / token id') : ok(idTag);
}

export function parseStart(params: unknown): Parsed<StartInput> {
  if (!isRecord(params)) return wrong('the request', 'must be an object');
  if (params.connectorId === undefined) return missing('connectorId', 'the connector, a whole number ≥ 1');
  const connectorId = looseInteger(params.connectorId);
  if (connectorId === null || connectorId < 1) return wrong('connectorId', 'must be a whole number ≥ 1');
  const idTag = optionalText(params.idTag, 64);
  if (idTag === null) return missing('idTag', 'the RFID card / token id');
  const meterStart = looseNumber(params.meterStart);
  if (meterStart === null) return missing('meterStart', 'the energy register in Wh');
  const timestampText = typeof params.timestamp === 'string' ? params.timestamp : '';
  return ok({
    connectorId,
    idTag,
    meterStartWh: Math.round(meterStart),
    timestampText,
    timestamp: parseTimestamp(params.timestamp),
  });
}

export function parseStop(params: unknown): Parsed<StopInput> {
  if (!isRecord(params)) return wrong('the request', 'must be an object');
  const transactionId = looseInteger(params.transactionId);
  if (transactionId === null) return missing('transactionId', 'the id from StartTransaction');
  const meterStop = looseNumber(params.meterStop);
  if (meterStop === null) return missing('meterStop', 'the energy register in Wh');
  return ok({
    transactionId,
    meterStopWh: Math.round(meterStop),
    timestamp: parseTimestamp(params.timestamp),
    reason: optionalText(params.reason, 32),
    idTag: optionalText(params.idTag, 64),
    transactionData: params.transactionData,
  });
}
