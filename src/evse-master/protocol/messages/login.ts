/**
 * Login (§4.3): beacon 0x0001 and response 0x0002 carry the same device info; the client's request
 * 0x8002 carries the PIN in the frame's password field (payload empty or `00`); confirm 0x8001 `01`.
 */
import { phasesForDeviceType } from '../enums.js';
import { decodeFlag, encodeFlag, type FlagPayload } from './keepalive.js';
import { putU8, putU32, readText, requireLength, type Segment, u8, u32, writeText } from './payload.js';

export interface LoginInfo {
  /** Device type code; decides the phase count. */
  deviceType: number;
  phases: 1 | 3;
  brand: string;
  model: string;
  hardwareVersion: string;
  maxPowerW: number;
  maxCurrentA: number;
  /** Support "hotline" text, e.g. "WWW.EVSE.COM". */
  hotline: string;
  /** Capability byte of 119/151-byte payloads (types 22–25), null otherwise. */
  capability: number | null;
  payloadLength: number;
}

/** Payload sizes seen: 70 on BS20; 118, 119, 151 on other brands. */
export type LoginPayloadLength = 70 | 118 | 119 | 151;

export type LoginInfoInput = Omit<LoginInfo, 'phases' | 'capability' | 'payloadLength'> & {
  capability?: number | null;
  /** 70 by default; other lengths ≥ 70 use the layout of the next smaller known size. */
  payloadLength?: LoginPayloadLength | number;
};

interface Layout {
  brand: Segment[];
  model: Segment[];
  hotline: Segment[];
  capabilityOffset: number | null;
}

/** Longer payloads continue the short fields further on. */
function layoutFor(length: number): Layout {
  const brand: Segment[] = [[1, 16]];
  const model: Segment[] = [[17, 16]];
  if (length >= 151) {
    return {
      brand: [...brand, [119, 16]],
      model: [...model, [135, 16]],
      hotline: [
        [54, 16],
        [71, 48],
      ],
      capabilityOffset: 70,
    };
  }
  if (length >= 119)
    return {
      brand,
      model,
      hotline: [
        [54, 16],
        [71, 48],
      ],
      capabilityOffset: 70,
    };
  if (length >= 118)
    return {
      brand,
      model,
      hotline: [
        [54, 16],
        [70, 48],
      ],
      capabilityOffset: null,
    };
  return { brand, model, hotline: [[54, 16]], capabilityOffset: null };
}

const MIN_LOGIN_BYTES = 54;

/** Decodes the payload of 0x0001 / 0x0002. */
export function decodeLoginInfo(payload: Uint8Array): LoginInfo {
  requireLength(payload, MIN_LOGIN_BYTES, 'login info');
  const layout = layoutFor(payload.length);
  const deviceType = u8(payload, 0);
  return {
    deviceType,
    phases: phasesForDeviceType(deviceType),
    brand: readText(payload, ...layout.brand),
    model: readText(payload, ...layout.model),
    hardwareVersion: readText(payload, [33, 16]),
    maxPowerW: u32(payload, 49),
    maxCurrentA: u8(payload, 53),
    hotline: readText(payload, ...layout.hotline),
    capability: layout.capabilityOffset === null ? null : u8(payload, layout.capabilityOffset),
    payloadLength: payload.length,
  };
}

export function encodeLoginInfo(info: LoginInfoInput): Uint8Array {
  const length = info.payloadLength ?? 70;
  if (!Number.isInteger(length) || length < 70 || length > 446) {
    throw new RangeError(`login payload length must be 70..446, got ${length}`);
  }
  const layout = layoutFor(length);
  const p = new Uint8Array(length);
  putU8(p, 0, info.deviceType, 'deviceType');
  writeText(p, info.brand, 'brand', ...layout.brand);
  writeText(p, info.model, 'model', ...layout.model);
  writeText(p, info.hardwareVersion, 'hardwareVersion', [33, 16]);
  putU32(p, 49, info.maxPowerW, 'maxPowerW');
  putU8(p, 53, info.maxCurrentA, 'maxCurrentA');
  writeText(p, info.hotline, 'hotline', ...layout.hotline);
  if (layout.capabilityOffset !== null) putU8(p, layout.capabilityOffset, info.capability ?? 0, 'capability');
  return p;
}

/** 0x8002: payload empty (evseMQTT, py-besen) or `00` (emproto). */
export type RequestLogin = FlagPayload;
export const encodeRequestLogin = (flag: number | null = null): Uint8Array => encodeFlag(flag);
export const decodeRequestLogin = (payload: Uint8Array): RequestLogin => decodeFlag(payload);

/** 0x8001: `01` (evseMQTT, py-besen) or `00` (emproto). */
export type LoginConfirm = FlagPayload;
export const encodeLoginConfirm = (flag: number | null = 1): Uint8Array => encodeFlag(flag);
export const decodeLoginConfirm = (payload: Uint8Array): LoginConfirm => decodeFlag(payload);
