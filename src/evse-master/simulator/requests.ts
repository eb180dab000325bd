/**
 * The simulated charger's answers to client requests after login: settings (§4.12), time (§4.9),
 * version (§4.10), fee echoes, status/charging-status requests and charge start/stop (§4.6, §4.7).
 * Login and keep-alive frames are the charger's own business (simulated-bs20.ts).
 */
import { Cmd, SettingAction } from '../protocol/commands.js';
import { StopReason } from '../protocol/enums.js';
import type { EvseMessage } from '../protocol/message.js';
import { encodeChargeStartResponse, encodeChargeStopResponse } from '../protocol/messages/charge.js';
import {
  encodeFee,
  encodeLanguageSetting,
  encodeMaxCurrentSetting,
  encodeNicknameReply,
  encodeOfflineChargeSetting,
  encodeSystemTimeReport,
  encodeTemperatureUnitSetting,
  encodeVersion,
  NICKNAME_MAX_LENGTH,
} from '../protocol/messages/settings.js';
import type { ChargePoint } from './charge-point.js';
import { printableText } from './charge-session.js';
import type { DeviceClock } from './device-clock.js';
import type { SimConfig } from './options.js';
import { encodeChargingStatusPayload, encodeStatusPayload } from './telemetry.js';

/** BS20 feature word from capture A4; meaning unknown. */
const BS20_FEATURE_BITS = 0x42296d48;

export interface SimSettings {
  /** Without the "ACP#" prefix. */
  nickname: string;
  language: number;
  temperatureUnit: number;
  offlineCharge: number;
}

export interface RequestContext {
  readonly config: SimConfig;
  readonly chargePoint: ChargePoint;
  readonly deviceClock: DeviceClock;
  readonly settings: SimSettings;
  reply(command: number, payload: Uint8Array): void;
  /** A nickname SET was answered: the advertised name changes and the link drops (Q12). */
  renamed(nickname: string): void;
  /** 0x800A: the client took a charge record (chargeId when the payload carries one). */
  recordAcked(chargeId: string | null): void;
}

/** Answers one request; false when the simulator has nothing to say to it. */
export function answerRequest(ctx: RequestContext, msg: EvseMessage): boolean {
  const { chargePoint: cp, settings } = ctx;
  switch (msg.type) {
    case 'max_current_request': {
      if (msg.action === SettingAction.Set && msg.currentA !== null) cp.setConfiguredCurrent(msg.currentA);
      // Out of range: the reply carries the unchanged value, so the client can see it did not take.
      ctx.reply(
        Cmd.MaxCurrent,
        encodeMaxCurrentSetting({ action: msg.action, currentA: cp.configuredCurrentA }),
      );
      return true;
    }
    case 'nickname_request': {
      const wanted = msg.name === null ? '' : printableText(msg.name, NICKNAME_MAX_LENGTH).trim();
      const renaming = msg.action === SettingAction.Set && wanted.length > 0;
      if (renaming) settings.nickname = wanted;
      ctx.reply(Cmd.Nickname, encodeNicknameReply({ action: msg.action, name: settings.nickname }));
      if (renaming) ctx.renamed(wanted);
      return true;
    }
    case 'language_request':
      if (msg.action === SettingAction.Set && msg.language !== null) settings.language = msg.language;
      ctx.reply(Cmd.Language, encodeLanguageSetting({ action: msg.action, language: settings.language }));
      return true;
    case 'temperature_unit_request':
      if (msg.action === SettingAction.Set && msg.unit !== null) settings.temperatureUnit = msg.unit;
      ctx.reply(
        Cmd.TemperatureUnit,
        encodeTemperatureUnitSetting({ action: msg.action, unit: settings.temperatureUnit }),
      );
      return true;
    case 'offline_charge_request':
      if (msg.action === SettingAction.Set && msg.status !== null) settings.offlineCharge = msg.status;
      ctx.reply(
        Cmd.OfflineCharge,
        encodeOfflineChargeSetting({ action: msg.action, status: settings.offlineCharge }),
      );
      return true;
    case 'system_time_request': {
      if (msg.action === SettingAction.Set && msg.time !== null) ctx.deviceClock.setFromEm(msg.time.raw);
      const action = msg.action ?? SettingAction.Get;
      ctx.reply(Cmd.SystemTime, encodeSystemTimeReport({ action, time: { raw: ctx.deviceClock.nowEm() } }));
      return true;
    }
    case 'version_request':
      if (!ctx.config.answersVersion) return false;
      ctx.reply(
        Cmd.Version,
        encodeVersion({
          hardwareVersion: ctx.config.hardwareVersion,
          softwareVersion: ctx.config.softwareVersion,
          featureBits: BS20_FEATURE_BITS,
          supportNew: null,
        }),
      );
      return true;
    case 'fee_request':
      // evseMQTT's fee frames are echoed byte for byte (B6/B7).
      ctx.reply(msg.command - 0x8000, encodeFee({ action: msg.action, data: msg.data }));
      return true;
    case 'request_status_record':
      ctx.reply(Cmd.StatusRecord, encodeStatusPayload(cp, ctx.config));
      return true;
    case 'request_charging_status':
      ctx.reply(Cmd.ChargingStatusResponse, encodeChargingStatusPayload(cp, ctx.config.clock.now()));
      return true;
    case 'charge_start':
      ctx.reply(Cmd.ChargeStartResponse, encodeChargeStartResponse(cp.start(msg)));
      return true;
    case 'charge_stop':
      // `[01, 0B, 00]`: py-besen's guess; no real stop response has been published. The answer goes
      // out before the charge record the stop produces.
      ctx.reply(
        Cmd.ChargeStopResponse,
        encodeChargeStopResponse({ lineId: 1, stopResult: StopReason.AppStop, failReason: 0 }),
      );
      cp.stop(msg.userId);
      return true;
    case 'charge_record_ack':
      if (msg.command === Cmd.UploadChargeRecordAck) ctx.recordAcked(msg.chargeId);
      return true;
    case 'status_ack':
    case 'charging_status_ack':
      return true;
    default:
      return false;
  }
}
