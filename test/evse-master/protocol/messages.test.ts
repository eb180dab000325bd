import { describe, expect, it } from 'vitest';
import {
  CHARGER_PASSWORD,
  type ChargingStatusInput,
  decodeChargeRecord,
  decodeChargeStartResponse,
  decodeChargeStopResponse,
  decodeChargingStatus,
  decodeFrame,
  decodeLoginInfo,
  decodeMessage,
  decodeNicknameReply,
  decodeNicknameRequest,
  decodeOfflineChargeReply,
  decodeSingleAcStatus,
  decodeSystemTime,
  decodeVersion,
  encodeChargeRecord,
  encodeChargeStartResponse,
  encodeChargeStopResponse,
  encodeChargingStatus,
  encodeLanguageSetting,
  encodeLoginInfo,
  encodeNicknameReply,
  encodeNicknameRequest,
  encodeOfflineChargeSetting,
  encodeSingleAcStatus,
  encodeVersion,
  type Frame,
  PayloadError,
  SettingAction,
} from '../../../src/evse-master/protocol/index.js';
import { buildRecordFrame180, RECORD_180 } from './vectors.js';

const TZ = 'Europe/Paris';
const frameOf = (command: number, payload: Uint8Array): Frame => ({
  keyType: 0,
  serial: new Uint8Array(8),
  password: CHARGER_PASSWORD,
  command,
  payload,
});

describe('charging status 0x0005 / 0x0006', () => {
  // The B10 capture as described in §4.5 (evseMQTT session, 2025-02-03 12:32:08 local).
  const b10: ChargingStatusInput = {
    lineId: 1,
    currentState: 14,
    chargeId: '202502031232',
    startType: 1,
    chargeType: 1,
    maxDurationMinutes: null,
    maxEnergyKwh: null,
    param3: 0xffff,
    reservationTime: { raw: 1738557128 },
    userId: 'evseMQTT',
    currentLimitA: 16,
    startTime: { raw: 1738557128 },
    elapsedS: 4574,
    energyCounterAtStartKwh: 4107.52,
    energyCounterKwh: 4111.11,
    sessionEnergyKwh: 3.59,
    price: 0,
    feeType: 0,
    fee: 0,
  };

  it('round-trips every field big-endian', () => {
    const payload = encodeChargingStatus(b10);
    expect(payload.length).toBe(74);
    expect(Array.from(payload.subarray(26, 30))).toEqual([0x67, 0xa0, 0x46, 0xc8]);
    expect(Array.from(payload.subarray(51, 55))).toEqual([0, 0, 0x11, 0xde]);
    const decoded = decodeChargingStatus(payload, { timeZone: TZ });
    expect(decoded).toEqual({
      ...b10,
      baseCurrentState: 14,
      reservationTime: { raw: 1738557128, unixMs: Date.parse('2025-02-03T11:32:08Z') },
      startTime: { raw: 1738557128, unixMs: Date.parse('2025-02-03T11:32:08Z') },
      extension: new Uint8Array(0),
    });
    expect(encodeChargingStatus(decoded)).toEqual(payload);
  });

  it('takes a "new protocol" state from byte 74 and keeps byte 1 for re-encoding', () => {
    const payload = encodeChargingStatus({ ...b10, currentState: 14, extension: Uint8Array.of(19, 0) });
    const decoded = decodeChargingStatus(payload);
    expect(decoded.currentState).toBe(19);
    expect(decoded.baseCurrentState).toBe(14);
    expect(encodeChargingStatus(decoded)).toEqual(payload);
  });

  it('needs 74 bytes', () => {
    expect(() => decodeChargingStatus(new Uint8Array(73))).toThrow(PayloadError);
    const message = decodeMessage(frameOf(0x0005, new Uint8Array(73)));
    expect(message.type).toBe('malformed');
  });
});

describe('charge record 0x0009 / 0x000A', () => {
  it('decodes the hand-built 180-byte record and keeps the log bytes raw', () => {
    const frame = decodeFrame(buildRecordFrame180());
    const record = decodeChargeRecord(frame.payload, { timeZone: TZ });
    expect(record).toMatchObject({
      lineId: 1,
      startUserId: 'evseMQTT',
      endUserId: 'evseMQTT',
      chargeId: '2025020312321337',
      hasReservation: false,
      startType: 4,
      chargeType: 2,
      param1Minutes: 180,
      param2Raw: 10000,
      param3Raw: 50000,
      stopReason: 16,
      stopReasonName: 'fixed_time_reached',
      hasStopCharge: true,
      chargedTimeS: 4574,
      startEnergyCounterKwh: 4107.52,
      stopEnergyCounterKwh: 4111.11,
      sessionEnergyKwh: 3.59,
      price: 0,
      fee: 0,
      logLength: 58,
    });
    expect(record.stopTime).toEqual({
      raw: RECORD_180.stopTimeRaw,
      unixMs: Date.parse('2025-02-03T11:32:08Z') + 4574_000,
    });
    expect(record.logBytes).toEqual(frame.payload.subarray(97));
    expect(encodeChargeRecord(record)).toEqual(frame.payload);
    expect(decodeMessage(frame).type).toBe('charge_record');
  });

  it('needs 97 bytes', () => {
    expect(() => decodeChargeRecord(new Uint8Array(96))).toThrow(
      /charge record: payload is 96 bytes, needs at least 97/,
    );
  });
});

describe('login info layouts', () => {
  const base = {
    deviceType: 12,
    brand: 'BESEN',
    model: 'BS20',
    hardwareVersion: '20.1651.113C00',
    maxPowerW: 10560,
    maxCurrentA: 16,
    hotline: 'WWW.EVSE.COM',
  };

  it('derives three phases from the type', () => {
    expect(decodeLoginInfo(encodeLoginInfo(base))).toMatchObject({ ...base, phases: 3, payloadLength: 70 });
    expect(decodeLoginInfo(encodeLoginInfo({ ...base, deviceType: 22 })).phases).toBe(3);
    expect(decodeLoginInfo(encodeLoginInfo({ ...base, deviceType: 16 })).phases).toBe(1);
  });

  it('continues long strings in the 118/119/151-byte layouts', () => {
    const long = {
      ...base,
      brand: 'A-VERY-LONG-BRAND-NAME-XY',
      model: 'MODEL-NAME-LONGER-THAN-16',
      hotline: 'support: https://example.invalid/a/very/long/path',
      capability: 9,
    };
    const p151 = encodeLoginInfo({ ...long, payloadLength: 151 });
    expect(p151.length).toBe(151);
    expect(decodeLoginInfo(p151)).toEqual({ ...long, phases: 3, payloadLength: 151 });
    const p118 = encodeLoginInfo({ ...base, hotline: long.hotline, payloadLength: 118 });
    expect(decodeLoginInfo(p118)).toMatchObject({
      hotline: long.hotline,
      capability: null,
      payloadLength: 118,
    });
    const p119 = encodeLoginInfo({ ...base, hotline: long.hotline, capability: 3, payloadLength: 119 });
    expect(decodeLoginInfo(p119)).toMatchObject({ hotline: long.hotline, capability: 3 });
    expect(() => encodeLoginInfo({ ...base, brand: long.brand })).toThrow(
      /brand is 25 characters, the field holds 16/,
    );
  });

  it('needs the fields up to max current', () => {
    expect(() => decodeLoginInfo(new Uint8Array(53))).toThrow(PayloadError);
    expect(decodeLoginInfo(encodeLoginInfo(base).subarray(0, 54)).hotline).toBe('');
  });
});

describe('status layouts', () => {
  const status = {
    lineId: 1,
    l1VoltageV: 229.8,
    l1CurrentA: 6.5,
    l2VoltageV: null,
    l2CurrentA: null,
    l3VoltageV: null,
    l3CurrentA: null,
    powerW: 1494,
    energyTotalKwh: 1475.85,
    innerTemperatureC: -5.5,
    outerTemperatureC: 41.25,
    emergencyButton: 1,
    plugState: 4,
    outputState: 1,
    currentState: 14,
    errorBits: 0x8001,
    errorWidthBits: 16 as const,
  };

  it('divides integers (147585 → 1475.85 exactly) and handles negative temperatures', () => {
    const decoded = decodeSingleAcStatus(encodeSingleAcStatus(status));
    expect(decoded.energyTotalKwh).toBe(1475.85);
    expect(decoded.innerTemperatureC).toBe(-5.5);
    expect(decoded.outerTemperatureC).toBe(41.25);
    expect(decoded.sumPowerW).toBe(1493.7);
    expect(decoded.errorBits).toBe(0x8001);
  });

  it('reads 24-byte (16-bit errors + 1) and 25-byte (32-bit errors) payloads', () => {
    const p23 = encodeSingleAcStatus(status);
    const p24 = encodeSingleAcStatus({ ...status, extension: Uint8Array.of(7) });
    expect(p24.length).toBe(24);
    expect(decodeSingleAcStatus(p24)).toMatchObject({ errorWidthBits: 16, extension: Uint8Array.of(7) });
    const p25 = encodeSingleAcStatus({ ...status, errorWidthBits: 32, errorBits: 0x80000000 });
    expect(p25.length).toBe(25);
    expect(decodeSingleAcStatus(p25)).toMatchObject({ errorWidthBits: 32, errorBits: 0x80000000 });
    expect(p23.length).toBe(23);
    expect(() => decodeSingleAcStatus(p23.subarray(0, 22))).toThrow(PayloadError);
  });

  it('refuses layouts the decoder would read differently', () => {
    expect(() => encodeSingleAcStatus({ ...status, extension: Uint8Array.of(1, 2) })).toThrow(RangeError);
    expect(() =>
      encodeSingleAcStatus({ ...status, l2VoltageV: 230, l2CurrentA: 0, l3VoltageV: 230, l3CurrentA: 0 }),
    ).toThrow(/32-bit/);
  });

  it('lets a "new protocol" byte 33 of 18/19 override the state', () => {
    const threePhase = {
      ...status,
      errorWidthBits: 32 as const,
      l2VoltageV: 230,
      l2CurrentA: 1,
      l3VoltageV: 231,
      l3CurrentA: 2,
    };
    const payload = encodeSingleAcStatus({ ...threePhase, extension: Uint8Array.of(18) });
    const decoded = decodeSingleAcStatus(payload);
    expect(decoded).toMatchObject({ currentState: 18, baseCurrentState: 14 });
    expect(encodeSingleAcStatus(decoded)).toEqual(payload);
    const other = decodeSingleAcStatus(encodeSingleAcStatus({ ...threePhase, extension: Uint8Array.of(5) }));
    expect(other.currentState).toBe(14);
  });

  it('0x000D (status record) uses the same layout', () => {
    const message = decodeMessage(frameOf(0x000d, encodeSingleAcStatus(status)));
    expect(message).toMatchObject({ type: 'status', command: 0x000d, l1CurrentA: 6.5 });
  });
});

describe('charge start / stop responses', () => {
  it('applies the success rule: errorReason 0 and reservationResult 0, 1 or 4', () => {
    const ok = (reservationResult: number, errorReason: number) =>
      decodeChargeStartResponse(
        encodeChargeStartResponse({
          lineId: 1,
          reservationResult,
          startResult: 1,
          errorReason,
          maxCurrentA: 16,
        }),
      ).ok;
    expect([0, 1, 4].map((r) => ok(r, 0))).toEqual([true, true, true]);
    expect([2, 3, 5, 6, 7].map((r) => ok(r, 0))).toEqual([false, false, false, false, false]);
    expect(ok(0, 1)).toBe(false);
    const refused = decodeChargeStartResponse(Uint8Array.of(1, 0, 0, 3, 16));
    expect(refused).toMatchObject({ ok: false, errorReasonName: 'already_charging' });
    expect(decodeChargeStartResponse(Uint8Array.of(1, 3, 0, 0))).toMatchObject({
      maxCurrentA: null,
      reservationResultName: 'more_than_24h_ahead',
    });
    expect(() => decodeChargeStartResponse(Uint8Array.of(1, 0, 1))).toThrow(PayloadError);
  });

  it('stop response [01 0B 00]', () => {
    const payload = encodeChargeStopResponse({ lineId: 1, stopResult: 11, failReason: 0 });
    expect(Array.from(payload)).toEqual([1, 0x0b, 0]);
    expect(decodeChargeStopResponse(payload)).toEqual({
      lineId: 1,
      stopResult: 11,
      stopResultName: 'app_stop',
      failReason: 0,
      ok: true,
      extension: new Uint8Array(0),
    });
    expect(decodeChargeStopResponse(Uint8Array.of(1, 0, 2, 9, 9))).toMatchObject({
      ok: false,
      extension: Uint8Array.of(9, 9),
    });
  });
});

describe('settings', () => {
  it('nickname: strips ACP#, limits to 11 characters, reads 33- and 17-byte replies', () => {
    expect(encodeNicknameRequest({ action: 1, name: 'ACP#Garage' })).toEqual(
      encodeNicknameRequest({ action: 1, name: 'Garage' }),
    );
    expect(() => encodeNicknameRequest({ action: 1, name: 'TwelveChars!' })).toThrow(/1\.\.11 characters/);
    expect(() => encodeNicknameRequest({ action: 1, name: '' })).toThrow(RangeError);
    expect(() => encodeNicknameRequest({ action: 1, name: 'Café' })).toThrow(/ASCII/);
    expect(Array.from(encodeNicknameRequest({ action: SettingAction.Get, name: null }))).toEqual([2, 0]);
    expect(decodeNicknameRequest(Uint8Array.of(2, 0))).toEqual({ action: 2, name: null });
    const reply = encodeNicknameReply({ action: 2, name: 'EVSE0158' });
    expect(reply.length).toBe(33);
    expect(decodeNicknameReply(reply)).toEqual({ action: 2, name: 'EVSE0158' });
    expect(decodeNicknameReply(reply.subarray(0, 17))).toEqual({ action: 2, name: 'EVSE0158' });
  });

  it('language and offline charge carry [action, value]', () => {
    expect(Array.from(encodeLanguageSetting({ action: 1, language: 3 }))).toEqual([1, 3]);
    expect(decodeMessage(frameOf(0x010f, Uint8Array.of(2, 3)))).toEqual({
      type: 'language',
      command: 0x010f,
      action: 2,
      language: 3,
      languageName: 'german',
    });
    expect(Array.from(encodeOfflineChargeSetting({ action: 1, status: 1 }))).toEqual([1, 1]);
    expect(decodeOfflineChargeReply(Uint8Array.of(2, 0))).toEqual({
      action: 2,
      status: 0,
      statusName: 'enabled',
    });
    expect(decodeOfflineChargeReply(Uint8Array.of(2))).toEqual({ action: 2, status: null, statusName: null });
    expect(decodeMessage(frameOf(0x810d, Uint8Array.of(2, 0)))).toMatchObject({
      type: 'offline_charge_request',
      status: null,
    });
    expect(decodeMessage(frameOf(0x010d, new Uint8Array(0))).type).toBe('malformed');
  });

  it('system time tolerates short unsolicited payloads', () => {
    expect(decodeSystemTime(new Uint8Array(0))).toEqual({ action: null, time: null });
    expect(decodeSystemTime(Uint8Array.of(0, 1, 2))).toEqual({ action: 0, time: null });
    expect(decodeSystemTime(Uint8Array.of(0, 0, 0, 0, 0))).toEqual({
      action: 0,
      time: { raw: 0, unixMs: null },
    });
    expect(decodeMessage(frameOf(0x0101, Uint8Array.of(0, 0x67))).type).toBe('system_time');
  });

  it('version with the optional supportNew byte (37 bytes)', () => {
    const v = { hardwareVersion: 'C.3252.112A008', softwareVersion: 'S1', featureBits: 1, supportNew: 1 };
    expect(encodeVersion(v).length).toBe(37);
    expect(decodeVersion(encodeVersion(v))).toEqual(v);
    expect(() => decodeVersion(new Uint8Array(35))).toThrow(PayloadError);
  });
});

describe('decodeMessage', () => {
  it('reports unknown commands with their payload', () => {
    expect(decodeMessage(frameOf(0x0162, Uint8Array.of(1, 2)))).toEqual({
      type: 'unknown',
      command: 0x0162,
      payload: Uint8Array.of(1, 2),
    });
  });

  it('reports short payloads as malformed with the reason instead of throwing', () => {
    expect(decodeMessage(frameOf(0x0004, new Uint8Array(10)))).toEqual({
      type: 'malformed',
      command: 0x0004,
      error: 'status: payload is 10 bytes, needs at least 23',
      payload: new Uint8Array(10),
    });
  });
});
