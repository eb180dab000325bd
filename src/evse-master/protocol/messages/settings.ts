/**
 * Simple set/get settings (§4.12): requests `[action, value]` (GET sends `[02, 00]`), replies
 * `[action, value]`. Max current 0x8107/0x0107, language 0x810F/0x010F, temperature unit
 * 0x8112/0x0112, offline charge 0x810D/0x010D, nickname 0x8108/0x0108. System time, version and the
 * fee echoes live in their own files and are re-exported here.
 */
import { SettingAction } from '../commands.js';
import { languageName, offlineChargeName, temperatureUnitName } from '../enums.js';
import { putU8, readText, requireLength, u8, writeText } from './payload.js';

export * from './fee.js';
export * from './system-time.js';
export * from './version.js';

interface ByteSetting {
  action: number;
  value: number | null;
}

function encodeByteSetting(action: number, value: number | null, what: string): Uint8Array {
  const p = new Uint8Array(2);
  putU8(p, 0, action, `${what} action`);
  putU8(p, 1, value ?? 0, what);
  return p;
}

/** In a GET request the second byte is padding, so the value is null. */
function decodeByteSettingRequest(payload: Uint8Array, what: string): ByteSetting {
  requireLength(payload, 1, what);
  const action = u8(payload, 0);
  return { action, value: action === SettingAction.Get || payload.length < 2 ? null : u8(payload, 1) };
}

function decodeByteSettingReply(payload: Uint8Array, what: string): ByteSetting {
  requireLength(payload, 1, what);
  return { action: u8(payload, 0), value: payload.length < 2 ? null : u8(payload, 1) };
}

export interface MaxCurrentSetting {
  action: number;
  /** Null in a GET request. */
  currentA: number | null;
}
export const encodeMaxCurrentSetting = (s: MaxCurrentSetting): Uint8Array =>
  encodeByteSetting(s.action, s.currentA, 'max current');
const toMaxCurrent = ({ action, value }: ByteSetting): MaxCurrentSetting => ({ action, currentA: value });
export const decodeMaxCurrentRequest = (payload: Uint8Array): MaxCurrentSetting =>
  toMaxCurrent(decodeByteSettingRequest(payload, 'max current'));
export const decodeMaxCurrentReply = (payload: Uint8Array): MaxCurrentSetting =>
  toMaxCurrent(decodeByteSettingReply(payload, 'max current'));

export interface LanguageSetting {
  action: number;
  language: number | null;
  languageName: string | null;
}
export const encodeLanguageSetting = (s: Pick<LanguageSetting, 'action' | 'language'>): Uint8Array =>
  encodeByteSetting(s.action, s.language, 'language');
const toLanguage = ({ action, value }: ByteSetting): LanguageSetting => ({
  action,
  language: value,
  languageName: value === null ? null : languageName(value),
});
export const decodeLanguageRequest = (payload: Uint8Array): LanguageSetting =>
  toLanguage(decodeByteSettingRequest(payload, 'language'));
export const decodeLanguageReply = (payload: Uint8Array): LanguageSetting =>
  toLanguage(decodeByteSettingReply(payload, 'language'));

export interface TemperatureUnitSetting {
  action: number;
  unit: number | null;
  unitName: string | null;
}
export const encodeTemperatureUnitSetting = (
  s: Pick<TemperatureUnitSetting, 'action' | 'unit'>,
): Uint8Array => encodeByteSetting(s.action, s.unit, 'temperature unit');
const toTemperatureUnit = ({ action, value }: ByteSetting): TemperatureUnitSetting => ({
  action,
  unit: value,
  unitName: value === null ? null : temperatureUnitName(value),
});
export const decodeTemperatureUnitRequest = (payload: Uint8Array): TemperatureUnitSetting =>
  toTemperatureUnit(decodeByteSettingRequest(payload, 'temperature unit'));
export const decodeTemperatureUnitReply = (payload: Uint8Array): TemperatureUnitSetting =>
  toTemperatureUnit(decodeByteSettingReply(payload, 'temperature unit'));

export interface OfflineChargeSetting {
  action: number;
  /** 0 = enabled (button/card may start), 1 = disabled, 2 seen when disabled. */
  status: number | null;
  statusName: string | null;
}
export const encodeOfflineChargeSetting = (s: Pick<OfflineChargeSetting, 'action' | 'status'>): Uint8Array =>
  encodeByteSetting(s.action, s.status, 'offline charge');
const toOfflineCharge = ({ action, value }: ByteSetting): OfflineChargeSetting => ({
  action,
  status: value,
  statusName: value === null ? null : offlineChargeName(value),
});
export const decodeOfflineChargeRequest = (payload: Uint8Array): OfflineChargeSetting =>
  toOfflineCharge(decodeByteSettingRequest(payload, 'offline charge'));
export const decodeOfflineChargeReply = (payload: Uint8Array): OfflineChargeSetting =>
  toOfflineCharge(decodeByteSettingReply(payload, 'offline charge'));

/** The charger truncates longer names (Q12). */
export const NICKNAME_MAX_LENGTH = 11;
/** Every advertised name starts with this; it is not part of the user's name. */
export const NICKNAME_PREFIX = 'ACP#';
const NAME_FIELD: [number, number] = [1, 32];

export interface NicknameSetting {
  action: number;
  /** Without the "ACP#" prefix; null in a GET request. */
  name: string | null;
}

const stripPrefix = (name: string): string =>
  name.startsWith(NICKNAME_PREFIX) ? name.slice(NICKNAME_PREFIX.length) : name;

function writeNickname(p: Uint8Array, name: string): void {
  const bare = stripPrefix(name);
  if (bare.length === 0 || bare.length > NICKNAME_MAX_LENGTH) {
    throw new RangeError(
      `nickname must be 1..${NICKNAME_MAX_LENGTH} characters, got ${JSON.stringify(bare)}`,
    );
  }
  writeText(p, NICKNAME_PREFIX + bare, 'nickname', NAME_FIELD);
}

/** SET: `[01] + "ACP#name"` NUL-padded to 32 bytes; GET: `[02, 00]`. */
export function encodeNicknameRequest(s: NicknameSetting): Uint8Array {
  if (s.name === null) return encodeByteSetting(s.action, 0, 'nickname');
  const p = new Uint8Array(1 + 32);
  putU8(p, 0, s.action, 'nickname action');
  writeNickname(p, s.name);
  return p;
}

/** `[action] + "ACP#name"` NUL-padded to 32 bytes. */
export function encodeNicknameReply(s: NicknameSetting): Uint8Array {
  const p = new Uint8Array(1 + 32);
  putU8(p, 0, s.action, 'nickname action');
  if (s.name !== null) writeNickname(p, s.name);
  return p;
}

export function decodeNicknameRequest(payload: Uint8Array): NicknameSetting {
  requireLength(payload, 1, 'nickname');
  const action = u8(payload, 0);
  if (action === SettingAction.Get) return { action, name: null };
  return { action, name: stripPrefix(readText(payload, [1, payload.length - 1])) };
}

/** Replies are 33 or 17 bytes; the name field runs to the end. */
export function decodeNicknameReply(payload: Uint8Array): NicknameSetting {
  requireLength(payload, 1, 'nickname');
  return {
    action: u8(payload, 0),
    name: payload.length < 2 ? null : stripPrefix(readText(payload, [1, payload.length - 1])),
  };
}
