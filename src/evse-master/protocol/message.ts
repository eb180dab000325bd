/**
 * Frame → typed message. `decodeMessage` never throws: unknown commands become `unknown`, payloads a
 * decoder cannot read become `malformed` (with the reason), so external bytes can't crash a caller.
 */
import { Cmd } from './commands.js';
import type { Frame } from './frame.js';
import {
  type ChargeStartRequest,
  type ChargeStartResponse,
  type ChargeStopRequest,
  type ChargeStopResponse,
  decodeChargeStartRequest,
  decodeChargeStartResponse,
  decodeChargeStopRequest,
  decodeChargeStopResponse,
} from './messages/charge.js';
import { type ChargingStatus, decodeChargingStatus } from './messages/charging-status.js';
import { decodeFlag, type FlagPayload } from './messages/keepalive.js';
import { decodeLoginInfo, type LoginInfo } from './messages/login.js';
import { decodePasswordError, type PasswordError } from './messages/password-error.js';
import {
  type ChargeRecord,
  type ChargeRecordAck,
  decodeChargeRecord,
  decodeChargeRecordAck,
} from './messages/record.js';
import {
  decodeFee,
  decodeLanguageReply,
  decodeLanguageRequest,
  decodeMaxCurrentReply,
  decodeMaxCurrentRequest,
  decodeNicknameReply,
  decodeNicknameRequest,
  decodeOfflineChargeReply,
  decodeOfflineChargeRequest,
  decodeSystemTime,
  decodeTemperatureUnitReply,
  decodeTemperatureUnitRequest,
  decodeVersion,
  type FeeSetting,
  type LanguageSetting,
  type MaxCurrentSetting,
  type NicknameSetting,
  type OfflineChargeSetting,
  type SystemTime,
  type TemperatureUnitSetting,
  type VersionInfo,
} from './messages/settings.js';
import { decodeSingleAcStatus, type SingleAcStatus } from './messages/status.js';

export { describeFrame } from './describe.js';

/** Every message carries its discriminant and the command id it came from. */
type Msg<T extends string, Fields = unknown> = { type: T; command: number } & Fields;
type FeeKind = { feeKind: 'charge' | 'service' };

export type EvseMessage =
  // charger → client
  | Msg<'login_beacon', LoginInfo>
  | Msg<'login_response', LoginInfo>
  | Msg<'heading'>
  | Msg<'status', SingleAcStatus>
  | Msg<'charging_status', ChargingStatus>
  | Msg<'charge_start_response', ChargeStartResponse>
  | Msg<'charge_stop_response', ChargeStopResponse>
  | Msg<'charge_record', ChargeRecord>
  | Msg<'system_time', SystemTime>
  | Msg<'fee', FeeSetting & FeeKind>
  | Msg<'version', VersionInfo>
  | Msg<'max_current', MaxCurrentSetting>
  | Msg<'nickname', NicknameSetting>
  | Msg<'offline_charge', OfflineChargeSetting>
  | Msg<'language', LanguageSetting>
  | Msg<'temperature_unit', TemperatureUnitSetting>
  | Msg<'password_error', PasswordError>
  // client → charger
  | Msg<'login_confirm', FlagPayload>
  | Msg<'request_login', FlagPayload>
  | Msg<'heading_response', FlagPayload>
  | Msg<'status_ack', FlagPayload>
  | Msg<'charging_status_ack', FlagPayload>
  | Msg<'request_charging_status', FlagPayload>
  | Msg<'charge_start', ChargeStartRequest>
  | Msg<'charge_stop', ChargeStopRequest>
  | Msg<'charge_record_ack', ChargeRecordAck>
  | Msg<'request_status_record', FlagPayload>
  | Msg<'system_time_request', SystemTime>
  | Msg<'fee_request', FeeSetting & FeeKind>
  | Msg<'version_request'>
  | Msg<'max_current_request', MaxCurrentSetting>
  | Msg<'nickname_request', NicknameSetting>
  | Msg<'offline_charge_request', OfflineChargeSetting>
  | Msg<'language_request', LanguageSetting>
  | Msg<'temperature_unit_request', TemperatureUnitSetting>
  // anything else
  | Msg<'unknown', { payload: Uint8Array }>
  | Msg<'malformed', { error: string; payload: Uint8Array }>;

export type EvseMessageType = EvseMessage['type'];
/** The variant of EvseMessage with the given type, e.g. `MessageOf<'status'>`. */
export type MessageOf<T extends EvseMessageType> = Extract<EvseMessage, { type: T }>;

export interface DecodeOptions {
  /** IANA zone for EM timestamps; default the process's local zone. */
  timeZone?: string;
}

function decodePayload(command: number, p: Uint8Array, options: DecodeOptions): EvseMessage {
  const tz = { timeZone: options.timeZone };
  switch (command) {
    case Cmd.LoginBeacon:
      return { type: 'login_beacon', command, ...decodeLoginInfo(p) };
    case Cmd.LoginResponse:
      return { type: 'login_response', command, ...decodeLoginInfo(p) };
    case Cmd.Heading:
      return { type: 'heading', command };
    case Cmd.Status:
    case Cmd.StatusRecord:
      return { type: 'status', command, ...decodeSingleAcStatus(p) };
    case Cmd.ChargingStatus:
    case Cmd.ChargingStatusResponse:
      return { type: 'charging_status', command, ...decodeChargingStatus(p, tz) };
    case Cmd.ChargeStartResponse:
      return { type: 'charge_start_response', command, ...decodeChargeStartResponse(p) };
    case Cmd.ChargeStopResponse:
      return { type: 'charge_stop_response', command, ...decodeChargeStopResponse(p) };
    case Cmd.CurrentChargeRecord:
    case Cmd.UploadChargeRecord:
      return { type: 'charge_record', command, ...decodeChargeRecord(p, tz) };
    case Cmd.SystemTime:
      return { type: 'system_time', command, ...decodeSystemTime(p, tz) };
    case Cmd.ChargeFee:
    case Cmd.ServiceFee:
      return {
        type: 'fee',
        command,
        feeKind: command === Cmd.ChargeFee ? 'charge' : 'service',
        ...decodeFee(p),
      };
    case Cmd.Version:
      return { type: 'version', command, ...decodeVersion(p) };
    case Cmd.MaxCurrent:
      return { type: 'max_current', command, ...decodeMaxCurrentReply(p) };
    case Cmd.Nickname:
      return { type: 'nickname', command, ...decodeNicknameReply(p) };
    case Cmd.OfflineCharge:
      return { type: 'offline_charge', command, ...decodeOfflineChargeReply(p) };
    case Cmd.Language:
      return { type: 'language', command, ...decodeLanguageReply(p) };
    case Cmd.TemperatureUnit:
      return { type: 'temperature_unit', command, ...decodeTemperatureUnitReply(p) };
    case Cmd.PasswordError:
      return { type: 'password_error', command, ...decodePasswordError(p) };
    case Cmd.LoginConfirm:
      return { type: 'login_confirm', command, ...decodeFlag(p) };
    case Cmd.RequestLogin:
      return { type: 'request_login', command, ...decodeFlag(p) };
    case Cmd.HeadingResponse:
      return { type: 'heading_response', command, ...decodeFlag(p) };
    case Cmd.StatusAck:
      return { type: 'status_ack', command, ...decodeFlag(p) };
    case Cmd.ChargingStatusAck:
      return { type: 'charging_status_ack', command, ...decodeFlag(p) };
    case Cmd.RequestChargingStatus:
      return { type: 'request_charging_status', command, ...decodeFlag(p) };
    case Cmd.ChargeStart:
      return { type: 'charge_start', command, ...decodeChargeStartRequest(p, tz) };
    case Cmd.ChargeStop:
      return { type: 'charge_stop', command, ...decodeChargeStopRequest(p) };
    case Cmd.ChargeRecordAck:
    case Cmd.UploadChargeRecordAck:
      return { type: 'charge_record_ack', command, ...decodeChargeRecordAck(p) };
    case Cmd.RequestStatusRecord:
      return { type: 'request_status_record', command, ...decodeFlag(p) };
    case Cmd.SetGetSystemTime:
      return { type: 'system_time_request', command, ...decodeSystemTime(p, tz) };
    case Cmd.SetGetChargeFee:
    case Cmd.SetGetServiceFee:
      return {
        type: 'fee_request',
        command,
        feeKind: command === Cmd.SetGetChargeFee ? 'charge' : 'service',
        ...decodeFee(p),
      };
    case Cmd.GetVersion:
      return { type: 'version_request', command };
    case Cmd.SetGetMaxCurrent:
      return { type: 'max_current_request', command, ...decodeMaxCurrentRequest(p) };
    case Cmd.SetGetNickname:
      return { type: 'nickname_request', command, ...decodeNicknameRequest(p) };
    case Cmd.SetGetOfflineCharge:
      return { type: 'offline_charge_request', command, ...decodeOfflineChargeRequest(p) };
    case Cmd.SetGetLanguage:
      return { type: 'language_request', command, ...decodeLanguageRequest(p) };
    case Cmd.SetGetTemperatureUnit:
      return { type: 'temperature_unit_request', command, ...decodeTemperatureUnitRequest(p) };
    default:
      return { type: 'unknown', command, payload: p };
  }
}

/** Typed view of a frame's payload. Never throws. */
export function decodeMessage(frame: Frame, options: DecodeOptions = {}): EvseMessage {
  try {
    return decodePayload(frame.command, frame.payload, options);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { type: 'malformed', command: frame.command, error: message, payload: frame.payload };
  }
}
