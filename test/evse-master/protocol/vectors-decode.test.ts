/** §9.3 vectors decode to the values of §9.4, and charger-side vectors re-encode byte for byte. */
import { describe, expect, it } from 'vitest';
import {
  bytesToHex,
  CHARGER_PASSWORD,
  Cmd,
  decodeFrame,
  decodeMessage,
  type EvseMessageType,
  encodeChargeStartResponse,
  encodeChargeStopRequest,
  encodeFee,
  encodeFrame,
  encodeHeading,
  encodeLoginInfo,
  encodePasswordError,
  encodeSingleAcStatus,
  encodeSystemTimeReport,
  encodeTemperatureUnitSetting,
  encodeVersion,
  errorNamesLsb,
  errorNamesMsb,
  type Frame,
  type MessageOf,
  pinToPassword,
  serialToString,
} from '../../../src/evse-master/protocol/index.js';
import { VECTORS, type VectorId, vectorBytes } from './vectors.js';

const TZ = 'Europe/Paris';

function decodeVector<T extends EvseMessageType>(
  id: VectorId,
  type: T,
): { frame: Frame; message: MessageOf<T> } {
  const frame = decodeFrame(vectorBytes(id));
  const message = decodeMessage(frame, { timeZone: TZ });
  expect(message.type).toBe(type);
  return { frame, message: message as MessageOf<T> };
}

/** Re-encodes with the original header and a payload from our encoder. */
function reencode(frame: Frame, payload: Uint8Array): string {
  return bytesToHex(encodeFrame({ ...frame, payload }));
}

describe('charger → client vectors', () => {
  it('A2 / K13: heading with an empty payload', () => {
    for (const id of ['A2', 'K13'] as const) {
      const { frame, message } = decodeVector(id, 'heading');
      expect(message).toEqual({ type: 'heading', command: 0x0003 });
      expect(frame.password).toEqual(CHARGER_PASSWORD);
      expect(reencode(frame, encodeHeading())).toBe(VECTORS[id]);
    }
  });

  it('A3 / B9: temperature unit GET reply, °C', () => {
    for (const id of ['A3', 'B9'] as const) {
      const { frame, message } = decodeVector(id, 'temperature_unit');
      expect(message).toEqual({
        type: 'temperature_unit',
        command: 0x0112,
        action: 2,
        unit: 1,
        unitName: 'celsius',
      });
      expect(reencode(frame, encodeTemperatureUnitSetting(message))).toBe(VECTORS[id]);
    }
  });

  it('A4: version, 36-byte payload without supportNew', () => {
    const { frame, message } = decodeVector('A4', 'version');
    expect(frame.payload.length).toBe(36);
    expect(message).toEqual({
      type: 'version',
      command: 0x0106,
      hardwareVersion: 'C.3252.112A008',
      softwareVersion: 'C.3252.112A008',
      featureBits: 0x42296d48,
      supportNew: null,
    });
    expect(reencode(frame, encodeVersion(message))).toBe(VECTORS.A4);
  });

  it('A7: system time echo, 2022-04-09 00:03:40 UTC+8 wall clock = 22:03:40Z in Paris (CEST)', () => {
    const { frame, message } = decodeVector('A7', 'system_time');
    expect(message.action).toBe(1);
    expect(message.time).toEqual({ raw: 1649433820, unixMs: Date.parse('2022-04-08T22:03:40Z') });
    expect(reencode(frame, encodeSystemTimeReport({ action: 1, time: message.time }))).toBe(VECTORS.A7);
  });

  it('A8: charge start accepted at 16 A', () => {
    const { frame, message } = decodeVector('A8', 'charge_start_response');
    expect(message).toEqual({
      type: 'charge_start_response',
      command: 0x0007,
      lineId: 1,
      reservationResult: 0,
      reservationResultName: 'immediate_start',
      startResult: 1,
      errorReason: 0,
      errorReasonName: 'none',
      maxCurrentA: 16,
      ok: true,
    });
    expect(reencode(frame, encodeChargeStartResponse(message))).toBe(VECTORS.A8);
  });

  it('B2: password error [00]', () => {
    const { frame, message } = decodeVector('B2', 'password_error');
    expect(serialToString(frame.serial)).toBe('8368555670377598');
    expect(message).toEqual({ type: 'password_error', command: 0x0155, code: 0 });
    expect(reencode(frame, encodePasswordError(message))).toBe(VECTORS.B2);
  });

  it('B3: login response of a 1-phase BS20', () => {
    const { frame, message } = decodeVector('B3', 'login_response');
    expect(serialToString(frame.serial)).toBe('8949281891483449');
    expect(message).toEqual({
      type: 'login_response',
      command: 0x0002,
      deviceType: 1,
      phases: 1,
      brand: 'BESEN',
      model: 'BS20',
      hardwareVersion: 'C.3252.112A00',
      maxPowerW: 7040,
      maxCurrentA: 32,
      hotline: 'WWW.EVSE.COM',
      capability: null,
      payloadLength: 70,
    });
    expect(reencode(frame, encodeLoginInfo(message))).toBe(VECTORS.B3);
  });

  it('B6 / B7: charge fee and service fee echo 01 01 00 00', () => {
    const b6 = decodeVector('B6', 'fee');
    expect(b6.message).toEqual({
      type: 'fee',
      command: 0x0104,
      feeKind: 'charge',
      action: 1,
      data: Uint8Array.of(1, 0, 0),
    });
    expect(reencode(b6.frame, encodeFee(b6.message))).toBe(VECTORS.B6);
    const b7 = decodeVector('B7', 'fee');
    expect(b7.message).toEqual({
      type: 'fee',
      command: 0x0105,
      feeKind: 'service',
      action: 1,
      data: Uint8Array.of(1, 0, 0),
    });
    expect(reencode(b7.frame, encodeFee(b7.message))).toBe(VECTORS.B7);
  });

  it('B8: 23-byte status with a 16-bit error field', () => {
    const { frame, message } = decodeVector('B8', 'status');
    expect(frame.payload.length).toBe(23);
    expect(message).toEqual({
      type: 'status',
      command: 0x0004,
      lineId: 1,
      l1VoltageV: 233.1,
      l1CurrentA: 0,
      l2VoltageV: null,
      l2CurrentA: null,
      l3VoltageV: null,
      l3CurrentA: null,
      powerW: 0,
      sumPowerW: 0,
      energyTotalKwh: 4111.11,
      innerTemperatureC: 14.33,
      outerTemperatureC: 14.33,
      emergencyButton: 1,
      plugState: 2,
      outputState: 2,
      currentState: 13,
      baseCurrentState: 13,
      errorBits: 0,
      errorWidthBits: 16,
      extension: new Uint8Array(0),
    });
    expect(reencode(frame, encodeSingleAcStatus(message))).toBe(VECTORS.B8);
  });

  it('K14: 3-phase charging; the power field holds one phase, ΣV·I all three', () => {
    const { frame, message } = decodeVector('K14', 'status');
    expect(message).toEqual({
      type: 'status',
      command: 0x0004,
      lineId: 1,
      l1VoltageV: 230.1,
      l1CurrentA: 16,
      l2VoltageV: 230.2,
      l2CurrentA: 15,
      l3VoltageV: 230.3,
      l3CurrentA: 14,
      powerW: 3682,
      sumPowerW: 10358.8,
      energyTotalKwh: 1234.56,
      innerTemperatureC: 25,
      outerTemperatureC: 20,
      emergencyButton: 1,
      plugState: 4,
      outputState: 1,
      currentState: 14,
      baseCurrentState: 14,
      errorBits: 0,
      errorWidthBits: 32,
      extension: new Uint8Array(0),
    });
    expect(reencode(frame, encodeSingleAcStatus(message))).toBe(VECTORS.K14);
  });

  it('K15: 1-phase idle, temperatures n/a, error bit 0x40 read both ways', () => {
    const { frame, message } = decodeVector('K15', 'status');
    expect(message).toEqual({
      type: 'status',
      command: 0x0004,
      lineId: 1,
      l1VoltageV: 229.8,
      l1CurrentA: 0,
      l2VoltageV: null,
      l2CurrentA: null,
      l3VoltageV: null,
      l3CurrentA: null,
      powerW: 0,
      sumPowerW: 0,
      energyTotalKwh: 1234.56,
      innerTemperatureC: null,
      outerTemperatureC: null,
      emergencyButton: 1,
      plugState: 1,
      outputState: 2,
      currentState: 12,
      baseCurrentState: 12,
      errorBits: 0x40,
      errorWidthBits: 32,
      extension: new Uint8Array(0),
    });
    expect(errorNamesLsb(message.errorBits)).toEqual(['emergency_stop']);
    expect(errorNamesMsb(message.errorBits, message.errorWidthBits)).toEqual(['input_power_error']);
    expect(reencode(frame, encodeSingleAcStatus(message))).toBe(VECTORS.K15);
  });
});

describe('client → charger vectors (captured)', () => {
  it('A9: OEM app charge stop with PIN 123456', () => {
    const { frame, message } = decodeVector('A9', 'charge_stop');
    expect(frame.password).toEqual(pinToPassword('123456'));
    expect(message).toEqual({ type: 'charge_stop', command: 0x8008, lineId: 1, userId: '8600797985789243' });
    expect(frame.payload.length).toBe(47);
    expect(frame.payload.subarray(17)).toEqual(new Uint8Array(30));
    expect(reencode(frame, encodeChargeStopRequest(message))).toBe(VECTORS.A9);
  });

  it('B4: evseMQTT login confirm with the garbage serial of Q9', () => {
    const { frame, message } = decodeVector('B4', 'login_confirm');
    expect(frame.password).toEqual(pinToPassword('221278'));
    expect(serialToString(frame.serial)).toBe('39ff221053cb1f00');
    expect(message).toEqual({ type: 'login_confirm', command: Cmd.LoginConfirm, flag: 1 });
  });

  it('B5: GET temperature unit [02 00]', () => {
    const { message } = decodeVector('B5', 'temperature_unit_request');
    expect(message).toEqual({
      type: 'temperature_unit_request',
      command: 0x8112,
      action: 2,
      unit: null,
      unitName: null,
    });
  });
});
