import { describe, expect, it } from 'vitest';
import {
  CHARGER_PASSWORD,
  decodeFrame,
  describeFrame,
  type Frame,
  pinToPassword,
} from '../../../src/evse-master/protocol/index.js';
import { vectorBytes } from './vectors.js';

const TZ = { timeZone: 'Europe/Paris' };

describe('describeFrame', () => {
  it('K15: header, fields with units, state names and both error readings', () => {
    const described = describeFrame(decodeFrame(vectorBytes('K15')), TZ);
    expect(described).toEqual({
      command: '0x0004',
      commandName: 'single_ac_status',
      direction: 'charger_to_client',
      message: 'status',
      serial: '1122334455667788',
      keyType: 0,
      password: 'charger',
      payloadBytes: 25,
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
      errorBits: 64,
      errorWidthBits: 32,
      extensionHex: '',
      plugStateName: 'disconnected',
      outputStateName: 'idle',
      currentStateName: 'not_connected',
      errorBitsHex: '0x00000040',
      errorsLsb: ['emergency_stop'],
      errorsMsb: ['input_power_error'],
    });
    expect(JSON.parse(JSON.stringify(described))).toEqual(described);
  });

  it('A7: times as ISO plus raw', () => {
    expect(describeFrame(decodeFrame(vectorBytes('A7')), TZ)).toMatchObject({
      message: 'system_time',
      action: 1,
      time: '2022-04-08T22:03:40.000Z',
      timeRaw: 1649433820,
    });
  });

  it('never shows a PIN', () => {
    for (const id of ['K1', 'K10', 'A9', 'B4'] as const) {
      const described = describeFrame(decodeFrame(vectorBytes(id)), TZ);
      expect(described.password).toBe('[redacted]');
      expect(described.direction).toBe('client_to_charger');
      const text = JSON.stringify(described);
      for (const pin of ['123456', '221278', '313233343536', '323231323738']) expect(text).not.toContain(pin);
    }
  });

  it('redacts payloads that carry secrets (set PIN, BLE password, Wi-Fi passphrase)', () => {
    const setPin: Frame = {
      keyType: 0,
      serial: new Uint8Array(8),
      password: pinToPassword('123456'),
      command: 0x8102,
      payload: new TextEncoder().encode('654321'),
    };
    const described = describeFrame(setPin);
    expect(described).toMatchObject({ commandName: 'set_password', payloadHex: '[redacted]' });
    expect(JSON.stringify(described)).not.toContain('363534333231');
  });

  it('shows unknown and malformed payloads as hex', () => {
    const frame = (command: number, payload: number[]): Frame => ({
      keyType: 0,
      serial: new Uint8Array(8),
      password: CHARGER_PASSWORD,
      command,
      payload: Uint8Array.from(payload),
    });
    expect(describeFrame(frame(0x0162, [0, 1, 0xab]))).toMatchObject({
      commandName: 'get_maneuver_response',
      message: 'unknown',
      payloadHex: '0001ab',
    });
    expect(describeFrame(frame(0x0007, [1, 0]))).toMatchObject({
      message: 'malformed',
      error: 'charge start response: payload is 2 bytes, needs at least 4',
      payloadHex: '0100',
    });
    expect(describeFrame(frame(0x7777, []))).toMatchObject({
      commandName: 'unknown_0x7777',
      message: 'unknown',
    });
  });
});
