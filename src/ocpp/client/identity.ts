/**
 * What the charge point tells the central system about itself: the BootNotification payload, the
 * URL it connects to, and the Basic-auth password made from the AuthorizationKey.
 */
import type { ChargerInfo } from '../../core/charger.js';
import type { RequestOf } from '../types.js';

/** Vendor, model, serial and firmware of the charger, cut to the 1.6 field lengths. */
export function bootRequestFor(info: ChargerInfo): RequestOf<'BootNotification'> {
  const request: RequestOf<'BootNotification'> = {
    chargePointVendor: clip(info.manufacturer || 'Besen', 20),
    chargePointModel: clip(info.model || 'BS20', 20),
  };
  if (info.serialNumber) {
    request.chargePointSerialNumber = clip(info.serialNumber, 25);
    request.chargeBoxSerialNumber = clip(info.serialNumber, 25);
  }
  if (info.firmwareVersion) request.firmwareVersion = clip(info.firmwareVersion, 50);
  return request;
}

/**
 * The Basic-auth password for an AuthorizationKey (ocpp.md §2.8): OCTT sends the key as hex and
 * expects the decoded bytes; many central systems compare the text as it is. `auto` decodes 32–80
 * hex characters (16–40 bytes) and keeps anything else as text.
 */
export function basicAuthPassword(key: string, encoding: 'auto' | 'hex' | 'text'): string | Buffer {
  const isHex = /^(?:[0-9a-fA-F]{2}){16,40}$/.test(key);
  if (encoding === 'text' || !isHex) return key;
  return Buffer.from(key, 'hex');
}

/** The endpoint ocpp-rpc appends the station id to; a URL that already ends in it is cut back. */
export function endpointFor(url: string, stationId: string): string {
  const trimmed = url.replace(/\/+$/, '');
  const last = trimmed.slice(trimmed.lastIndexOf('/') + 1);
  return safeDecode(last) === stationId ? trimmed.slice(0, trimmed.lastIndexOf('/')) : trimmed;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function clip(text: string, max: number): string {
  return text.length > max ? text.slice(0, max) : text;
}
